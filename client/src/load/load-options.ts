/**
 * What a load run may be asked to do, and the one place that checks it: LoadOptions as a caller or the CLI states
 * them, planLoad turning them into a complete LoadPlan with the defaults applied, and LoadOptionsError naming the
 * first bad option in one line (the CLI flag's name, which library callers also know), so runLoad and the CLI
 * reject the same things with the same words.
 */

import { checkXdsBootstrap, isXdsTarget } from '../xds-target.js';

/** What a load run should do, as a library caller or the CLI states it; every field but `target` has a default. */
export interface LoadOptions {
  /** gRPC target host:port (the CLI also reads ENVOY_ADDRESS); default localhost:5000. */
  target?: string;
  /** Calls in flight at most; in a closed loop also the number of lanes. Default 10. */
  concurrency?: number;
  /** Calls started per second on a fixed schedule (open loop); omitted = closed loop. */
  rate?: number;
  /**
   * Open loop only: when the event loop was busy past several due calls, start them all at once so the run keeps
   * its average rate (true, the default), or start only the latest and let the earlier ones go, uncounted, so a
   * stall never ends in a burst (false: the worker client, which shows one call per interval).
   */
  catchUp?: boolean;
  /** Seconds during which calls are started; default 10 when neither `count` nor `untilStopped` is given. */
  durationS?: number;
  /** Total calls to send; excludes `durationS` and `untilStopped`. */
  count?: number;
  /** Send until `signal` (RunLoadHooks) aborts, with no duration or count; excludes both. */
  untilStopped?: boolean;
  /** Deadline of each call in ms; default 2000. */
  deadlineMs?: number;
  /** Metadata sent on every call, as pairs (a name may repeat) or a record. */
  metadata?: ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>;
  /** With `keys`: call i sends header `keyHeader: key-${i % keys}`, and the report maps each key to its hosts. */
  keyHeader?: string;
  keys?: number;
  /** Worker threads sharing concurrency, rate and count; 1 = run in the calling thread. Default 1. */
  workers?: number;
  /** Name sent in every SayHello; default "load". */
  name?: string;
  /**
   * How each channel picks among the addresses its target resolves to: grpc-js's default pick_first (one
   * connection, every call to one replica, as an L4 balancer would) or round_robin (a call to each in turn).
   * Only matters for a target with several addresses (dns:///name, ipv4:a,b,c); default pick_first.
   */
  balancing?: Balancing;
  /**
   * For an xds:///name target: the xDS bootstrap (JSON: the control plane and this client's node), per channel.
   * Left out, grpc-js-xds reads GRPC_XDS_BOOTSTRAP or GRPC_XDS_BOOTSTRAP_CONFIG.
   */
  xdsBootstrap?: string;
}

/** Client-side balancing of one channel over the addresses its target resolves to. */
export const BALANCINGS = ['pick_first', 'round_robin'] as const;
export type Balancing = (typeof BALANCINGS)[number];

/** When a run stops starting calls: after a time, after a number of calls, or only when it is stopped. */
export type LoadLimit = { kind: 'duration'; ms: number } | { kind: 'count'; calls: number } | { kind: 'until-stopped' };

/** A validated, complete LoadOptions with defaults applied. */
export interface LoadPlan {
  target: string;
  concurrency: number;
  /** Calls per second for the whole run (all workers together); null = closed loop. */
  rate: number | null;
  /** Open loop: start every missed call after a stall (true) or only the latest (false). */
  catchUp: boolean;
  limit: LoadLimit;
  deadlineMs: number;
  metadata: Array<[string, string]>;
  keys: { header: string; count: number } | null;
  workers: number;
  name: string;
  balancing: Balancing;
  /** The xDS bootstrap of an xds:/// target's channels; null = grpc-js-xds reads its environment variables. */
  xdsBootstrap: string | null;
}

/** A user mistake in the options: the CLI prints the one-line message and exits 2; runLoad rejects with it. */
export class LoadOptionsError extends Error {
  override readonly name = 'LoadOptionsError';
}

/** Defaults of the options a caller may leave out. */
export const LOAD_DEFAULTS = {
  target: 'localhost:5000',
  concurrency: 10,
  durationS: 10,
  deadlineMs: 2000,
  workers: 1,
  name: 'load',
} as const;

// setTimeout fires after 1 ms for delays above 2^31-1 ms, so no deadline, duration or period may exceed it.
export const MAX_TIMER_MS = 2_147_483_647;

/** The range each numeric option must fall in; the message names the CLI flag, which library callers also know. */
export interface NumberRule {
  flag: string;
  integer: boolean;
  /** Inclusive lower bound for integers, exclusive for decimals (which must be above 0). */
  min: number;
  max: number;
  expected: string;
}

/** The checks of every numeric option. */
export const NUMBER_RULES = {
  concurrency: { flag: '--concurrency', integer: true, min: 1, max: 10_000, expected: 'an integer from 1 to 10000' },
  rate: { flag: '--rate', integer: false, min: 0, max: 100_000, expected: 'calls per second, above 0 and at most 100000' },
  durationS: {
    flag: '--duration',
    integer: false,
    min: 0,
    max: Math.floor(MAX_TIMER_MS / 1000),
    expected: `seconds, above 0 and at most ${Math.floor(MAX_TIMER_MS / 1000)}`,
  },
  count: { flag: '--count', integer: true, min: 1, max: Number.MAX_SAFE_INTEGER, expected: 'a positive integer' },
  deadlineMs: { flag: '--deadline', integer: true, min: 1, max: MAX_TIMER_MS, expected: `an integer (ms) from 1 to ${MAX_TIMER_MS}` },
  keys: { flag: '--keys', integer: true, min: 1, max: 1_000_000, expected: 'an integer from 1 to 1000000' },
  workers: { flag: '--workers', integer: true, min: 1, max: 64, expected: 'an integer from 1 to 64' },
} as const satisfies Record<string, NumberRule>;

// Names the transport or grpc-js owns; a user value would be dropped or break the call.
const RESERVED_HEADERS = new Set(['content-type', 'te', 'host', 'user-agent']);

/** Checks every option and applies the defaults; throws LoadOptionsError naming the first bad one. */
export function planLoad(options: LoadOptions): LoadPlan {
  const target = checkTarget(options.target ?? LOAD_DEFAULTS.target, '--target');
  const concurrency = checkNumber(NUMBER_RULES.concurrency, options.concurrency ?? LOAD_DEFAULTS.concurrency);
  const rate = options.rate === undefined ? null : checkNumber(NUMBER_RULES.rate, options.rate);
  if (options.catchUp !== undefined && rate === null) {
    throw new LoadOptionsError('catchUp applies only to an open loop: it needs --rate');
  }
  const limit = checkLimit(options);
  const deadlineMs = checkNumber(NUMBER_RULES.deadlineMs, options.deadlineMs ?? LOAD_DEFAULTS.deadlineMs);
  const metadata = checkMetadata(options.metadata ?? []);
  const keys = checkKeys(options.keyHeader, options.keys, metadata);
  const workers = checkNumber(NUMBER_RULES.workers, options.workers ?? LOAD_DEFAULTS.workers);
  if (workers > concurrency) {
    throw new LoadOptionsError(
      `--workers (${workers}) cannot exceed --concurrency (${concurrency}): each worker needs at least one call in flight`,
    );
  }
  const name = options.name ?? LOAD_DEFAULTS.name;
  if (name.trim() === '') throw new LoadOptionsError(`--name must be a non-empty name, got ${JSON.stringify(name)}`);
  const balancing = options.balancing ?? 'pick_first';
  if (!BALANCINGS.includes(balancing)) {
    throw new LoadOptionsError(`--balancing must be one of ${BALANCINGS.join(', ')}, got ${JSON.stringify(balancing)}`);
  }
  const xdsBootstrap = checkXdsOptions(target, options);
  return { target, concurrency, rate, catchUp: options.catchUp ?? true, limit, deadlineMs, metadata, keys, workers, name, balancing, xdsBootstrap };
}

/** An xds:/// target balances as its control plane says, and only it takes a bootstrap. */
function checkXdsOptions(target: string, options: LoadOptions): string | null {
  if (!isXdsTarget(target)) {
    if (options.xdsBootstrap !== undefined) throw new LoadOptionsError('an xDS bootstrap applies only to an xds:///name target');
    return null;
  }
  if (options.balancing !== undefined) {
    throw new LoadOptionsError('--balancing does not apply to an xds:/// target: the control plane sends the balancing policy');
  }
  if (options.xdsBootstrap === undefined) return null;
  const problem = checkXdsBootstrap(options.xdsBootstrap);
  if (problem) throw new LoadOptionsError(problem);
  return options.xdsBootstrap;
}

/** The run's limit from durationS, count and untilStopped, at most one of which may be given. */
function checkLimit(options: LoadOptions): LoadLimit {
  const given = [
    options.durationS !== undefined && '--duration',
    options.count !== undefined && '--count',
    options.untilStopped === true && '--until-stopped',
  ].filter((flag) => flag !== false);
  if (given.length > 1) {
    const names = `${given.slice(0, -1).join(', ')} and ${given.at(-1)}`;
    throw new LoadOptionsError(`${names} cannot be used together: exactly one of them decides when the run ends`);
  }
  if (options.untilStopped === true) return { kind: 'until-stopped' };
  if (options.count !== undefined) return { kind: 'count', calls: checkNumber(NUMBER_RULES.count, options.count) };
  return { kind: 'duration', ms: Math.round(checkNumber(NUMBER_RULES.durationS, options.durationS ?? LOAD_DEFAULTS.durationS) * 1000) };
}

/**
 * Checks a gRPC target: host:port, optionally behind a dns: scheme (dns:host:port, dns:///host:port), a list of
 * addresses (ipv4:a:port,b:port) for client-side balancing, or xds:///name for proxyless gRPC through a control
 * plane; `source` names it in the error.
 */
export function checkTarget(target: string, source: string): string {
  if (isXdsTarget(target)) {
    // xds:///name (the control plane's listener name); an authority (xds://authority/name) needs federation, left out.
    if (!/^xds:\/\/\/[A-Za-z0-9._-]+(:\d+)?$/.test(target)) {
      throw new LoadOptionsError(`${source} must be xds:///name for proxyless gRPC, got ${JSON.stringify(target)}`);
    }
    return target;
  }
  const addresses = /^ipv4:/.test(target) ? target.slice('ipv4:'.length).split(',') : [target.replace(/^(dns|ipv6):(\/\/[^/]*\/)?/, '')];
  for (const address of addresses) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d+)$/.exec(address);
    const port = match ? Number(match[2]) : NaN;
    if (!match || !(port >= 1 && port <= 65535)) {
      throw new LoadOptionsError(`${source} must be host:port with a port from 1 to 65535, got ${JSON.stringify(target)}`);
    }
  }
  return target;
}

/** Checks a number against its rule; returns it unchanged. */
export function checkNumber(rule: NumberRule, value: number): number {
  const inRange = rule.integer ? Number.isInteger(value) && value >= rule.min : Number.isFinite(value) && value > rule.min;
  if (!inRange || value > rule.max) {
    throw new LoadOptionsError(`${rule.flag} must be ${rule.expected}, got ${JSON.stringify(String(value))}`);
  }
  return value;
}

/** Checks a header name a user gave (--metadata or --key-header) and returns it lower-cased, as HTTP/2 sends it. */
export function checkHeaderName(name: string, flag: string): string {
  const lower = name.toLowerCase();
  if (!/^[0-9a-z_.-]+$/.test(lower)) {
    throw new LoadOptionsError(`${flag} header name must be letters, digits, "-", "_" or ".", got ${JSON.stringify(name)}`);
  }
  // Binary (-bin) values would need bytes, and grpc-* names are the protocol's own.
  if (lower.endsWith('-bin') || lower.startsWith('grpc-') || RESERVED_HEADERS.has(lower)) {
    throw new LoadOptionsError(`${flag} header name ${JSON.stringify(name)} is reserved by gRPC or HTTP/2`);
  }
  return lower;
}

function checkMetadata(
  metadata: ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>,
): Array<[string, string]> {
  const pairs: ReadonlyArray<readonly [string, string]> = Array.isArray(metadata)
    ? (metadata as ReadonlyArray<readonly [string, string]>)
    : Object.entries(metadata);
  return pairs.map(([key, value]) => {
    // gRPC ASCII metadata values are printable ASCII; anything else is rejected by the transport mid-run.
    if (!/^[\x20-\x7e]*$/.test(value)) {
      throw new LoadOptionsError(`--metadata value of ${JSON.stringify(key)} must be printable ASCII, got ${JSON.stringify(value)}`);
    }
    return [checkHeaderName(key, '--metadata'), value];
  });
}

function checkKeys(
  header: string | undefined,
  count: number | undefined,
  metadata: ReadonlyArray<readonly [string, string]>,
): LoadPlan['keys'] {
  if (header === undefined && count === undefined) return null;
  if (header === undefined) throw new LoadOptionsError('--keys needs --key-header: the header that carries each key');
  if (count === undefined) throw new LoadOptionsError('--key-header needs --keys: how many distinct keys to send');
  const name = checkHeaderName(header, '--key-header');
  if (metadata.some(([key]) => key === name)) {
    throw new LoadOptionsError(`--key-header ${JSON.stringify(name)} is also set by --metadata: the key must be the only value`);
  }
  return { header: name, count: checkNumber(NUMBER_RULES.keys, count) };
}
