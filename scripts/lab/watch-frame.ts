// One frame of `lab watch`: a pure function of what was measured in the last second, so it can be tested with
// exact text and rendered the same on a terminal (redrawn in place) or in a log (frames one after another).

/** What one replica did in the last interval. */
export interface WatchRow {
  name: string;
  /** Envoy's health flags for its host, or "not in Envoy". */
  envoy: string;
  state: string;
  requestsPerSecond: number;
  errorsPerSecond: number;
  share: number;
  /** Latency of the watch's own probe calls answered by this replica in the last latencyWindowS, ms; undefined when none. */
  p50Ms: number | undefined;
  p99Ms: number | undefined;
}

export interface WatchFrame {
  time: Date;
  policy: string;
  driver: string;
  rows: WatchRow[];
  /** Probe calls per second the watch itself sends (0: latency columns stay empty). */
  probeRate: number;
  probeFailed: number;
  /** The sliding window p50 and p99 are taken over, in seconds. */
  latencyWindowS: number;
  retriesPerSecond: number;
}

const BAR_WIDTH = 20;

function ms(value: number | undefined): string {
  return value === undefined ? '-' : value.toFixed(1);
}

/** Renders one frame as plain lines (no colour codes, so it reads the same in a file). */
export function formatWatchFrame(frame: WatchFrame): string {
  const header = ['NAME', 'STATE', 'ENVOY', 'RQ/S', 'ERR/S', 'SHARE', '', 'P50 MS', 'P99 MS'];
  const rows = frame.rows.map((r) => {
    const filled = Math.round(r.share * BAR_WIDTH);
    return [
      r.name,
      r.state,
      r.envoy,
      r.requestsPerSecond.toFixed(1),
      r.errorsPerSecond.toFixed(1),
      `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`,
      `${(r.share * 100).toFixed(0)}%`,
      ms(r.p50Ms),
      ms(r.p99Ms),
    ];
  });
  const total = frame.rows.reduce((sum, r) => sum + r.requestsPerSecond, 0);
  const errors = frame.rows.reduce((sum, r) => sum + r.errorsPerSecond, 0);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const probe =
    frame.probeRate > 0
      ? `probe ${frame.probeRate}/s (${frame.probeFailed} failed), p50/p99 of its calls in the last ${frame.latencyWindowS} s`
      : 'probe off';
  return [
    `lab watch  ${frame.time.toISOString().slice(11, 19)}  driver ${frame.driver}  policy ${frame.policy}  ${probe}`,
    line(header),
    ...rows.map(line),
    `total ${total.toFixed(1)} rq/s  ${errors.toFixed(1)} err/s  ${frame.retriesPerSecond.toFixed(1)} retries/s`,
  ].join('\n');
}

/** The p-th percentile (0-100) of values, nearest rank; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
