import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DISCOVERIES, type Discovery, type EnvoyStatus, type LocalStack } from './local-stack.js';
import { pollUntil } from './poll-until.js';
import { LB_POLICIES, PolicyChoiceError, type LbPolicy, type PolicyChoice } from '../envoy/index.js';
import { messageOf } from '../cli/command-line.js';
import { controlRequestRefusal } from '../../server/src/index.js';
import { MAX_REPLICAS } from './local-stack.js';

/** One replica as the control API reports it. */
export interface ReplicaInfo {
  name: string;
  address: string;
  port: number;
  controlPort: number;
  /** Where the replica's GET /metrics answers, on its address. */
  metricsPort: number;
  pid: number | undefined;
  state: 'running' | 'paused';
  /** When it printed its listening line (epoch ms). */
  readyAt?: number;
}

/** GET /info: where everything is, and what runs. */
export interface StackInfo {
  adminUrl: string;
  envoyTarget: string;
  policy: PolicyChoice;
  envoy: EnvoyStatus;
  replicas: ReplicaInfo[];
  /** http://127.0.0.1:<port> of the stack's Prometheus, when it runs one (`npm start -- --prometheus`). */
  prometheusUrl?: string;
  /** The DNS responder that answers the replicas' service name (Docker's DNS, played on loopback). */
  dns: { address: string; port: number; name: string };
  /** Environment added to every replica by POST /replica-env ({} = none). */
  replicaEnv: Record<string, string>;
  /** How Envoy discovers the replicas (POST /discovery switches it). */
  discovery: Discovery;
  /** The xDS control plane (ADS) on loopback: Envoy's under `xds`, and every proxyless client's. */
  xds: { address: string; responses: number; pushes: number; nacks: number; cpuMs: number; busyMs: number };
}

const SIGNALS = { KILL: 'SIGKILL', TERM: 'SIGTERM', STOP: 'SIGSTOP', CONT: 'SIGCONT' } as const;
type SignalName = keyof typeof SIGNALS;

class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * The HTTP API through which `lab` drives a running local system (`npm start` hosts it on 127.0.0.1 only):
 * GET /info, POST /scale {replicas}, POST /replicas/<name>/signal {signal: KILL|TERM|STOP|CONT},
 * POST /policy {policy, hashHeader?, panicThresholdPercent?, perTryTimeoutMs?}, POST /replica-env {env: {NAME: value}},
 * POST /discovery {discovery: dns|xds}. Answers JSON; a bad request is 4xx with {"error": "<one line>"}.
 */
export class StackControlApi {
  private readonly server: http.Server;
  /** One change at a time: two scales racing each other would leave the system in neither state. */
  private queue: Promise<unknown> = Promise.resolve();

  /** Every request must carry the system's token (the state file's), a loopback Host and, for POST, a JSON body. */
  constructor(private readonly stack: LocalStack) {
    this.server = http.createServer((request, response) => void this.handle(request, response));
  }

  /** Listens on 127.0.0.1 (port 0: any free port) and resolves with the URL. */
  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** What runs now. */
  info(): StackInfo {
    return {
      adminUrl: this.stack.adminUrl,
      envoyTarget: this.stack.envoyTarget,
      policy: this.stack.currentPolicy(),
      envoy: this.stack.envoyStatus(),
      ...(this.stack.prometheusUrl === undefined ? {} : { prometheusUrl: this.stack.prometheusUrl }),
      dns: this.stack.dnsServer,
      replicaEnv: this.stack.currentReplicaEnv(),
      discovery: this.stack.discovery,
      xds: (({ address, responses, pushes, nacks, cpuMs, busyMs }) => ({ address: address ?? '', responses, pushes, nacks, cpuMs, busyMs }))(this.stack.xdsStatus()),
      replicas: this.stack.replicas().map((r) => ({
        name: r.name,
        address: r.address,
        port: r.port,
        controlPort: r.controlPort,
        metricsPort: r.metricsPort,
        pid: r.process.pid,
        state: r.paused ? 'paused' : 'running',
        ...(r.readyAt === undefined ? {} : { readyAt: r.readyAt }),
      })),
    };
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const refusal = controlRequestRefusal(request, this.stack.controlToken);
    if (refusal) {
      send(response, refusal.status, { error: refusal.error });
      return;
    }
    try {
      const body = await readJson(request);
      const result = await this.route(request.method ?? 'GET', request.url ?? '/', body);
      send(response, 200, result);
    } catch (error) {
      const status = error instanceof BadRequest ? error.status : error instanceof PolicyChoiceError ? 400 : 500;
      send(response, status, { error: messageOf(error) });
    }
  }

  private route(method: string, url: string, body: Record<string, unknown>): Promise<unknown> {
    if (method === 'GET' && url === '/info') return Promise.resolve(this.info());
    if (method === 'POST' && url === '/scale') return this.serially(() => this.scale(body));
    const signal = /^\/replicas\/([\w-]+)\/signal$/.exec(url);
    if (method === 'POST' && signal?.[1]) {
      const name = signal[1];
      return this.serially(() => this.signal(name, body));
    }
    if (method === 'POST' && url === '/policy') return this.serially(() => this.setPolicy(body));
    if (method === 'POST' && url === '/replica-env') return this.serially(() => this.setReplicaEnv(body));
    if (method === 'POST' && url === '/discovery') return this.serially(() => this.setDiscovery(body));
    return Promise.reject(new BadRequest(`no route ${method} ${url}`, 404));
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async scale(body: Record<string, unknown>): Promise<StackInfo> {
    const replicas = body.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
      throw new BadRequest(`replicas must be an integer from 1 to ${MAX_REPLICAS}, got ${JSON.stringify(replicas)}`);
    }
    const before = new Set(this.stack.replicas().map((r) => r.name));
    await this.stack.scale(replicas);
    // Wait for the new replicas only: one that is deliberately NOT_SERVING must not make a scale time out.
    const added = this.stack.replicas().filter((r) => !before.has(r.name)).map((r) => `${r.address}:${r.port}`);
    await pollUntil(
      `Envoy to see ${replicas} replicas, the new ones healthy`,
      async () => {
        const hosts = await this.stack.hosts();
        return hosts.length === replicas && added.every((address) => hosts.find((h) => h.address === address)?.healthy);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    return this.info();
  }

  private async signal(name: string, body: Record<string, unknown>): Promise<StackInfo> {
    const signalName = body.signal;
    // Own keys only: `in` would also accept what every object inherits (toString, constructor, __proto__).
    if (typeof signalName !== 'string' || !Object.hasOwn(SIGNALS, signalName)) {
      throw new BadRequest(`signal must be one of ${Object.keys(SIGNALS).join(', ')}, got ${JSON.stringify(signalName)}`);
    }
    try {
      this.stack.replica(name);
    } catch (error) {
      throw new BadRequest(messageOf(error), 404);
    }
    await this.stack.signalReplica(name, SIGNALS[signalName as SignalName]);
    return this.info();
  }

  private async setDiscovery(body: Record<string, unknown>): Promise<StackInfo> {
    const discovery = body.discovery;
    if (typeof discovery !== 'string' || !DISCOVERIES.includes(discovery as Discovery)) {
      throw new BadRequest(`discovery must be one of ${DISCOVERIES.join(', ')}, got ${JSON.stringify(discovery)}`);
    }
    await this.stack.setDiscovery(discovery as Discovery);
    return this.info();
  }

  private async setReplicaEnv(body: Record<string, unknown>): Promise<StackInfo> {
    await this.stack.setReplicaEnv(replicaEnvOf(body));
    return this.info();
  }

  private async setPolicy(body: Record<string, unknown>): Promise<StackInfo> {
    const { policy, hashHeader, panicThresholdPercent, perTryTimeoutMs } = body;
    if (typeof policy !== 'string' || !LB_POLICIES.includes(policy as LbPolicy)) {
      throw new BadRequest(`policy must be one of ${LB_POLICIES.join(', ')}, got ${JSON.stringify(policy)}`);
    }
    if (hashHeader !== undefined && typeof hashHeader !== 'string') throw new BadRequest('hashHeader must be a string');
    if (panicThresholdPercent !== undefined && typeof panicThresholdPercent !== 'number') {
      throw new BadRequest('panicThresholdPercent must be a number');
    }
    if (perTryTimeoutMs !== undefined && typeof perTryTimeoutMs !== 'number') throw new BadRequest('perTryTimeoutMs must be a number');
    await this.stack.setPolicy({
      policy: policy as LbPolicy,
      ...(hashHeader === undefined ? {} : { hashHeader }),
      ...(panicThresholdPercent === undefined ? {} : { panicThresholdPercent }),
      ...(perTryTimeoutMs === undefined ? {} : { perTryTimeoutMs }),
    });
    return this.info();
  }
}

/** What a replica's environment may be given through the API: names as the server reads them, plain values. */
const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;

/** Checks a POST /replica-env body: {env: {NAME: "value", ...}}, at most 16 names. */
function replicaEnvOf(body: Record<string, unknown>): Record<string, string> {
  const env = body.env;
  if (env === null || typeof env !== 'object' || Array.isArray(env)) throw new BadRequest('env must be an object of NAME: "value"');
  const entries = Object.entries(env as Record<string, unknown>);
  if (entries.length > 16) throw new BadRequest(`env may name at most 16 variables, got ${entries.length}`);
  for (const [name, value] of entries) {
    if (!ENV_NAME.test(name)) throw new BadRequest(`env names must be upper-case letters, digits and _, got ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || !/^[\x20-\x7e]*$/.test(value)) throw new BadRequest(`env ${name} must be a printable string`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

const MAX_BODY_CHARS = 16_384;

async function readJson(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  let tooLarge = false;
  // Read to the end even past the limit: leaving in the middle destroys the request, and with it the keep-alive
  // connection the caller sends its next request on (which then waits for an answer that never comes).
  for await (const chunk of request) {
    if (!tooLarge) text += String(chunk);
    tooLarge ||= text.length > MAX_BODY_CHARS;
  }
  if (tooLarge) throw new BadRequest(`request body larger than ${MAX_BODY_CHARS} characters`, 413);
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    throw new BadRequest('request body must be a JSON object');
  }
}

function send(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}
