import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ShardResult } from './load-runner.js';
import type { LoadShard } from './load-shard.js';
import { fromWire, LoadTally, type TallyData } from './load-tally.js';
import type { ShardPlan } from './shard-plan.js';
import type { MainToThread, ThreadToMain } from './thread-messages.js';

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
