/**
 * The open-loop schedule as pure arithmetic. The run's calls are due at k * 1000 / rate ms (k = 0, 1, 2, ...);
 * with W workers, worker w owns the slots k = w, w + W, w + 2W, ..., so together they keep the one schedule
 * instead of W bursts at the same instants.
 */

/** Which of the run's workers a schedule belongs to. */
export interface ShardPosition {
  index: number;
  of: number;
}

/** When the shard's `slot`-th call (0-based) is due, in ms after the start. */
export function slotDueMs(slot: number, shard: ShardPosition, ratePerS: number): number {
  return ((shard.index + slot * shard.of) * 1000) / ratePerS;
}

/** How many of the shard's slots are due at `elapsedMs` (slot due times <= elapsed). */
export function slotsDueBy(elapsedMs: number, shard: ShardPosition, ratePerS: number): number {
  const runSlots = (elapsedMs * ratePerS) / 1000;
  return Math.max(0, Math.floor((runSlots - shard.index) / shard.of) + 1);
}

/** How many of the shard's slots fall inside a sending window of `durationMs` (due strictly before its end). */
export function slotsWithin(durationMs: number, shard: ShardPosition, ratePerS: number): number {
  const runSlots = (durationMs * ratePerS) / 1000;
  return Math.max(0, Math.ceil((runSlots - shard.index) / shard.of));
}

/** How many of `total` items, dealt round-robin, go to part `index` of `parts` (items i with i % parts == index). */
export function shareOf(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}
