import type { ClientConfig, LogFormat } from './config.js';

/** Events in the worker's life other than calls and summaries. */
export type LifecycleEvent =
  | { event: 'start'; config: ClientConfig; maxInFlight: number }
  | { event: 'stopping'; reason: string; inFlight: number }
  | { event: 'cancelling'; reason: string; inFlight: number }
  | { event: 'skip'; inFlight: number; limit: number };

/** Formats a lifecycle event as one log line (no trailing newline). */
export function formatLifecycleLine(time: Date, entry: LifecycleEvent, format: LogFormat): string {
  const iso = time.toISOString();
  switch (entry.event) {
    case 'start': {
      const { target, intervalMs, deadlineMs, summaryEveryS, count, name } = entry.config;
      if (format === 'json') {
        return JSON.stringify({
          time: iso,
          event: 'start',
          target,
          intervalMs,
          deadlineMs,
          summaryEveryS,
          count,
          name,
          maxInFlight: entry.maxInFlight,
        });
      }
      return (
        `${iso} start target=${target} interval=${intervalMs}ms deadline=${deadlineMs}ms ` +
        `summary-every=${summaryEveryS}s count=${count} name=${JSON.stringify(name)} max-in-flight=${entry.maxInFlight}`
      );
    }
    case 'stopping':
    case 'cancelling':
      if (format === 'json') {
        return JSON.stringify({ time: iso, event: entry.event, reason: entry.reason, inFlight: entry.inFlight });
      }
      return `${iso} ${entry.event} reason=${entry.reason} in-flight=${entry.inFlight}`;
    case 'skip':
      if (format === 'json') {
        return JSON.stringify({ time: iso, event: 'skip', inFlight: entry.inFlight, limit: entry.limit });
      }
      return `${iso} skip in-flight=${entry.inFlight} limit=${entry.limit} (call not started)`;
  }
}
