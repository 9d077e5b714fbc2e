import { afterAll, beforeAll } from 'vitest';
import { LocalStack, type LocalStackOptions } from '../../scripts/stack/local-stack.js';
import { envoyForTests } from './envoy-for-tests.js';

/** A started stack plus the log lines it printed, for a failure message that explains itself. */
export interface StackUnderTest {
  stack: LocalStack;
  /** The last lines printed by Envoy and the replicas, newest last. */
  recentLines(): string;
}

/** Distinct 127.x.y.0/24 per stack, so stacks in different test files never share replica addresses. */
function randomReplicaPrefix(): string {
  const octet = (): number => 10 + Math.floor(Math.random() * 240);
  return `127.${octet()}.${octet()}`;
}

/**
 * Starts a local stack (real replicas, DNS responder, real Envoy) on loopback with free ports, and waits until
 * Envoy reports every replica healthy. Stop it in afterAll/afterEach with `stack.stop()`.
 */
export async function startStack(options: Partial<Omit<LocalStackOptions, 'envoyBinary'>> = {}): Promise<StackUnderTest> {
  const envoy = await envoyForTests();
  const lines: string[] = [];
  const stack = new LocalStack({
    envoyBinary: envoy.path,
    replicas: 3,
    replicaAddressPrefix: randomReplicaPrefix(),
    serverEnv: { LOG_FORMAT: 'text', ...options.serverEnv },
    ...options,
    onLine: (source, line) => {
      lines.push(`${source} | ${line}`);
      if (lines.length > 400) lines.shift();
    },
  });
  try {
    await stack.start();
    await stack.waitForHealthy(options.replicas ?? 3, 20_000);
  } catch (error) {
    await stack.stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${lines.slice(-60).join('\n')}`);
  }
  return { stack, recentLines: () => lines.slice(-80).join('\n') };
}

/**
 * Starts a stack before the file's tests and stops it after them. The returned object reads like the started
 * stack (`lab.stack`, `lab.recentLines()`), and throws if a test touches it before beforeAll has run.
 */
export function useLocalStack(options: Partial<Omit<LocalStackOptions, 'envoyBinary'>> = {}): StackUnderTest {
  let started: StackUnderTest | undefined;
  beforeAll(async () => {
    started = await startStack(options);
  });
  afterAll(async () => {
    await started?.stack.stop();
  });
  const current = (): StackUnderTest => {
    if (!started) throw new Error('the local stack is not started (use it inside a test)');
    return started;
  };
  return {
    get stack() {
      return current().stack;
    },
    recentLines: () => current().recentLines(),
  };
}
