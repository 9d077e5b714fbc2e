import { parentPort, workerData } from 'node:worker_threads';
import { toWire } from './load-tally.js';
import { runnerOnChannel } from './runner-on-channel.js';
import type { ShardPlan } from './shard-plan.js';
import type { MainToThread, ThreadToMain } from './thread-messages.js';

/** Worker-thread entry: runs one shard on its own channel, driven by messages from thread-shard.ts. */

// Often enough for a per-second progress line that is never more than a quarter second behind.
const PROGRESS_EVERY_MS = 250;

const port = parentPort;
if (!port) throw new Error('load-thread runs only as a worker thread (see thread-shard.ts)');

const runner = runnerOnChannel(workerData as ShardPlan);
const post = (message: ThreadToMain): void => port.postMessage(message);
let progressTimer: NodeJS.Timeout | undefined;

port.on('message', (message: MainToThread) => {
  switch (message.type) {
    case 'start':
      runner.start();
      progressTimer = setInterval(() => post({ type: 'progress', tally: toWire(runner.snapshot()) }), PROGRESS_EVERY_MS);
      break;
    case 'stop':
      runner.stop();
      break;
    case 'cancel':
      runner.cancel();
      break;
  }
});

void runner.finished.then((result) => {
  clearInterval(progressTimer);
  post({ type: 'done', result: { ...result, tally: toWire(result.tally) } });
  // Nothing else keeps the thread alive once its port is closed, so it exits by itself.
  port.close();
});

post({ type: 'ready' });
