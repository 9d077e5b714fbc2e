import type { ShardResult } from './load-runner.js';
import type { TallyData } from './load-tally.js';

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
