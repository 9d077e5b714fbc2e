import type { ShardResult } from './load-runner.js';
import type { WireTally } from './load-tally.js';

/** What runLoad tells a load thread. */
export type MainToThread = { type: 'start' } | { type: 'stop' } | { type: 'cancel' };

/** What a load thread tells runLoad: ready once its channel exists, counters a few times a second, then the result. */
export type ThreadToMain =
  | { type: 'ready' }
  | { type: 'progress'; tally: WireTally }
  | { type: 'done'; result: Omit<ShardResult, 'tally'> & { tally: WireTally } };
