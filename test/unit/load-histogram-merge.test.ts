import { describe, expect, it } from 'vitest';
import type { CallResult } from '../../client/src/greeter-call.js';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeHistograms,
  recordLatencyMs,
  summarizeLatency,
} from '../../client/src/load/load-histogram.js';
import { fromWire, LoadTally, mergeTallies, toWire } from '../../client/src/load/load-tally.js';

/** Deterministic latencies (ms) with a long tail: most around 1-5 ms, a few up to 2 s. */
function latencies(count: number, seed: number): number[] {
  let state = seed;
  const next = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return Array.from({ length: count }, () => {
    const u = next();
    return u < 0.99 ? 1 + u * 4 : 50 + next() * 1950;
  });
}

describe('latency histogram merge', () => {
  const values = latencies(20_000, 7);
  const whole = createLatencyHistogram();
  for (const value of values) recordLatencyMs(whole, value);
  const left = createLatencyHistogram();
  const right = createLatencyHistogram();
  values.forEach((value, index) => recordLatencyMs(index % 3 === 0 ? left : right, value));

  it('two histograms merged give the same percentiles as one fed every value', () => {
    const merged = mergeHistograms([left, right]);
    expect(merged.totalCount).toBe(20_000);
    expect(summarizeLatency(merged)).toEqual(summarizeLatency(whole));
  });

  it('also after each part went through encode/decode (the worker-thread path)', () => {
    const merged = mergeHistograms([decodeHistogram(encodeHistogram(left)), decodeHistogram(encodeHistogram(right))]);
    const expected = summarizeLatency(whole);
    const actual = summarizeLatency(merged);
    expect(actual).toMatchObject({ count: expected?.count, p50: expected?.p50, p90: expected?.p90, p99: expected?.p99, p99_9: expected?.p99_9 });
    // The exact max is not encoded; decoding restores it to within the histogram's 0.1% resolution.
    expect(actual?.max).toBeCloseTo(expected?.max ?? 0, 0);
  });

  it('percentiles are in ms, ordered, and close to the exact ones', () => {
    const summary = summarizeLatency(whole);
    const sorted = [...values].sort((a, b) => a - b);
    const exact = (p: number): number => sorted[Math.ceil((p / 100) * sorted.length) - 1] ?? 0;
    expect(summary?.p50).toBeCloseTo(exact(50), 1);
    expect(summary?.p99).toBeCloseTo(exact(99), 1);
    const order = [summary?.p50, summary?.p90, summary?.p99, summary?.p99_9, summary?.max] as number[];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(summarizeLatency(createLatencyHistogram())).toBeNull();
  });
});

describe('tally merge', () => {
  const result = (index: number, latencyMs: number): CallResult =>
    index % 10 === 9
      ? { ok: false, code: 14, codeName: 'UNAVAILABLE', details: '', latencyMs }
      : { ok: true, hostname: `host-${index % 3}`, message: '', latencyMs, code: 0 };

  it('gives the counts, maps and percentiles of one tally fed every call', () => {
    const values = latencies(3000, 11);
    const whole = new LoadTally();
    const parts = [new LoadTally(), new LoadTally()];
    values.forEach((latency, index) => {
      for (const tally of [whole, parts[index % 2]!]) {
        tally.start();
        tally.settle(result(index, latency), `key-${index % 4}`);
      }
    });
    const merged = mergeTallies(parts.map((part) => fromWire(toWire(part.snapshot()))));
    const expected = whole.snapshot();
    expect(merged).toMatchObject({
      sent: expected.sent,
      ok: expected.ok,
      failed: expected.failed,
      inFlight: 0,
      failedByCode: expected.failedByCode,
      byHost: expected.byHost,
      hostsByKey: expected.hostsByKey,
    });
    expect(merged.sent).toBe(merged.ok + merged.failed);
    expect(summarizeLatency(merged.okLatency)?.p99).toBe(summarizeLatency(expected.okLatency)?.p99);
    expect(summarizeLatency(merged.allLatency)?.p50).toBe(summarizeLatency(expected.allLatency)?.p50);
  });

  it('throws when a call is settled that was never started', () => {
    expect(() => new LoadTally().settle(result(0, 1))).toThrow('never started');
  });
});
