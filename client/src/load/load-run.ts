/**
 * runLoad, the one way to run calls at a load, from code or from either program (the load CLI, the worker client):
 * it checks the options, splits the run into shards (in this thread for one worker, in worker threads for more),
 * starts them together so they share one schedule and one duration, relays stop and cancel, reports progress and,
 * in-process, each call, and merges the shards' counters into the report once every call has settled.
 */
import type { LoopEvents } from './load-loop.js';
import { LoadOptionsError, MAX_TIMER_MS, planLoad, type LoadOptions, type LoadPlan } from './load-options.js';
import { buildLoadReport, type LoadReport } from './load-report.js';
import { inProcessShard, splitPlan, threadShard, type LoadShard } from './load-shards.js';
import { mergeTallies, type TallyData } from './load-tally.js';

/** The state of a run, reported about once a second while it runs: enough for a progress line or a running summary. */
export interface LoadProgress {
  elapsedS: number;
  /** The run's limit: seconds of sending, or total calls (the other is null); both null = until stopped. */
  plannedDurationS: number | null;
  plannedCount: number | null;
  /** sent == ok + failed + inFlight. */
  sent: number;
  ok: number;
  failed: number;
  inFlight: number;
  /** Open loop: calls due while `concurrency` were in flight, not started (so not in `sent`). */
  skippedAtCap: number;
  /** Failed calls per grpc status name, names sorted. */
  failedByCode: Record<string, number>;
  /** OK calls per hostname that answered, in natural name order. */
  byHost: Record<string, number>;
  /** Calls started per second since the previous progress report. */
  ratePerS: number;
  /** p99 latency of the OK calls so far in ms; null before the first. */
  p99Ms: number | null;
}

/** How a caller steers a run and watches it. */
export interface RunLoadHooks extends LoopEvents {
  /** Abort = stop starting calls, let those in flight settle, then resolve with an interrupted report. */
  signal?: AbortSignal;
  /** Abort = also cancel the calls in flight (they count as CANCELLED failures). */
  cancelSignal?: AbortSignal;
  /** Once, when `signal` has taken effect (no call starts any more), with the counts at that moment. */
  onStopping?: (progress: LoadProgress) => void;
  /** Once, when `cancelSignal` has taken effect (the calls in flight are being cancelled), with the counts then. */
  onCancelling?: (progress: LoadProgress) => void;
  onProgress?: (progress: LoadProgress) => void;
  /** Period of onProgress; default 1000 ms. */
  progressEveryMs?: number;
}

/**
 * Runs a load against a Greeter target and resolves with its report once every call has settled. Options are
 * checked first (LoadOptionsError on a bad one). With workers = 1 everything runs in this thread on one channel;
 * with more, each worker thread has its own channel and share, and their counters and histograms are merged.
 * onSettled and onSkipped (per call, synchronous) need workers = 1.
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
  checkHooks(plan, hooks);
  const events: LoopEvents = { onSettled: hooks.onSettled, onSkipped: hooks.onSkipped };
  const shards: LoadShard[] = splitPlan(plan).map((shard) => (plan.workers === 1 ? inProcessShard(shard, events) : threadShard(shard)));
  let startedAt: number | undefined;
  let previous = { at: 0, sent: 0 };
  // The counts now from every shard; `advance` makes this the reference of the next report's rate.
  const progressNow = (advance: boolean): LoadProgress => {
    const now = performance.now();
    const tally = combine(shards.map((shard) => shard.progress()));
    const ratePerS = now > previous.at ? (tally.sent - previous.sent) / ((now - previous.at) / 1000) : 0;
    if (advance) previous = { at: now, sent: tally.sent };
    return {
      elapsedS: startedAt === undefined ? 0 : (now - startedAt) / 1000,
      plannedDurationS: plan.limit.kind === 'duration' ? plan.limit.ms / 1000 : null,
      plannedCount: plan.limit.kind === 'count' ? plan.limit.calls : null,
      sent: tally.sent,
      ok: tally.ok,
      failed: tally.failed,
      inFlight: tally.inFlight,
      skippedAtCap: tally.skippedAtCap,
      failedByCode: tally.failedByCode,
      byHost: tally.byHost,
      ratePerS,
      p99Ms: tally.okLatency.totalCount > 0 ? tally.okLatency.getValueAtPercentile(99) / 1000 : null,
    };
  };
  // The counts are read before the shards are told, so "in flight" is what the stop or cancel applies to.
  const stopAll = (): void => {
    const progress = progressNow(false);
    shards.forEach((shard) => shard.stop());
    hooks.onStopping?.(progress);
  };
  const cancelAll = (): void => {
    const progress = progressNow(false);
    shards.forEach((shard) => shard.cancel());
    hooks.onCancelling?.(progress);
  };
  let progressTimer: NodeJS.Timeout | undefined;
  try {
    // Threads take a moment to boot; starting them together keeps the rate schedule and the duration shared.
    await Promise.all(shards.map((shard) => shard.ready));
    startedAt = performance.now();
    previous = { at: startedAt, sent: 0 };
    for (const shard of shards) shard.start();
    hooks.signal?.addEventListener('abort', stopAll, { once: true });
    hooks.cancelSignal?.addEventListener('abort', cancelAll, { once: true });
    if (hooks.signal?.aborted) stopAll();
    if (hooks.cancelSignal?.aborted) cancelAll();

    const { onProgress } = hooks;
    if (onProgress) progressTimer = setInterval(() => onProgress(progressNow(true)), hooks.progressEveryMs ?? 1000);

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

/** Refuses hooks the run cannot honour, in the same one-line form as a bad option. */
function checkHooks(plan: LoadPlan, hooks: RunLoadHooks): void {
  if (plan.workers > 1 && (hooks.onSettled || hooks.onSkipped)) {
    throw new LoadOptionsError(
      `onSettled and onSkipped work only in-process: --workers ${plan.workers} runs the calls in worker threads, where these hooks cannot be called (use --workers 1)`,
    );
  }
  const every = hooks.progressEveryMs;
  if (every !== undefined && !(Number.isFinite(every) && every > 0 && every <= MAX_TIMER_MS)) {
    throw new LoadOptionsError(`progressEveryMs must be above 0 and at most ${MAX_TIMER_MS}, got ${JSON.stringify(String(every))}`);
  }
}

/** One shard's counters as they are, several merged. */
function combine(parts: TallyData[]): TallyData {
  const [only] = parts;
  return parts.length === 1 && only ? only : mergeTallies(parts);
}
