import { request } from 'node:http';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type ClientReadableStream,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { GreeterClient, type SayHelloResponse } from '../../gen/greeter/v1/greeter.js';
import type { ExitStatus } from '../../scripts/stack/managed-process.js';
import { childEnv, killAll, TsProcess, type ChildVars } from '../helpers/ts-process.js';
import { controlTokenFile, readControlToken } from '../../server/src/control-access.js';

/*
 * Helpers for integration tests of the greeter server: spawn the real server (and its CLI and probe)
 * as child processes on loopback, read their real ports from the `listening` line, and talk real gRPC.
 */

// Variables the server or CLI read: never inherited from the shell running the tests.
const SERVER_VARS = [
  'GRPC_HOST',
  'GRPC_PORT',
  'REPLICA_NAME',
  'CONTROL_HOST',
  'CONTROL_PORT',
  'METRICS_PORT',
  'DRAIN_DELAY_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'LOG_FORMAT',
  'LOG_CALLS',
];

const running = new Set<TsProcess>();

const LISTENING_PATTERN =
  /\blistening\b.*\bgrpc"?[=:]"?127\.0\.0\.1:(\d+).*\bcontrol"?[=:]"?127\.0\.0\.1:(\d+).*\bmetrics"?[=:]"?127\.0\.0\.1:(\d+)/;

/** How a finished process ended and what it printed. */
export interface ProcessResult extends ExitStatus {
  stdout: string;
  stderr: string;
}

/** A running server process started by startServer. */
export interface ServerProcess {
  signal(signal: NodeJS.Signals): void;
  /** 127.0.0.1:<real gRPC port>. */
  grpcAddress: string;
  grpcPort: number;
  controlPort: number;
  /** Where GET /metrics answers, on 127.0.0.1. */
  metricsPort: number;
  /** Every stdout line so far (JSON objects unless the test asked for LOG_FORMAT=text). */
  lines: string[];
  stderr(): string;
  /** Resolves with the first stdout line (past or future) matching, or rejects after timeoutMs. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited (rejects after timeoutMs). */
  exited(timeoutMs?: number): Promise<ExitStatus>;
}

/** Spawns `node --import tsx <script>` from the repo root, without the shell's server variables, for killAllProcesses. */
function spawnTs(script: string, args: string[], env: ChildVars): TsProcess {
  const child = new TsProcess(script, args, childEnv(SERVER_VARS, env));
  running.add(child);
  return child;
}

/** Runs a TypeScript program to completion (killed after timeoutMs) and returns its exit and output. */
export async function runTs(script: string, args: string[], env: ChildVars, timeoutMs = 20_000): Promise<ProcessResult> {
  const child = spawnTs(script, args, env);
  const timer = setTimeout(() => child.signal('SIGKILL'), timeoutMs);
  const exit = await child.ended;
  clearTimeout(timer);
  return { ...exit, stdout: child.stdout, stderr: child.stderr };
}

/** Runs greeterctl with the given arguments. */
export function runCli(args: string[], env: ChildVars = {}): Promise<ProcessResult> {
  return runTs('server/src/control-cli.ts', args, env);
}

/** Runs the Compose health probe against GRPC_PORT=port. */
export function runProbe(port: number): Promise<ProcessResult> {
  return runTs('server/src/health-probe.ts', [], { GRPC_PORT: String(port) });
}

/**
 * Starts the real server on 127.0.0.1 with ephemeral ports and waits for its `listening` line.
 * Defaults: LOG_FORMAT=json, REPLICA_NAME=test-replica; `env` overrides.
 */
export async function startServer(env: ChildVars = {}, timeoutMs = 20_000): Promise<ServerProcess> {
  const child = spawnTs('server/src/main.ts', [], {
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    CONTROL_HOST: '127.0.0.1',
    CONTROL_PORT: '0',
    METRICS_PORT: '0',
    REPLICA_NAME: 'test-replica',
    LOG_FORMAT: 'json',
    ...env,
  });
  const waitForLine = (match: (line: string) => boolean, waitMs = 10_000): Promise<string> =>
    child.until('a matching server line', () => child.lines.find(match), waitMs);

  // Text: `... listening grpc=127.0.0.1:P control=127.0.0.1:Q metrics=127.0.0.1:R`; JSON: `"event":"listening","grpc":"127.0.0.1:P",...`.
  const listeningLine = await waitForLine((line) => LISTENING_PATTERN.test(line), timeoutMs);
  const [, grpcPortText, controlPortText, metricsPortText] = LISTENING_PATTERN.exec(listeningLine)!;
  const grpcPort = Number(grpcPortText);
  const controlPort = Number(controlPortText);
  return {
    signal: (signal) => child.signal(signal),
    grpcAddress: `127.0.0.1:${grpcPort}`,
    grpcPort,
    controlPort,
    metricsPort: Number(metricsPortText),
    lines: child.lines,
    stderr: () => child.stderr,
    waitForLine,
    exited: (waitMs = 15_000) => child.waitForExit(waitMs),
  };
}

/** SIGKILLs every process these helpers started that is still running; call in afterEach/afterAll. */
export function killAllProcesses(): Promise<void> {
  return killAll(running);
}

/** Outcome of one SayHello call: the reply, or the gRPC error. */
export type CallOutcome = { ok: true; reply: SayHelloResponse } | { ok: false; error: ServiceError };

/** A greeter client for a server address; close it when done. */
export function greeterClient(address: string): GreeterClient {
  return new GreeterClient(address, credentials.createInsecure());
}

/** Calls SayHello and resolves with the reply or the error (never rejects). */
export function sayHello(client: GreeterClient, name: string, deadlineMs = 5000): Promise<CallOutcome> {
  return new Promise((resolve) => {
    client.sayHello({ name }, new Metadata(), { deadline: Date.now() + deadlineMs }, (error, reply) => {
      resolve(error ? { ok: false, error } : { ok: true, reply });
    });
  });
}

/** The grpc.health.v1 client surface the tests use. */
export interface HealthClient {
  check(
    request: { service: string },
    options: { deadline: number },
    callback: (error: ServiceError | null, response?: { status: string }) => void,
  ): void;
  watch(request: { service: string }): ClientReadableStream<{ status: string }>;
  close(): void;
}

/** A grpc.health.v1.Health client, built from the proto grpc-health-check ships. */
export function healthClient(address: string): HealthClient {
  const Constructor = makeGenericClientConstructor(healthService as unknown as ServiceDefinition, 'Health');
  return new Constructor(address, credentials.createInsecure()) as unknown as HealthClient;
}

/** Health/Check for one service name; resolves to its status or rejects with the gRPC error. */
export function checkHealth(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.check({ service }, { deadline: Date.now() + 5000 }, (error, response) => {
      if (error) reject(error);
      else resolve(response?.status ?? 'UNKNOWN');
    });
  });
}

/**
 * Calls the control API (GET /state, POST /state, POST /reset, ...) as greeterctl does: with the token the replica
 * wrote for its control address, and a JSON body. `headers` replaces any of those (to test the refusals).
 */
export function control(
  port: number,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string | undefined> = {},
): Promise<{ status: number; body: unknown }> {
  const token = readControlToken(controlTokenFile('127.0.0.1', port));
  const sent: Record<string, string> = {};
  const defaults = {
    authorization: token === undefined ? undefined : `Bearer ${token}`,
    'content-type': method === 'POST' ? 'application/json' : undefined,
  };
  for (const [name, value] of Object.entries({ ...defaults, ...headers })) if (value !== undefined) sent[name] = value;
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers: sent }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          reject(new Error(`${method} ${path} answered ${response.statusCode} with non-JSON ${JSON.stringify(text)}`));
        }
      });
    });
    outgoing.on('error', reject);
    outgoing.end(method === 'POST' ? (body ?? '{}') : body);
  });
}
