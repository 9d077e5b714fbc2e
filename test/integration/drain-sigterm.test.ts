// Graceful drain: SIGTERM one replica under load. It turns NOT_SERVING, Envoy stops routing to it, in-flight
// calls finish, and it exits within its grace period. The client sees no failure.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CallLoop } from '../helpers/call-loop.js';
import { startStack, type StackUnderTest } from '../helpers/local-stack-fixture.js';
import { pollUntil } from '../../scripts/local/poll-until.js';

const DRAIN_DELAY_MS = 3000;
const SHUTDOWN_TIMEOUT_MS = 5000;

let lab: StackUnderTest;

beforeAll(async () => {
  lab = await startStack({
    replicas: 3,
    // The Compose values; stop_grace_period (10 s) is longer than their sum.
    serverEnv: { DRAIN_DELAY_MS: String(DRAIN_DELAY_MS), SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
  });
});

afterAll(async () => {
  await lab?.stack.stop();
});

test('SIGTERM under load: zero failed calls, and the replica exits 0 within its grace period', async () => {
  const leaving = lab.stack.replica('grpc-server-2');
  const leavingAddress = `${leaving.address}:${leaving.port}`;
  // Add latency so calls are really in flight on the leaving replica when it drains.
  await lab.control('grpc-server-2').update({ latencyMs: 50 });
  const loop = new CallLoop(lab.stack.envoyTarget, { intervalMs: 20 });
  let exitCode: number | NodeJS.Signals;
  let exitMs: number;
  try {
    await pollUntil('calls to reach grpc-server-2', () => loop.firstAnsweredBy('grpc-server-2'), { timeoutMs: 5000 });
    const termAt = loop.now();
    exitCode = await lab.stack.signalReplica('grpc-server-2', 'SIGTERM', DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + 2000);
    exitMs = loop.now() - termAt;
    console.log(`drain: grpc-server-2 exited ${exitCode} after ${exitMs.toFixed(0)} ms`);
    await pollUntil('the drained host to leave /clusters', async () => !(await lab.stack.hosts()).some((h) => h.address === leavingAddress), {
      timeoutMs: 5000,
    });
    const lastCall = [...loop.calls].reverse().find((c) => c.result.ok && c.result.hostname === 'grpc-server-2');
    console.log(`drain: last call answered by grpc-server-2 started ${((lastCall?.startedAtMs ?? termAt) - termAt).toFixed(0)} ms after SIGTERM`);
  } finally {
    await loop.stop();
  }
  expect(exitCode).toBe(0);
  expect(exitMs).toBeLessThan(DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS);
  expect(loop.failures, `${loop.describeFailures()}\n${lab.recentLines()}`).toHaveLength(0);
  expect(loop.calls.length).toBeGreaterThan(150);
});
