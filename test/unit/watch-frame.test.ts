// The live view's frame is a pure function: exact text for a fixed measurement.
import { expect, test } from 'vitest';
import { formatWatchFrame, percentile } from '../../scripts/lab/watch-frame.js';

test('one row per replica with flags, rates, a share bar and probe latency, then the totals', () => {
  const text = formatWatchFrame({
    time: new Date('2026-11-23T12:00:05.000Z'),
    driver: 'local',
    policy: 'ROUND_ROBIN',
    probeRate: 10,
    probeFailed: 0,
    latencyWindowS: 5,
    retriesPerSecond: 1.5,
    rows: [
      { name: 'grpc-server-1', state: 'running', envoy: 'healthy', requestsPerSecond: 15, errorsPerSecond: 0, share: 0.75, p50Ms: 3.21, p99Ms: 9.87 },
      { name: 'grpc-server-2', state: 'paused', envoy: 'failed_outlier_check', requestsPerSecond: 5, errorsPerSecond: 2, share: 0.25, p50Ms: undefined, p99Ms: undefined },
    ],
  });
  expect(text.split('\n')).toEqual([
    'lab watch  12:00:05  driver local  policy ROUND_ROBIN  probe 10/s (0 failed), p50/p99 of its calls in the last 5 s',
    'NAME           STATE    ENVOY                 RQ/S  ERR/S  SHARE                      P50 MS  P99 MS',
    `grpc-server-1  running  healthy               15.0  0.0    ${'█'.repeat(15)}${'░'.repeat(5)}  75%  3.2     9.9`,
    `grpc-server-2  paused   failed_outlier_check  5.0   2.0    ${'█'.repeat(5)}${'░'.repeat(15)}  25%  -       -`,
    'total 20.0 rq/s  2.0 err/s  1.5 retries/s',
  ]);
});

test('percentile: nearest rank, and undefined for no values', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  expect(percentile(values, 50)).toBe(50);
  expect(percentile(values, 99)).toBe(99);
  expect(percentile([7], 99)).toBe(7);
  expect(percentile([], 50)).toBeUndefined();
});
