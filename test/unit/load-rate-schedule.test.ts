import { describe, expect, it } from 'vitest';
import { planLoad } from '../../client/src/load/load-options.js';
import { callIndex, keyFor, slotDueMs, slotsDueBy, slotsWithin } from '../../client/src/load/load-loop.js';
import { shareOf, splitPlan } from '../../client/src/load/load-shards.js';

const alone = { index: 0, of: 1 };

describe('open-loop schedule', () => {
  it('puts call k at k * 1000 / rate ms', () => {
    expect([0, 1, 2, 10].map((slot) => slotDueMs(slot, alone, 100))).toEqual([0, 10, 20, 100]);
    expect(slotDueMs(3, alone, 0.5)).toBe(6000);
  });

  it('counts the calls due by a time, the first one at once', () => {
    expect(slotsDueBy(0, alone, 100)).toBe(1);
    expect(slotsDueBy(9.99, alone, 100)).toBe(1);
    expect(slotsDueBy(10, alone, 100)).toBe(2);
    expect(slotsDueBy(1000, alone, 100)).toBe(101);
  });

  it('fits rate x duration calls in a window', () => {
    expect(slotsWithin(2000, alone, 100)).toBe(200);
    expect(slotsWithin(1000, alone, 3)).toBe(3);
    expect(slotsWithin(1001, alone, 3)).toBe(4);
    expect(slotsWithin(500, { index: 1, of: 2 }, 1)).toBe(0);
  });

  it('workers interleave into the one schedule of the whole run', () => {
    const rate = 30;
    const run = Array.from({ length: slotsWithin(2000, alone, rate) }, (_, slot) => slotDueMs(slot, alone, rate));
    const shards = [0, 1, 2].map((index) => ({ index, of: 3 }));
    const union = shards
      .flatMap((shard) => Array.from({ length: slotsWithin(2000, shard, rate) }, (_, slot) => slotDueMs(slot, shard, rate)))
      .sort((a, b) => a - b);
    expect(union).toEqual(run);
    for (const elapsed of [0, 33, 34, 500, 1999]) {
      const due = shards.reduce((total, shard) => total + slotsDueBy(elapsed, shard, rate), 0);
      expect(due).toBe(slotsDueBy(elapsed, alone, rate));
    }
  });
});

describe('splitting a run across workers', () => {
  it('deals shares round-robin so they add up exactly', () => {
    expect([0, 1, 2].map((index) => shareOf(10, 3, index))).toEqual([4, 3, 3]);
    expect([0, 1, 2].map((index) => shareOf(2, 3, index))).toEqual([1, 1, 0]);
  });

  it('splits concurrency and count, keeps rate and duration whole, drops a worker with no calls', () => {
    const shards = splitPlan(planLoad({ concurrency: 10, count: 2, workers: 3, rate: 50 }));
    expect(shards.map((shard) => [shard.position, shard.concurrency, shard.limit, shard.rate])).toEqual([
      [{ index: 0, of: 3 }, 4, { kind: 'count', calls: 1 }, 50],
      [{ index: 1, of: 3 }, 3, { kind: 'count', calls: 1 }, 50],
    ]);
    const timed = splitPlan(planLoad({ concurrency: 4, durationS: 2, workers: 2 }));
    expect(timed.map((shard) => shard.limit)).toEqual([
      { kind: 'duration', ms: 2000 },
      { kind: 'duration', ms: 2000 },
    ]);
  });

  it('gives every call index below the count to exactly one worker, and call i the key i % keys', () => {
    const plan = planLoad({ concurrency: 4, count: 11, workers: 3, keyHeader: 'x-k', keys: 4 });
    const indices = splitPlan(plan).flatMap((shard) =>
      Array.from({ length: shard.limit.kind === 'count' ? shard.limit.calls : 0 }, (_, local) => callIndex(shard.position, local)),
    );
    expect(indices.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect([0, 3, 4, 10].map((index) => keyFor(index, plan.keys))).toEqual(['key-0', 'key-3', 'key-0', 'key-2']);
    expect(keyFor(5, null)).toBeUndefined();
  });
});
