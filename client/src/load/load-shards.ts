/**
 * How a run is split into shards and where each shard runs. A shard is one worker's part of the run (its own
 * channel, its share of the concurrency and of the calls); it runs either in this thread or in a worker thread
 * (load-thread.ts) so W threads can use W cores, and runLoad drives both kinds through the one LoadShard interface.
 * The messages between runLoad and a thread are defined here too, next to the only code that sends them.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loopOnChannel, type LoopEvents, type ShardPlan, type ShardResult } from './load-loop.js';
import type { LoadLimit, LoadPlan } from './load-options.js';
import { fromWire, LoadTally, type TallyData, type WireTally } from './load-tally.js';

/** One worker of a run, in this thread or in a worker thread; runLoad drives both the same way. */
export interface LoadShard {
  /** Resolves once the shard can start at once (its thread is up and its channel created). */
  readonly ready: Promise<void>;
  /** Resolves when the shard has stopped sending and every call it started has settled. */
  readonly finished: Promise<ShardResult>;
  start(): void;
  /** Stop starting calls; those in flight settle on their own (deadline). */
  stop(): void;
  /** Stop and cancel the calls in flight. */
  cancel(): void;
  /** The latest counters known (a thread reports them a few times a second). */
  progress(): TallyData;
  /** Releases what the shard holds (its thread); safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Splits a plan across its workers: concurrency and count are dealt round-robin (worker w gets the items with
 * i % workers == w), so the shares add up exactly and call i of the run carries key i % keys on any worker.
 * A worker whose count share is 0 is left out.
 */
export function splitPlan(plan: LoadPlan): ShardPlan[] {
  const shards: ShardPlan[] = [];
  for (let index = 0; index < plan.workers; index++) {
    const limit: LoadLimit =
      plan.limit.kind === 'count' ? { kind: 'count', calls: shareOf(plan.limit.calls, plan.workers, index) } : plan.limit;
    if (limit.kind === 'count' && limit.calls === 0) continue;
    shards.push({
      position: { index, of: plan.workers },
      concurrency: shareOf(plan.concurrency, plan.workers, index),
      rate: plan.rate,
      catchUp: plan.catchUp,
      limit,
      keys: plan.keys,
      target: plan.target,
      deadlineMs: plan.deadlineMs,
      metadata: plan.metadata,
      name: plan.name,
      balancing: plan.balancing,
      xdsBootstrap: plan.xdsBootstrap,
    });
  }
  return shards;
}

/** How many of `total` items, dealt round-robin, go to part `index` of `parts` (items i with i % parts == index). */
export function shareOf(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

/**
 * A shard run in the calling thread: no worker thread, so a single-worker run costs nothing extra, and the caller
 * can have the loop's per-call events.
 */
export function inProcessShard(shard: ShardPlan, events: LoopEvents = {}): LoadShard {
  const loop = loopOnChannel(shard, events);
  return {
    ready: Promise.resolve(),
    finished: loop.finished,
    start: () => loop.start(),
    stop: () => loop.stop(),
    cancel: () => loop.cancel(),
    progress: () => loop.snapshot(),
    close: async () => {},
  };
}

/** What runLoad tells a load thread. */
export type MainToThread = { type: 'start' } | { type: 'stop' } | { type: 'cancel' };

/** What a load thread tells runLoad: ready once its channel exists, counters a few times a second, then the result. */
export type ThreadToMain =
  | { type: 'ready' }
  | { type: 'progress'; tally: WireTally }
  | { type: 'done'; result: Omit<ShardResult, 'tally'> & { tally: WireTally } };

/** A shard run in a worker thread with its own channel and event loop, so W threads can use W cores. */
export function threadShard(shard: ShardPlan): LoadShard {
  const worker = startLoadThread(shard);
  let latest: TallyData = new LoadTally().snapshot();
  let done = false;
  const send = (message: MainToThread): void => worker.postMessage(message);

  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: ThreadToMain) => {
      if (message.type === 'ready') resolve();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`load thread ${shard.position.index} exited (${code}) before it was ready`)));
  });
  const finished = new Promise<ShardResult>((resolve, reject) => {
    worker.on('message', (message: ThreadToMain) => {
      if (message.type === 'progress') latest = fromWire(message.tally);
      if (message.type === 'done') {
        done = true;
        latest = fromWire(message.result.tally);
        resolve({ ...message.result, tally: latest });
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`load thread ${shard.position.index} exited (${code}) before reporting its calls`));
    });
  });
  // A failure surfaces through whichever of the two the caller awaits; the other must not become unhandled.
  ready.catch(() => {});
  finished.catch(() => {});

  return {
    ready,
    finished,
    start: () => send({ type: 'start' }),
    stop: () => send({ type: 'stop' }),
    cancel: () => send({ type: 'cancel' }),
    progress: () => latest,
    close: async () => {
      await worker.terminate();
    },
  };
}

/**
 * Starts load-thread with the shard as workerData. From TypeScript sources (tsx, vitest) the thread registers tsx
 * itself: on Node 20 hooks given to the parent with --import do not load a worker's .ts entry module.
 */
function startLoadThread(shard: ShardPlan): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './load-thread.ts' : './load-thread.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData: shard });
  const bootstrap = `import(${JSON.stringify(tsxEsmApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: shard, execArgv: [] });
}

/**
 * The file URL of tsx's ESM API, read from tsx's own exports map: an eval'd worker resolves bare names from the
 * working directory, not from this repo, and tsx's CommonJS API fails to register its hooks inside a worker.
 */
function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } } | undefined>;
  };
  const file = manifest.exports['./esm/api']?.import?.default;
  if (!file) throw new Error(`tsx at ${manifestPath} has no ESM API export`);
  return pathToFileURL(join(dirname(manifestPath), file)).href;
}
