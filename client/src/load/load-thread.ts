/**
 * Worker-thread entry: runs one shard (its ShardPlan arrives as workerData) on its own channel and event loop,
 * driven by messages from threadShard in load-shards.ts. It stays its own file because a worker thread is started
 * from a module path, and this module must do nothing but serve that one thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loopOnChannel, type ShardPlan } from './load-loop.js';
import type { MainToThread, ThreadToMain } from './load-shards.js';
import { toWire } from './load-tally.js';

// Often enough for a per-second progress line that is never more than a quarter second behind.
const PROGRESS_EVERY_MS = 250;

const port = parentPort;
if (!port) throw new Error('load-thread runs only as a worker thread (see threadShard in load-shards.ts)');

const loop = loopOnChannel(workerData as ShardPlan);
const post = (message: ThreadToMain): void => port.postMessage(message);
let progressTimer: NodeJS.Timeout | undefined;

port.on('message', (message: MainToThread) => {
  switch (message.type) {
    case 'start':
      loop.start();
      progressTimer = setInterval(() => post({ type: 'progress', tally: toWire(loop.snapshot()) }), PROGRESS_EVERY_MS);
      break;
    case 'stop':
      loop.stop();
      break;
    case 'cancel':
      loop.cancel();
      break;
  }
});

void loop.finished.then((result) => {
  clearInterval(progressTimer);
  post({ type: 'done', result: { ...result, tally: toWire(result.tally) } });
  // Nothing else keeps the thread alive once its port is closed, so it exits by itself.
  port.close();
});

post({ type: 'ready' });
