import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { CONTROL_TOKEN_PATTERN } from './control-access.js';

/** The greeter server's settings, read once from the environment at start-up. */
export interface ServerConfig {
  grpcHost: string;
  grpcPort: number;
  /** Where the replica's name (in every reply and log line) comes from; see replica-name.ts. */
  replicaName: ReplicaNameSource;
  controlHost: string;
  controlPort: number;
  /** CONTROL_TOKEN, or undefined: the replica then makes its own (control-access.ts). */
  controlToken: string | undefined;
  /** Prometheus metrics (GET /metrics), served on grpcHost: wherever Envoy reaches the replica, Prometheus does too. */
  metricsPort: number;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  logFormat: LogFormat;
  logCalls: boolean;
  /**
   * grpc.max_connection_age_ms: after this long (grpc-js adds ±10 % jitter) the replica sends GOAWAY on a
   * connection, so a client behind an L4 balancer reconnects and may land on another replica. 0 = no limit.
   */
  maxConnectionAgeMs: number;
  /** grpc.max_connection_age_grace_ms: how long calls in flight on an aged connection may still finish. */
  maxConnectionAgeGraceMs: number;
}

export type LogFormat = 'text' | 'json';

/**
 * REPLICA_NAME given as is; or the host name; or, with REPLICA_NAME_FROM=reverse-dns, the name Docker's DNS gives
 * this container's address (the Compose container name, as `docker compose ps` shows it), the host name if that fails.
 */
export type ReplicaNameSource =
  | { from: 'env'; name: string }
  | { from: 'hostname'; name: string }
  | { from: 'reverse-dns'; fallback: string };

/** A user mistake in the environment; its message is the one line printed before exiting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

// Ten minutes: anything longer is almost certainly a typo (seconds given as ms twice over) and would
// hang a `docker stop` far past its own kill timeout.
const MAX_DURATION_MS = 600_000;

// Calls in flight on a connection past its maximum age get this long to finish: the greeter answers in milliseconds,
// and the replicas' own shutdown timeout (5 s) is the same bound for the same reason.
const DEFAULT_MAX_CONNECTION_AGE_GRACE_MS = 5000;

// Hostnames per RFC 1123 labels; IP literals are checked separately with net.isIP.
const HOSTNAME_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

type Env = Readonly<Record<string, string | undefined>>;

/** Parses and validates every server env var; throws ConfigError naming the first bad one. */
export function loadServerConfig(env: Env, defaultReplica: string = hostname()): ServerConfig {
  const config: ServerConfig = {
    grpcHost: readHost(env, 'GRPC_HOST', '0.0.0.0'),
    grpcPort: readPort(env, 'GRPC_PORT', 8080),
    replicaName: readReplicaName(env, defaultReplica),
    controlHost: readHost(env, 'CONTROL_HOST', '127.0.0.1'),
    controlPort: readPort(env, 'CONTROL_PORT', 8081),
    controlToken: readToken(env, 'CONTROL_TOKEN'),
    // 9464: the port OpenTelemetry's Prometheus exporter made a habit of, clear of gRPC's 8080 and control's 8081.
    metricsPort: readPort(env, 'METRICS_PORT', 9464),
    drainDelayMs: readDuration(env, 'DRAIN_DELAY_MS', 3000),
    shutdownTimeoutMs: readDuration(env, 'SHUTDOWN_TIMEOUT_MS', 5000),
    logFormat: readChoice(env, 'LOG_FORMAT', ['text', 'json'] as const, 'text'),
    logCalls: readChoice(env, 'LOG_CALLS', ['true', 'false'] as const, 'false') === 'true',
    maxConnectionAgeMs: readDuration(env, 'MAX_CONNECTION_AGE_MS', 0),
    maxConnectionAgeGraceMs: readDuration(env, 'MAX_CONNECTION_AGE_GRACE_MS', DEFAULT_MAX_CONNECTION_AGE_GRACE_MS),
  };
  // A grace without an age never applies: almost certainly the age was meant to be set too.
  if (env.MAX_CONNECTION_AGE_GRACE_MS !== undefined && config.maxConnectionAgeMs === 0) {
    throw new ConfigError('MAX_CONNECTION_AGE_GRACE_MS is set but MAX_CONNECTION_AGE_MS is not (or is 0): set the age too, or unset the grace');
  }
  // Port 0 asks the OS for different free ports, so only a fixed clash is a mistake.
  const ports: [string, number][] = [
    ['GRPC_PORT', config.grpcPort],
    ['CONTROL_PORT', config.controlPort],
    ['METRICS_PORT', config.metricsPort],
  ];
  for (const [index, [name, port]] of ports.entries()) {
    const clash = ports.slice(index + 1).find(([, other]) => port !== 0 && other === port);
    if (clash) throw new ConfigError(`${name} and ${clash[0]} must differ, both are ${port}`);
  }
  return config;
}

/** Parses a TCP port (integer 0-65535) from an env var value; throws ConfigError otherwise. */
export function parsePort(name: string, raw: string): number {
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new ConfigError(`${name} must be an integer 0-65535, got ${JSON.stringify(raw)}`);
  }
  return port;
}

function read(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  // An empty value is almost always a broken `${VAR}` substitution; using the default would hide it.
  if (raw === '') throw new ConfigError(`${name} is set but empty; unset it to use the default`);
  return raw;
}

function readPort(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  return raw === undefined ? fallback : parsePort(name, raw);
}

function readHost(env: Env, name: string, fallback: string): string {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (isIP(raw) === 0 && !HOSTNAME_PATTERN.test(raw)) {
    throw new ConfigError(`${name} must be an IP address or host name, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

function readToken(env: Env, name: string): string | undefined {
  const raw = read(env, name);
  if (raw !== undefined && !CONTROL_TOKEN_PATTERN.test(raw)) {
    throw new ConfigError(`${name} must be 16-256 characters of A-Z, a-z, 0-9, "-" and "_"`);
  }
  return raw;
}

function readDuration(env: Env, name: string, fallback: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const ms = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(ms >= 0 && ms <= MAX_DURATION_MS)) {
    throw new ConfigError(`${name} must be an integer 0-${MAX_DURATION_MS} (milliseconds), got ${JSON.stringify(raw)}`);
  }
  return ms;
}

function readChoice<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const choice = choices.find((candidate) => candidate === raw);
  if (choice === undefined) {
    throw new ConfigError(`${name} must be one of ${choices.join('|')}, got ${JSON.stringify(raw)}`);
  }
  return choice;
}

function readReplicaName(env: Env, hostName: string): ReplicaNameSource {
  const given = read(env, 'REPLICA_NAME');
  const from = readChoice(env, 'REPLICA_NAME_FROM', ['hostname', 'reverse-dns'] as const, 'hostname');
  if (given !== undefined && env.REPLICA_NAME_FROM !== undefined) {
    throw new ConfigError('REPLICA_NAME and REPLICA_NAME_FROM are both set; set one (a name, or where to learn it)');
  }
  if (given !== undefined) return { from: 'env', name: checkReplicaName('REPLICA_NAME', given) };
  if (from === 'reverse-dns') return { from, fallback: checkReplicaName('the host name', hostName) };
  return { from, name: checkReplicaName('the host name', hostName) };
}

/** The name goes into every reply and log line, so it must print as one visible token; returns it unchanged. */
export function checkReplicaName(source: string, name: string): string {
  if (name.length > 253 || !/^[\x21-\x7e]+$/.test(name)) {
    throw new ConfigError(`${source} must be 1-253 printable ASCII characters without spaces, got ${JSON.stringify(name)}`);
  }
  return name;
}
