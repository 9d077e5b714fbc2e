/**
 * Latency histograms: an HDR histogram per run (or shard) rather than a list of samples, so memory stays flat
 * however many calls a run makes, percentiles keep 0.1% resolution, and shards in other threads can send theirs
 * compactly and have them merged exactly.
 */
import hdr, { type Histogram } from 'hdr-histogram-js';

export type { Histogram };

/** Latency percentiles in ms, from an HDR histogram of microseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
  mean: number;
}

/**
 * A histogram of call latencies in microseconds with 3 significant digits (0.1% resolution), growing as needed:
 * a deadline can be up to 2^31 ms, far beyond a fixed range worth allocating up front.
 */
export function createLatencyHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Records one latency given in ms (as measured) as whole microseconds, at least 1. */
export function recordLatencyMs(histogram: Histogram, latencyMs: number): void {
  histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
}

/** The histogram as a compact string, to send it from a worker thread. */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/** The inverse of encodeHistogram. */
export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded);
}

/** A new histogram holding every value of `parts` (the parts are left unchanged). */
export function mergeHistograms(parts: readonly Histogram[]): Histogram {
  const merged = createLatencyHistogram();
  for (const part of parts) merged.add(part);
  return merged;
}

/** Percentiles in ms, rounded to the microsecond; null when nothing was recorded. */
export function summarizeLatency(histogram: Histogram): LatencySummary | null {
  if (histogram.totalCount === 0) return null;
  const ms = (micros: number): number => Math.round(micros) / 1000;
  // A percentile is the top of its bucket (0.1% wide) and can exceed the largest value recorded; capping it there
  // keeps p50 <= p90 <= ... <= max true in every report.
  const max = histogram.maxValue;
  const at = (percentile: number): number => ms(Math.min(histogram.getValueAtPercentile(percentile), max));
  return {
    count: histogram.totalCount,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p99_9: at(99.9),
    max: ms(max),
    mean: ms(histogram.mean),
  };
}
