import { Server, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import {
  GreeterService,
  type SayHelloRequest,
  type SayHelloResponse,
} from '../../gen/greeter/v1/greeter.js';
import { childEnv, killAll, TsProcess } from '../helpers/ts-process.js';

/** Env vars the client reads; cleared for spawned clients so the developer's shell cannot change a test. */
const CLIENT_ENV_VARS = [
  'ENVOY_ADDRESS',
  'CALL_INTERVAL_MS',
  'CALL_DEADLINE_MS',
  'SUMMARY_EVERY_S',
  'CALL_COUNT',
  'GREET_NAME',
  'LOG_FORMAT',
];

/** A running `client/src/main.ts` process with its output collected line by line. */
export class ClientProcess extends TsProcess {
  constructor(args: readonly string[], env: Record<string, string> = {}) {
    super('client/src/main.ts', args, childEnv(CLIENT_ENV_VARS, env));
  }

  /** Waits until `count` lines match `predicate` (output so far included), failing after `timeoutMs`. */
  waitForLines(predicate: (line: string) => boolean, count: number, timeoutMs: number): Promise<string[]> {
    return this.until(
      `${count} matching lines`,
      () => {
        const matching = this.lines.filter(predicate);
        return matching.length >= count && matching;
      },
      timeoutMs,
    );
  }
}

const spawned = new Set<ClientProcess>();

/** Starts the real client (`node --import tsx client/src/main.ts ...args`); killClients() ends it. */
export function spawnClient(args: readonly string[], env: Record<string, string> = {}): ClientProcess {
  const client = new ClientProcess(args, env);
  spawned.add(client);
  return client;
}

/** Kills every client started by spawnClient; call from afterEach. */
export function killClients(): Promise<void> {
  return killAll(spawned);
}

/** How the in-test greeter answers; mutable while it runs. */
export interface GreeterBehaviour {
  /** Replica names answered in turn, so one server can stand in for several replicas. */
  hostnames: string[];
  /** Every n-th call (1-based) fails with failCode; 0 = never. */
  failEvery: number;
  failCode: status;
  /** Delay before answering, to keep calls in flight. */
  delayMs: number;
}

/** A real grpc-js greeter server on 127.0.0.1, standing in for Envoy and the replicas. */
export interface TestGreeter {
  port: number;
  behaviour: GreeterBehaviour;
  /** Names received, in order. */
  names: string[];
  /** The client address (ip:port) of each call, to see how many connections carried them. */
  peers: string[];
  stop(): Promise<void>;
}

const greeters = new Set<TestGreeter>();

/** Starts a greeter on 127.0.0.1:`port` (0 = any free port); stopGreeters() ends it. */
export async function startGreeter(port = 0, behaviour: Partial<GreeterBehaviour> = {}): Promise<TestGreeter> {
  const settings: GreeterBehaviour = { hostnames: ['replica-a'], failEvery: 0, failCode: status.UNAVAILABLE, delayMs: 0, ...behaviour };
  const names: string[] = [];
  const peers: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let served = 0;
  const server = new Server();
  server.addService(GreeterService, {
    sayHello: (call: ServerUnaryCall<SayHelloRequest, SayHelloResponse>, callback: sendUnaryData<SayHelloResponse>) => {
      served++;
      names.push(call.request.name);
      peers.push(call.getPeer());
      const turn = served;
      const answer = (): void => {
        if (settings.failEvery > 0 && turn % settings.failEvery === 0) {
          callback({ code: settings.failCode, details: `injected failure on call ${turn}` });
          return;
        }
        const hostname = settings.hostnames[(turn - 1) % settings.hostnames.length] ?? 'replica-a';
        callback(null, { message: `Hello, ${call.request.name}`, hostname });
      };
      if (settings.delayMs === 0) {
        answer();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, settings.delayMs);
      timers.add(timer);
    },
  });
  const boundPort = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, actual) =>
      error ? reject(error) : resolve(actual),
    );
  });
  const greeter: TestGreeter = {
    port: boundPort,
    behaviour: settings,
    names,
    peers,
    stop: async () => {
      greeters.delete(greeter);
      for (const timer of timers) clearTimeout(timer);
      server.forceShutdown();
    },
  };
  greeters.add(greeter);
  return greeter;
}

/** Stops every greeter started by startGreeter; call from afterEach. */
export async function stopGreeters(): Promise<void> {
  await Promise.all([...greeters].map((greeter) => greeter.stop()));
}

/** A call line parsed from the client's text output. */
export interface TextCallLine {
  seq: number;
  hostname: string;
  latencyMs: number;
  status: string;
  details: string;
}

const CALL_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z #(\d+) (\S+) (\d+\.\d)ms ([A-Z_]+)(?: (.*))?$/;

/** Parses a text call line, or returns undefined for any other line. */
export function parseCallLine(line: string): TextCallLine | undefined {
  const match = CALL_LINE.exec(line);
  if (!match) return undefined;
  return {
    seq: Number(match[1]),
    hostname: match[2] ?? '',
    latencyMs: Number(match[3]),
    status: match[4] ?? '',
    details: match[5] ?? '',
  };
}

/** The numbers in a text summary header. */
export interface TextSummary {
  sent: number;
  ok: number;
  failed: number;
  codes: Record<string, number>;
  inFlight: number;
}

const SUMMARY_LINE = /^summary sent=(\d+) ok=(\d+) failed=(\d+)(?: \(([^)]*)\))?(?: in-flight=(\d+))?(?: skipped=\d+)?$/;

/** Parses a text summary header, or returns undefined for any other line. */
export function parseSummaryLine(line: string): TextSummary | undefined {
  const match = SUMMARY_LINE.exec(line);
  if (!match) return undefined;
  const codes: Record<string, number> = {};
  for (const pair of (match[4] ?? '').split(' ').filter(Boolean)) {
    const [name, count] = pair.split('=');
    codes[name ?? ''] = Number(count);
  }
  return {
    sent: Number(match[1]),
    ok: Number(match[2]),
    failed: Number(match[3]),
    codes,
    inFlight: Number(match[5] ?? 0),
  };
}
