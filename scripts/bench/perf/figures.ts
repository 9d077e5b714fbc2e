// The perf bench's figures as data, and the small arithmetic on them (percentiles, medians, ratios), kept apart from
// how they are measured and how they are printed.

/** Latency percentiles in ms. */
export interface Percentiles {
  p50: number;
  p99: number;
  p99_9: number;
}

/** What one client saw on one path in one phase. */
export interface PathFigures {
  okCalls: number;
  failedCalls: number;
  callsPerS: number;
  latencyMs: Percentiles | null;
  /** CPU the load client itself used during the phase (ms). */
  clientCpuMs: number;
  /** OK calls per replica (hostname -> count), when the client reports it. */
  hosts?: Record<string, number>;
}

/** Which way the calls went: through Envoy, or straight to the replicas with client-side round robin. */
export type Route = 'envoy' | 'direct';
export type Client = 'load' | 'ghz';

/** One measured phase: a client, a route, a closed loop at full speed ("max") or a fixed rate. */
export interface Phase {
  repeat: number;
  client: Client;
  route: Route;
  /** null: closed loop at the bench's concurrency; a number: calls/s, open loop. */
  rate: number | null;
  /** A phase run with a setting changed live (e.g. "access log 5 %"); absent for the standard phases. */
  variant?: string;
  figures: PathFigures;
  /** CPU of the system's processes during the phase, ms: Envoy (0 on the direct route), all replicas, npm start. */
  cpuMs: { envoy: number; replicas: number; supervisor: number };
}

/** CPU per OK call (ms) of each part in a phase. */
export function perCallMs(phase: Phase): { envoy: number; replicas: number; supervisor: number; client: number; system: number } {
  const calls = Math.max(1, phase.figures.okCalls);
  const { envoy, replicas, supervisor } = phase.cpuMs;
  return {
    envoy: envoy / calls,
    replicas: replicas / calls,
    supervisor: supervisor / calls,
    client: phase.figures.clientCpuMs / calls,
    // What serving a call costs: Envoy and the replicas (the supervisor is reported on its own).
    system: (envoy + replicas) / calls,
  };
}

/** p50, p99 and p99.9 of `values` (nearest rank); null when empty. */
export function percentilesOf(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p * sorted.length) / 100 - 1e-9) - 1)] ?? Number.NaN;
  return { p50: at(50), p99: at(99), p99_9: at(99.9) };
}

/** Median, min and max of a set of runs' values. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spreadOf(values: number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const middle = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? (sorted[Math.floor(middle)] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN };
}

/** max/min of the calls each replica answered (1 = perfectly even); NaN with fewer than `replicas` hosts seen. */
export function spreadRatio(hosts: Record<string, number> | undefined, replicas: number): number {
  const counts = Object.values(hosts ?? {});
  if (counts.length < replicas) return Number.NaN;
  return Math.max(...counts) / Math.min(...counts);
}
