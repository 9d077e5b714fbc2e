/**
 * The worker client's settings from flags and env vars (a flag wins over its env var), checked once at start-up so
 * a mistake is one ConfigError line and exit 2 before any call is made, never a stack trace mid-run; and what they
 * mean for the load loop the worker runs on (its rate, in-flight cap and limit).
 */
import { Command } from 'commander';
import { checkTarget, LoadOptionsError, NUMBER_RULES, type LoadOptions } from './load/load-options.js';
import { parseQuietly } from './parse-quietly.js';

/** Output style of every line the client prints. */
export type LogFormat = 'text' | 'json';

/** Everything the worker client needs, validated once at start-up. */
export interface ClientConfig {
  /** gRPC target, e.g. `localhost:5000` or `envoy:5000`. */
  target: string;
  intervalMs: number;
  deadlineMs: number;
  /** Seconds between periodic summaries; 0 = only the final summary. */
  summaryEveryS: number;
  /** Calls to make before exiting; 0 = run until a signal. */
  count: number;
  name: string;
  logFormat: LogFormat;
}

/** A user mistake in flags or env vars: main prints the one-line message and exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `--help` was asked for: the help text has been produced and the program should exit 0. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
  constructor(readonly helpText: string) {
    super('help requested');
  }
}

/** Defaults from the shared runtime contract (Compose overrides the target with envoy:5000). */
export const DEFAULTS = {
  target: 'localhost:5000',
  intervalMs: 1000,
  deadlineMs: 2000,
  summaryEveryS: 30,
  count: 0,
  name: 'lab',
  logFormat: 'text',
} as const satisfies ClientConfig;

// setTimeout/setInterval silently fire after 1 ms for delays above 2^31-1 ms, so larger values are refused.
const MAX_TIMER_MS = 2_147_483_647;

/** A raw value together with where it came from, so an error can name the flag or env var the user set. */
interface RawValue {
  value: string;
  source: string;
}

/** Parses flags (`argv` without node and script) and env vars; a flag wins over its env var. */
export function parseClientConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ClientConfig {
  const program = buildProgram();
  parseQuietly(program, argv, (helpText) => new HelpRequested(helpText), (line) => new ConfigError(line));
  const flags = program.opts<Record<string, string | boolean | undefined>>();

  const pick = (flag: string, envName: string): RawValue | undefined => {
    const flagValue = flags[flag];
    if (typeof flagValue === 'string') return { value: flagValue, source: `--${toKebab(flag)}` };
    const envValue = env[envName];
    if (envValue !== undefined) return { value: envValue, source: envName };
    return undefined;
  };

  const target = pick('target', 'ENVOY_ADDRESS');
  const interval = pick('interval', 'CALL_INTERVAL_MS');
  const deadline = pick('deadline', 'CALL_DEADLINE_MS');
  const summaryEvery = pick('summaryEvery', 'SUMMARY_EVERY_S');
  const count = pick('count', 'CALL_COUNT');
  const name = pick('name', 'GREET_NAME');

  return {
    target: target ? parseTarget(target) : DEFAULTS.target,
    intervalMs: interval ? parseInteger(interval, 1, MAX_TIMER_MS, 'a positive integer (ms)') : DEFAULTS.intervalMs,
    deadlineMs: deadline ? parseInteger(deadline, 1, MAX_TIMER_MS, 'a positive integer (ms)') : DEFAULTS.deadlineMs,
    summaryEveryS: summaryEvery
      ? parseInteger(summaryEvery, 0, Math.floor(MAX_TIMER_MS / 1000), 'a non-negative integer (s, 0 = only at exit)')
      : DEFAULTS.summaryEveryS,
    count: count
      ? parseInteger(count, 0, Number.MAX_SAFE_INTEGER, 'a non-negative integer (0 = run forever)')
      : DEFAULTS.count,
    name: name ? parseName(name) : DEFAULTS.name,
    logFormat: flags['json'] === true ? 'json' : parseLogFormat(env['LOG_FORMAT']),
  };
}

function buildProgram(): Command {
  return new Command('grpc-client')
    .description('Calls greeter.v1.Greeter/SayHello through Envoy on a timer and logs which replica answered.')
    .option('--target <host:port>', `gRPC target (env ENVOY_ADDRESS, default ${DEFAULTS.target})`)
    .option('--interval <ms>', `milliseconds between calls (env CALL_INTERVAL_MS, default ${DEFAULTS.intervalMs})`)
    .option('--deadline <ms>', `deadline of each call in ms (env CALL_DEADLINE_MS, default ${DEFAULTS.deadlineMs})`)
    .option(
      '--summary-every <s>',
      `seconds between summaries, 0 = only at exit (env SUMMARY_EVERY_S, default ${DEFAULTS.summaryEveryS})`,
    )
    .option('--count <n>', 'stop after n calls, 0 = run until SIGTERM/SIGINT (env CALL_COUNT, default 0)')
    .option('--name <name>', `name sent in every SayHello (env GREET_NAME, default ${DEFAULTS.name})`)
    .option('--json', 'one JSON object per line (or LOG_FORMAT=json)')
    .allowExcessArguments(false)
    .exitOverride();
}

function parseInteger(raw: RawValue, min: number, max: number, expected: string): number {
  // A strict pattern, because Number() would accept "", " 5", "1e3" and "0x10" without complaint.
  if (!/^\d+$/.test(raw.value)) throw invalid(raw, expected);
  const value = Number(raw.value);
  if (value < min) throw invalid(raw, expected);
  if (value > max) throw invalid(raw, `${expected} no larger than ${max}`);
  return value;
}

function parseTarget(raw: RawValue): string {
  // The load loop's own check (host:port, optionally behind dns:, ipv6: or an ipv4: list), so the worker accepts
  // exactly the targets its loop will, and the message names the flag or env var the user set.
  try {
    return checkTarget(raw.value, raw.source);
  } catch (error) {
    if (error instanceof LoadOptionsError) throw new ConfigError(error.message);
    throw error;
  }
}

function parseName(raw: RawValue): string {
  if (raw.value.trim() === '') throw invalid(raw, 'a non-empty name');
  return raw.value;
}

function parseLogFormat(value: string | undefined): LogFormat {
  if (value === undefined) return DEFAULTS.logFormat;
  if (value === 'text' || value === 'json') return value;
  throw invalid({ value, source: 'LOG_FORMAT' }, 'text or json');
}

function invalid(raw: RawValue, expected: string): ConfigError {
  return new ConfigError(`${raw.source} must be ${expected}, got ${JSON.stringify(raw.value)}`);
}

function toKebab(camel: string): string {
  return camel.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/**
 * The in-flight cap for a deadline and interval: a call lasts at most its deadline, so at most ceil(deadline /
 * interval) calls overlap on a steady schedule; one more absorbs timer jitter. It is held to the load loop's own
 * limit on concurrency, which only a deadline about 10000 times the interval reaches; the start line shows it.
 */
export function maxInFlightFor(intervalMs: number, deadlineMs: number): number {
  return Math.min(Math.ceil(deadlineMs / intervalMs) + 1, NUMBER_RULES.concurrency.max);
}

/**
 * The load the worker runs: one call per interval on runLoad's open-loop schedule, in this thread (so each call
 * and each skip can be logged as it happens), for --count calls or, with 0, until a signal stops it.
 */
export function workerLoadOptions(config: ClientConfig): LoadOptions {
  return {
    target: config.target,
    rate: 1000 / config.intervalMs,
    // After a stall (a paused container, a busy host) the worker goes on with the next call instead of a burst.
    catchUp: false,
    concurrency: maxInFlightFor(config.intervalMs, config.deadlineMs),
    ...(config.count > 0 ? { count: config.count } : { untilStopped: true }),
    deadlineMs: config.deadlineMs,
    name: config.name,
    workers: 1,
  };
}
