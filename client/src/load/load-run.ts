/**
 * runLoad, the one way to run a load from code or a CLI: it checks the options, splits the run into shards (in
 * this thread for one worker, in worker threads for more), starts them together so they share one schedule and one
 * duration, relays stop and cancel, reports progress, and merges the shards' counters into the report once every
 * call has settled.
 */
import { planLoad, type LoadOptions, type LoadPlan } from './load-options.js';
import { buildLoadReport, type LoadReport } from './load-report.js';
import { inProcessShard, splitPlan, threadShard, type LoadShard } from './load-shards.js';
import { mergeTallies, type TallyData } from './load-tally.js';

/** The state of a run, reported about once a second while it runs. */
export interface LoadProgress {
  elapsedS: number;
  /** The run's limit: seconds of sending, or total calls (the other is null). */
  plannedDurationS: number | null;
  plannedCount: number | null;
  sent: number;
  ok: number;
  failed: number;
  inFlight: number;
  /** Calls started per second since the previous progress report. */
  ratePerS: number;
  /** p99 latency of the OK calls so far in ms; null before the first. */
  p99Ms: number | null;
}

/** How a caller steers a run and watches it. */
export interface RunLoadHooks {
  /** Abort = stop starting calls, let those in flight settle, then resolve with an interrupted report. */
  signal?: AbortSignal;
  /** Abort = also cancel the calls in flight (they count as CANCELLED failures). */
  cancelSignal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
  /** Period of onProgress; default 1000 ms. */
  progressEveryMs?: number;
}

/**
 * Runs a load against a Greeter target and resolves with its report once every call has settled. Options are
 * checked first (LoadOptionsError on a bad one). With workers = 1 everything runs in this thread on one channel;
 * with more, each worker thread has its own channel and share, and their counters and histograms are merged.
 */
export function runLoad(options: LoadOptions, hooks: RunLoadHooks = {}): Promise<LoadReport> {
  let plan: LoadPlan;
  try {
    plan = planLoad(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return runLoadPlan(plan, hooks);
}

/** runLoad for options already checked with planLoad (the CLI checks them before it installs signal handlers). */
export async function runLoadPlan(plan: LoadPlan, hooks: RunLoadHooks = {}): Promise<LoadReport> {
  const shards: LoadShard[] = splitPlan(plan).map(plan.workers === 1 ? inProcessShard : threadShard);
  const stopAll = (): void => shards.forEach((shard) => shard.stop());
  const cancelAll = (): void => shards.forEach((shard) => shard.cancel());
  let progressTimer: NodeJS.Timeout | undefined;
  try {
    // Threads take a moment to boot; starting them together keeps the rate schedule and the duration shared.
    await Promise.all(shards.map((shard) => shard.ready));
    const startedAt = performance.now();
    for (const shard of shards) shard.start();
    hooks.signal?.addEventListener('abort', stopAll, { once: true });
    hooks.cancelSignal?.addEventListener('abort', cancelAll, { once: true });
    if (hooks.signal?.aborted) stopAll();
    if (hooks.cancelSignal?.aborted) cancelAll();

    const { onProgress } = hooks;
    if (onProgress) {
      let previous = { at: startedAt, sent: 0 };
      progressTimer = setInterval(() => {
        const now = performance.now();
        const tally = combine(shards.map((shard) => shard.progress()));
        const ratePerS = (tally.sent - previous.sent) / ((now - previous.at) / 1000);
        previous = { at: now, sent: tally.sent };
        onProgress({
          elapsedS: (now - startedAt) / 1000,
          plannedDurationS: plan.limit.kind === 'duration' ? plan.limit.ms / 1000 : null,
          plannedCount: plan.limit.kind === 'count' ? plan.limit.calls : null,
          sent: tally.sent,
          ok: tally.ok,
          failed: tally.failed,
          inFlight: tally.inFlight,
          ratePerS,
          p99Ms: tally.okLatency.totalCount > 0 ? tally.okLatency.getValueAtPercentile(99) / 1000 : null,
        });
      }, hooks.progressEveryMs ?? 1000);
    }

    const results = await Promise.all(shards.map((shard) => shard.finished));
    return buildLoadReport(plan, combine(results.map((result) => result.tally)), {
      startedAtMs: Math.min(...results.map((result) => result.startedAtMs)),
      endedAtMs: Math.max(...results.map((result) => result.endedAtMs)),
      interrupted: results.some((result) => result.interrupted),
    });
  } finally {
    clearInterval(progressTimer);
    hooks.signal?.removeEventListener('abort', stopAll);
    hooks.cancelSignal?.removeEventListener('abort', cancelAll);
    await Promise.all(shards.map((shard) => shard.close()));
  }
}

/** One shard's counters as they are, several merged. */
function combine(parts: TallyData[]): TallyData {
  const [only] = parts;
  return parts.length === 1 && only ? only : mergeTallies(parts);
}
