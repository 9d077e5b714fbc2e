/**
 * What `npm run load` reads and writes besides the report: its flags (and ENVOY_ADDRESS) turned into LoadOptions,
 * with strict number formats because Number() would accept "", "1e3" and "0x10", and the one progress line a second
 * it prints on stderr during a longer run. The checks themselves are load-options.ts's, shared with runLoad.
 */
import { Command } from 'commander';
import { parseQuietly } from '../parse-quietly.js';
import { checkTarget, LOAD_DEFAULTS, LoadOptionsError, NUMBER_RULES, planLoad, type LoadOptions, type LoadPlan } from './load-options.js';
import type { LoadProgress } from './load-run.js';

/** What `npm run load` was asked to do. */
export interface LoadCliConfig {
  options: LoadOptions;
  /** The options checked; the CLI stops on a bad one before anything runs. */
  plan: LoadPlan;
  /** Print the report as one JSON object instead of the text table. */
  json: boolean;
}

/** `--help` was asked for: the text is ready and the program should exit 0. */
export class LoadHelpRequested extends Error {
  override readonly name = 'LoadHelpRequested';
  constructor(readonly helpText: string) {
    super('help requested');
  }
}

/** Parses the load CLI's flags (`argv` without node and script) and ENVOY_ADDRESS; throws LoadOptionsError. */
export function parseLoadArgs(argv: readonly string[], env: NodeJS.ProcessEnv): LoadCliConfig {
  const program = buildProgram();
  parseQuietly(program, argv, (helpText) => new LoadHelpRequested(helpText), (line) => new LoadOptionsError(line));
  const flags = program.opts<{
    target?: string;
    concurrency?: string;
    rate?: string;
    duration?: string;
    count?: string;
    untilStopped?: boolean;
    deadline?: string;
    metadata: string[];
    keyHeader?: string;
    keys?: string;
    workers?: string;
    json?: boolean;
    name?: string;
    balancing?: string;
  }>();

  const envTarget = env['ENVOY_ADDRESS'];
  const options: LoadOptions = {
    target:
      flags.target !== undefined
        ? flags.target
        : envTarget !== undefined
          ? checkTarget(envTarget, 'ENVOY_ADDRESS')
          : LOAD_DEFAULTS.target,
    concurrency: integerFlag(flags.concurrency, NUMBER_RULES.concurrency),
    rate: decimalFlag(flags.rate, NUMBER_RULES.rate),
    durationS: decimalFlag(flags.duration, NUMBER_RULES.durationS),
    count: integerFlag(flags.count, NUMBER_RULES.count),
    untilStopped: flags.untilStopped,
    deadlineMs: integerFlag(flags.deadline, NUMBER_RULES.deadlineMs),
    metadata: flags.metadata.map(parseMetadataPair),
    keyHeader: flags.keyHeader,
    keys: integerFlag(flags.keys, NUMBER_RULES.keys),
    workers: integerFlag(flags.workers, NUMBER_RULES.workers),
    name: flags.name,
    balancing: flags.balancing as LoadOptions['balancing'],
  };
  return { options, plan: planLoad(options), json: flags.json === true };
}

function buildProgram(): Command {
  return new Command('grpc-load')
    .description(
      'Sends SayHello calls as fast as --concurrency allows (closed loop) or at --rate per second (open loop), ' +
        'then reports counts, throughput, latency percentiles and which hosts answered.',
    )
    .option('--target <host:port>', `gRPC target (env ENVOY_ADDRESS, default ${LOAD_DEFAULTS.target})`)
    .option('--concurrency <n>', `calls in flight at most; closed loop: n lanes (default ${LOAD_DEFAULTS.concurrency})`)
    .option('--rate <r>', 'open loop: start r calls per second on a fixed schedule; a call due while --concurrency calls are in flight is skipped and counted')
    .option('--duration <s>', `seconds of sending (default ${LOAD_DEFAULTS.durationS}; not with --count or --until-stopped)`)
    .option('--count <n>', 'total calls to send (not with --duration or --until-stopped)')
    .option('--until-stopped', 'send until SIGINT/SIGTERM (not with --duration or --count)')
    .option('--deadline <ms>', `deadline of each call (default ${LOAD_DEFAULTS.deadlineMs})`)
    .option('--metadata <key=value>', 'header sent on every call (repeatable)', (value: string, all: string[]) => [...all, value], [])
    .option('--key-header <name>', 'with --keys: call i sends <name>: key-<i % keys>; the report maps each key to its hosts')
    .option('--keys <k>', 'number of distinct keys for --key-header')
    .option('--workers <w>', `worker threads sharing concurrency, rate and count (default ${LOAD_DEFAULTS.workers})`)
    .option('--name <name>', `name sent in every SayHello (default ${LOAD_DEFAULTS.name})`)
    .option('--balancing <policy>', 'pick_first or round_robin over the addresses the target resolves to (default pick_first)')
    .option('--json', 'print the report as one JSON object (progress stays on stderr)')
    .allowExcessArguments(false)
    .exitOverride();
}

interface FlagRule {
  flag: string;
  expected: string;
}

function integerFlag(raw: string | undefined, rule: FlagRule): number | undefined {
  if (raw === undefined) return undefined;
  // Number() would accept "", " 5", "1e3" and "0x10" without complaint.
  if (!/^\d+$/.test(raw)) throw invalid(raw, rule);
  return Number(raw);
}

function decimalFlag(raw: string | undefined, rule: FlagRule): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(raw)) throw invalid(raw, rule);
  return Number(raw);
}

function parseMetadataPair(raw: string): [string, string] {
  const at = raw.indexOf('=');
  if (at <= 0) throw new LoadOptionsError(`--metadata must be key=value, got ${JSON.stringify(raw)}`);
  return [raw.slice(0, at), raw.slice(at + 1)];
}

function invalid(raw: string, rule: FlagRule): LoadOptionsError {
  return new LoadOptionsError(`${rule.flag} must be ${rule.expected}, got ${JSON.stringify(raw)}`);
}

/** Runs at least this long (planned, or so far) print a progress line each second; shorter ones stay quiet. */
export const PROGRESS_AFTER_S = 3;

/** Whether this progress report should be printed: the run is planned to, or already did, last over 3 s. */
export function wantsProgressLine(progress: LoadProgress): boolean {
  return (progress.plannedDurationS ?? 0) > PROGRESS_AFTER_S || progress.elapsedS > PROGRESS_AFTER_S;
}

/** One progress line, e.g. `load  5s/10s  sent=512 ok=510 failed=2 rate=101/s p99=4.2ms`. */
export function formatProgressLine(progress: LoadProgress): string {
  const elapsed = `${Math.round(progress.elapsedS)}s`;
  const time = progress.plannedDurationS !== null ? `${elapsed}/${formatSeconds(progress.plannedDurationS)}` : elapsed;
  const sent = progress.plannedCount !== null ? `${progress.sent}/${progress.plannedCount}` : String(progress.sent);
  const p99 = progress.p99Ms === null ? '-' : `${progress.p99Ms.toFixed(1)}ms`;
  return `load  ${time}  sent=${sent} ok=${progress.ok} failed=${progress.failed} rate=${Math.round(progress.ratePerS)}/s p99=${p99}`;
}

function formatSeconds(seconds: number): string {
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
}
