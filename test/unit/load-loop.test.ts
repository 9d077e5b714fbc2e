import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CallResult } from '../../client/src/greeter-call.js';
import { planLoad, type LoadOptions } from '../../client/src/load/load-options.js';
import { LoadLoop, type SettledCall, type ShardCall } from '../../client/src/load/load-loop.js';
import { splitPlan } from '../../client/src/load/load-shards.js';

afterEach(() => {
  vi.useRealTimers();
});

function shardOf(options: LoadOptions) {
  const [shard] = splitPlan(planLoad(options));
  if (!shard) throw new Error('no shard');
  return shard;
}

/** A call that answers after `ms` on the (possibly fake) timers, or settles CANCELLED when aborted first. */
function callTaking(ms: (n: number) => number, outcome: (n: number) => CallResult = () => okResult): ShardCall & { keys: Array<string | undefined> } {
  let n = 0;
  const keys: Array<string | undefined> = [];
  const call = (key: string | undefined, signal: AbortSignal): Promise<CallResult> => {
    const mine = n++;
    keys.push(key);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(outcome(mine)), ms(mine));
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve({ ok: false, code: 1, codeName: 'CANCELLED', details: '', latencyMs: 0 });
      });
    });
  };
  return Object.assign(call, { keys });
}

const okResult: CallResult = { ok: true, hostname: 'a', message: '', latencyMs: 1, code: 0 };

describe('LoadLoop closed loop', () => {
  it('keeps exactly `concurrency` calls going and sends exactly --count', async () => {
    vi.useFakeTimers();
    let inFlight = 0;
    let peak = 0;
    const inner = callTaking(() => 10);
    const loop = new LoadLoop(shardOf({ concurrency: 3, count: 30, keyHeader: 'x-k', keys: 4 }), (key, signal) => {
      peak = Math.max(peak, ++inFlight);
      return inner(key, signal).finally(() => inFlight--);
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(100);
    const result = await loop.finished;
    expect(result.tally).toMatchObject({ sent: 30, ok: 30, failed: 0, inFlight: 0 });
    expect(peak).toBe(3);
    expect(result.interrupted).toBe(false);
    expect(inner.keys.slice(0, 6)).toEqual(['key-0', 'key-1', 'key-2', 'key-3', 'key-0', 'key-1']);
  });

  it('stops starting calls at the end of --duration', async () => {
    vi.useFakeTimers();
    const loop = new LoadLoop(shardOf({ concurrency: 2, durationS: 1 }), callTaking(() => 100));
    loop.start();
    await vi.advanceTimersByTimeAsync(1100);
    const result = await loop.finished;
    // Calls start at 0, 100, ..., 900 ms on each of the 2 lanes.
    expect(result.tally.sent).toBe(20);
  });
});

describe('LoadLoop open loop', () => {
  it('starts calls on the rate schedule whatever the completions', async () => {
    vi.useFakeTimers();
    const starts: number[] = [];
    const inner = callTaking(() => 25);
    const loop = new LoadLoop(shardOf({ concurrency: 10, rate: 100, durationS: 1 }), (key, signal) => {
      starts.push(performance.now());
      return inner(key, signal);
    });
    const t0 = performance.now();
    loop.start();
    await vi.advanceTimersByTimeAsync(1100);
    const result = await loop.finished;
    expect(result.tally).toMatchObject({ sent: 100, ok: 100, skippedAtCap: 0 });
    expect(starts.slice(0, 4).map((at) => Math.round(at - t0))).toEqual([0, 10, 20, 30]);
  });

  it('skips and counts a due call while `concurrency` calls are in flight', async () => {
    vi.useFakeTimers();
    const loop = new LoadLoop(shardOf({ concurrency: 2, rate: 100, durationS: 1 }), callTaking(() => 35));
    loop.start();
    await vi.advanceTimersByTimeAsync(1100);
    const { tally } = await loop.finished;
    // Each call holds a slot for 35 ms: of every 4 slots (40 ms) 2 start and 2 are skipped.
    expect(tally.sent + tally.skippedAtCap).toBe(100);
    expect(tally.sent).toBe(50);
    expect(tally.sent).toBe(tally.ok + tally.failed);
  });

  it('with --count sends exactly that many even when slots are skipped', async () => {
    vi.useFakeTimers();
    const loop = new LoadLoop(shardOf({ concurrency: 1, rate: 100, count: 10 }), callTaking(() => 15));
    loop.start();
    await vi.advanceTimersByTimeAsync(1000);
    const { tally } = await loop.finished;
    expect(tally.sent).toBe(10);
    expect(tally.skippedAtCap).toBeGreaterThan(0);
  });
});

describe('LoadLoop accounting', () => {
  const mixed = (n: number): CallResult =>
    n % 7 === 3
      ? { ok: false, code: 14, codeName: 'UNAVAILABLE', details: '', latencyMs: 2 }
      : { ok: true, hostname: `h${n % 2}`, message: '', latencyMs: 2, code: 0 };

  it.each([
    ['closed', {}],
    ['open', { rate: 2000 }],
  ])('%s loop: stop() mid-run waits for calls in flight and sent == ok + failed', async (_mode, extra) => {
    const loop = new LoadLoop(shardOf({ concurrency: 8, durationS: 30, ...extra }), callTaking((n) => n % 5, mixed));
    loop.start();
    setTimeout(() => loop.stop(), 60);
    const { tally, interrupted } = await loop.finished;
    expect(interrupted).toBe(true);
    expect(tally.sent).toBeGreaterThan(10);
    expect(tally.inFlight).toBe(0);
    expect(tally.sent).toBe(tally.ok + tally.failed);
    expect(tally.failedByCode['UNAVAILABLE']).toBeGreaterThan(0);
  });

  it('cancel() settles the calls in flight as CANCELLED failures', async () => {
    const loop = new LoadLoop(shardOf({ concurrency: 4, durationS: 30 }), callTaking(() => 60_000));
    loop.start();
    loop.cancel();
    const { tally, interrupted } = await loop.finished;
    expect(interrupted).toBe(true);
    expect(tally).toMatchObject({ sent: 4, ok: 0, failed: 4, failedByCode: { CANCELLED: 4 } });
  });

  it.each([
    ['closed', {}],
    ['open', { rate: 1000 }],
  ])('%s loop: a call that rejects still counts once, as UNKNOWN, and is reported settled', async (_mode, extra) => {
    const settled: SettledCall[] = [];
    const loop = new LoadLoop(shardOf({ concurrency: 2, count: 6, ...extra }), () => Promise.reject(new Error('bug')), {
      onSettled: (call) => settled.push(call),
    });
    loop.start();
    const { tally } = await loop.finished;
    expect(tally).toMatchObject({ sent: 6, ok: 0, failed: 6, failedByCode: { UNKNOWN: 6 } });
    expect(settled.map((call) => call.result)).toEqual(Array(6).fill(expect.objectContaining({ ok: false, codeName: 'UNKNOWN', details: 'bug' })));
  });

  it('stop() before start() sends nothing and reports interrupted', async () => {
    const loop = new LoadLoop(shardOf({ count: 5 }), callTaking(() => 1));
    loop.stop();
    loop.start();
    const { tally, interrupted } = await loop.finished;
    expect(tally.sent).toBe(0);
    expect(interrupted).toBe(true);
  });
});

describe('LoadLoop per-call events', () => {
  it('reports each settled call with its 1-based number in start order, start time, result and key', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-23T10:00:00.000Z') });
    const settled: SettledCall[] = [];
    // Later calls answer sooner (they end at 50, 45, 40 and 35 ms), so they settle in reverse start order.
    const loop = new LoadLoop(
      shardOf({ concurrency: 10, rate: 100, count: 4, keyHeader: 'x-k', keys: 3 }),
      callTaking((n) => 50 - n * 15, (n) => ({ ok: true, hostname: `h${n}`, message: '', latencyMs: 1, code: 0 })),
      { onSettled: (call) => settled.push(call) },
    );
    loop.start();
    await vi.advanceTimersByTimeAsync(100);
    await loop.finished;
    expect(settled.map((call) => call.seq)).toEqual([4, 3, 2, 1]);
    const first = settled.find((call) => call.seq === 1);
    expect(first).toMatchObject({ key: 'key-0', result: { ok: true, hostname: 'h0' } });
    expect(settled.map((call) => [call.seq, call.startedAt.toISOString(), call.key]).sort()).toEqual([
      [1, '2026-11-23T10:00:00.000Z', 'key-0'],
      [2, '2026-11-23T10:00:00.010Z', 'key-1'],
      [3, '2026-11-23T10:00:00.020Z', 'key-2'],
      [4, '2026-11-23T10:00:00.030Z', 'key-0'],
    ]);
  });

  it('never has more than `concurrency` calls out, and reports each skipped call with the count in flight and the cap', async () => {
    vi.useFakeTimers();
    let inFlight = 0;
    let peak = 0;
    const inner = callTaking(() => 1000);
    const skips: Array<[number, number]> = [];
    const loop = new LoadLoop(
      shardOf({ concurrency: 2, rate: 100, untilStopped: true }),
      (key, signal) => {
        peak = Math.max(peak, ++inFlight);
        return inner(key, signal).finally(() => inFlight--);
      },
      { onSkipped: (now, limit) => skips.push([now, limit]) },
    );
    loop.start();
    await vi.advanceTimersByTimeAsync(45);
    // Slots at 0 and 10 ms start; those at 20, 30 and 40 ms find 2 calls in flight.
    expect(peak).toBe(2);
    expect(skips).toEqual([
      [2, 2],
      [2, 2],
      [2, 2],
    ]);
    loop.cancel();
    const { tally } = await loop.finished;
    expect(tally).toMatchObject({ sent: 2, skippedAtCap: 3, failedByCode: { CANCELLED: 2 } });
  });
});

describe('LoadLoop until stopped', () => {
  it('keeps to the schedule with no end until stop(), then starts nothing more and waits for the calls in flight', async () => {
    vi.useFakeTimers();
    const inner = callTaking(() => 25);
    let started = 0;
    const loop = new LoadLoop(shardOf({ concurrency: 10, rate: 100, untilStopped: true }), (key, signal) => {
      started++;
      return inner(key, signal);
    });
    let finished = false;
    void loop.finished.then(() => {
      finished = true;
    });
    loop.start();
    await vi.advanceTimersByTimeAsync(10_005);
    expect(started).toBe(1001);
    expect(finished).toBe(false);

    loop.stop();
    // The calls started at 9990 and 10000 ms are still out; they settle, and nothing new starts.
    expect(loop.snapshot().inFlight).toBe(2);
    await vi.advanceTimersByTimeAsync(15);
    expect(finished).toBe(false);
    expect(loop.snapshot().inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    const { tally, interrupted } = await loop.finished;
    expect(started).toBe(1001);
    expect(tally).toMatchObject({ sent: 1001, ok: 1001, failed: 0, inFlight: 0 });
    // Stopping is how such a run ends, not a cut-short one.
    expect(interrupted).toBe(false);
  });

  it('closed loop: lanes go on until stop()', async () => {
    vi.useFakeTimers();
    const loop = new LoadLoop(shardOf({ concurrency: 2, untilStopped: true }), callTaking(() => 100));
    loop.start();
    await vi.advanceTimersByTimeAsync(60_000);
    // About 600 calls per lane in a minute, and still going.
    const sentBeforeStop = loop.snapshot().sent;
    expect(sentBeforeStop).toBeGreaterThan(1100);
    loop.stop();
    await vi.advanceTimersByTimeAsync(200);
    const { tally, interrupted } = await loop.finished;
    expect(tally).toMatchObject({ sent: sentBeforeStop, ok: sentBeforeStop, inFlight: 0 });
    expect(interrupted).toBe(false);
  });
});

describe('LoadLoop after a stall', () => {
  /**
   * Runs a 100/s open loop whose event loop is blocked for the first 105 ms (slots 1 to 10 fall due meanwhile), then
   * free for 30 ms; returns how many calls started and how many slots had fallen due by the stop.
   */
  async function runAroundStall(catchUp: boolean): Promise<{ sent: number; skipped: number; due: number }> {
    const loop = new LoadLoop(shardOf({ concurrency: 100, rate: 100, untilStopped: true, catchUp }), callTaking(() => 1));
    const startedAt = performance.now();
    loop.start();
    while (performance.now() < startedAt + 105) {
      // The event loop is busy: no timer can fire.
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const due = Math.floor((performance.now() - startedAt) / 10) + 1;
    loop.stop();
    const { tally } = await loop.finished;
    return { sent: tally.sent, skipped: tally.skippedAtCap, due };
  }

  it('catches up by default: every call missed during the stall is started', async () => {
    const { sent, due } = await runAroundStall(true);
    expect(sent).toBeGreaterThanOrEqual(due - 1);
  });

  it('with catchUp false starts only the latest missed call, letting at least 9 go, and none is counted skipped', async () => {
    const { sent, skipped, due } = await runAroundStall(false);
    expect(sent).toBeLessThanOrEqual(due - 9);
    expect(skipped).toBe(0);
    expect(sent).toBeGreaterThanOrEqual(2);
  });
});

describe('LoadLoop open loop latency', () => {
  it('counts a call from when it was due, so a stalled event loop shows in the percentiles (coordinated omission)', async () => {
    // 100 calls/s for 0.2 s: 20 calls due every 10 ms, each answering at once (its own latencyMs is 1 ms).
    const loop = new LoadLoop(shardOf({ concurrency: 50, rate: 100, durationS: 0.2 }), () => Promise.resolve(okResult));
    loop.start();
    // The event loop is busy for 100 ms right after the start: the calls due meanwhile start late, all at once.
    const busyUntil = performance.now() + 100;
    while (performance.now() < busyUntil) {
      // Blocks on purpose, as a GC pause or a busy handler would.
    }
    const { tally } = await loop.finished;
    expect(tally.ok).toBe(20);
    // The call due at 10 ms started at about 100 ms: about 90 ms late, far above its own 1 ms.
    expect(tally.okLatency.maxValue / 1000).toBeGreaterThan(80);
    // A call started on time keeps its own latency: the first one, started by start() itself, stays at 1 ms.
    expect(tally.okLatency.getValueAtPercentile(1) / 1000).toBeLessThan(2);
  });
});
