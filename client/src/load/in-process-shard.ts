import type { LoadShard } from './load-shard.js';
import { runnerOnChannel } from './runner-on-channel.js';
import type { ShardPlan } from './shard-plan.js';

/** A shard run in the calling thread: no worker thread, so a single-worker run costs nothing extra. */
export function inProcessShard(shard: ShardPlan): LoadShard {
  const runner = runnerOnChannel(shard);
  return {
    ready: Promise.resolve(),
    finished: runner.finished,
    start: () => runner.start(),
    stop: () => runner.stop(),
    cancel: () => runner.cancel(),
    progress: () => runner.snapshot(),
    close: async () => {},
  };
}
