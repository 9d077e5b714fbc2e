import { parsePort } from './config.js';
import { FAIL_CODE_NAMES, MAX_LATENCY_MS, type HealthStatus } from './fault-state.js';

/** A bad command-line argument; the message is the one line printed before exiting 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** `serving` / `not-serving` (any case) to a health status. */
export function parseHealthArg(raw: string): HealthStatus {
  const value = raw.toLowerCase();
  if (value === 'serving') return 'SERVING';
  if (value === 'not-serving') return 'NOT_SERVING';
  throw new UsageError(`health must be serving or not-serving, got ${JSON.stringify(raw)}`);
}

/** A failure rate written as a decimal 0-1, e.g. 0.25. */
export function parseRateArg(raw: string): number {
  const rate = /^(\d+(\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(rate >= 0 && rate <= 1)) throw new UsageError(`rate must be a number 0-1, got ${JSON.stringify(raw)}`);
  return rate;
}

/** A latency in whole milliseconds, 0-60000. */
export function parseLatencyArg(raw: string): number {
  const ms = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(ms >= 0 && ms <= MAX_LATENCY_MS)) {
    throw new UsageError(`latency must be an integer 0-${MAX_LATENCY_MS} (milliseconds), got ${JSON.stringify(raw)}`);
  }
  return ms;
}

/** A gRPC status name other than OK, any case (unavailable -> UNAVAILABLE). */
export function parseCodeArg(raw: string): string {
  const name = raw.toUpperCase().replace(/-/g, '_');
  if (!FAIL_CODE_NAMES.includes(name)) {
    throw new UsageError(`code must be a gRPC status name other than OK (${FAIL_CODE_NAMES.join(', ')}), got ${JSON.stringify(raw)}`);
  }
  return name;
}

/** A control port to connect to: 1-65535 (0 is only meaningful when binding). */
export function parseControlPortArg(source: string, raw: string): number {
  let port: number;
  try {
    port = parsePort(source, raw);
  } catch (error) {
    throw new UsageError((error as Error).message.replace('0-65535', '1-65535'));
  }
  if (port === 0) throw new UsageError(`${source} must be an integer 1-65535, got "0"`);
  return port;
}
