import type { LoadLimit, LoadPlan } from './load-options.js';
import { shareOf, type ShardPosition } from './rate-schedule.js';

/** One worker's part of a run: its own channel, its share of the concurrency and of the calls. */
export interface ShardPlan {
  position: ShardPosition;
  /** This shard's calls in flight at most (and closed-loop lanes). */
  concurrency: number;
  /** The whole run's rate; the shard keeps its own slots of that one schedule (see rate-schedule.ts). */
  rate: number | null;
  /** A duration applies to every shard as is; a count is this shard's share of the total. */
  limit: LoadLimit;
  keys: LoadPlan['keys'];
  target: string;
  deadlineMs: number;
  metadata: Array<[string, string]>;
  name: string;
  balancing: LoadPlan['balancing'];
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
      limit,
      keys: plan.keys,
      target: plan.target,
      deadlineMs: plan.deadlineMs,
      metadata: plan.metadata,
      name: plan.name,
      balancing: plan.balancing,
    });
  }
  return shards;
}

/** The run-wide index of the shard's `local`-th call (0-based): the shard owns indices index, index + of, ... */
export function callIndex(position: ShardPosition, local: number): number {
  return position.index + local * position.of;
}

/** The key header value of the run's call `index`, or undefined when no key header is sent. */
export function keyFor(index: number, keys: LoadPlan['keys']): string | undefined {
  return keys ? `key-${index % keys.count}` : undefined;
}
