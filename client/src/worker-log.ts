/**
 * Every line the worker client prints: one per call, one per lifecycle event (start, stopping, cancelling, a
 * skipped call) and the running and final summaries, each in text or JSON (LOG_FORMAT). They are pure functions of
 * what they are given, so their exact output is tested, and they live together so the two formats stay in step.
 */
import type { SettledCall } from './load/load-loop.js';
import type { LoadReport } from './load/load-report.js';
import type { LoadProgress } from './load/load-run.js';
import type { ClientConfig, LogFormat } from './worker-config.js';

/**
 * Formats one settled call as a single log line (no trailing newline). Its time is when the call was started, so
 * lines line up with the schedule, and latencyMs gives the end.
 */
export function formatCallLine(call: SettledCall, format: LogFormat): string {
  return format === 'json' ? formatCallJson(call) : formatCallText(call);
}

/** How a replica hostname is shown in text output; an empty one would otherwise vanish from the line. */
export function hostnameLabel(hostname: string): string {
  return hostname === '' ? '(empty)' : hostname;
}

/** Latency with 0.1 ms resolution: finer digits are noise from the event loop. */
export function roundLatency(latencyMs: number): number {
  return Math.round(latencyMs * 10) / 10;
}

function formatCallText({ startedAt, seq, result }: SettledCall): string {
  const time = startedAt.toISOString();
  const latency = `${roundLatency(result.latencyMs).toFixed(1)}ms`;
  if (result.ok) return `${time} #${seq} ${hostnameLabel(result.hostname)} ${latency} OK`;
  const details = singleLine(result.details);
  return `${time} #${seq} - ${latency} ${result.codeName}${details === '' ? '' : ` ${details}`}`;
}

function formatCallJson({ startedAt, seq, result }: SettledCall): string {
  return JSON.stringify({
    time: startedAt.toISOString(),
    event: 'call',
    seq,
    ok: result.ok,
    hostname: result.ok ? result.hostname : null,
    latencyMs: roundLatency(result.latencyMs),
    code: result.code,
    codeName: result.ok ? 'OK' : result.codeName,
    details: result.ok ? '' : result.details,
  });
}

// Details come from the network (Envoy, the server); a newline in them must not split one event over two lines.
function singleLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

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

/** Width of the per-host share bar in characters. */
export const BAR_WIDTH = 20;

/** When a summary is printed and whether it is the last one. */
export interface SummaryContext {
  time: Date;
  final: boolean;
}

/**
 * The counts a summary shows, sent == ok + failed + inFlight: a running summary takes them from the loop's
 * progress, the final one from the run's report (summaryCountsOf), so both come from the loop's one tally.
 */
export type SummaryCounts = Pick<LoadProgress, 'sent' | 'ok' | 'failed' | 'inFlight' | 'skippedAtCap' | 'failedByCode' | 'byHost'>;

/** The final counts of a finished run: nothing is in flight any more. */
export function summaryCountsOf(report: LoadReport): SummaryCounts {
  return {
    sent: report.sent,
    ok: report.ok,
    failed: report.failed,
    inFlight: 0,
    skippedAtCap: report.skippedAtCap,
    failedByCode: report.failedByCode,
    byHost: Object.fromEntries(report.hosts.map((host) => [host.hostname, host.count])),
  };
}

/**
 * Formats a summary: in text, a header line and one bar line per host (in the order given, natural name order
 * from the tally); in JSON, one object.
 */
export function formatSummary(counts: SummaryCounts, format: LogFormat, context: SummaryContext): string[] {
  return format === 'json' ? [formatSummaryJson(counts, context)] : formatSummaryText(counts);
}

/** The text summary lines, e.g. `summary sent=60 ok=58 failed=2 (UNAVAILABLE=2)` then per-host bars. */
export function formatSummaryText(counts: SummaryCounts): string[] {
  const codes = Object.entries(counts.failedByCode).map(([name, count]) => `${name}=${count}`);
  let header = `summary sent=${counts.sent} ok=${counts.ok} failed=${counts.failed}`;
  if (codes.length > 0) header += ` (${codes.join(' ')})`;
  // Shown only when non-zero so the usual final summary reads simply, yet sent == ok + failed + in-flight.
  if (counts.inFlight > 0) header += ` in-flight=${counts.inFlight}`;
  if (counts.skippedAtCap > 0) header += ` skipped=${counts.skippedAtCap}`;

  const hosts = Object.entries(counts.byHost).map(([hostname, count]) => ({ label: hostnameLabel(hostname), count }));
  const labelWidth = Math.max(0, ...hosts.map((host) => host.label.length));
  const countWidth = Math.max(0, ...hosts.map((host) => String(host.count).length));
  const lines = hosts.map(({ label, count }) => {
    const share = count / counts.ok;
    const percent = `${(share * 100).toFixed(1)}%`;
    return `  ${label.padEnd(labelWidth)}  ${bar(share)}  ${String(count).padStart(countWidth)}  ${percent.padStart(6)}`;
  });
  return [header, ...lines];
}

/** The JSON summary object as one line (its field names predate the loop's: succeeded is ok, skipped is skippedAtCap). */
export function formatSummaryJson(counts: SummaryCounts, context: SummaryContext): string {
  return JSON.stringify({
    time: context.time.toISOString(),
    event: 'summary',
    final: context.final,
    sent: counts.sent,
    succeeded: counts.ok,
    failed: counts.failed,
    inFlight: counts.inFlight,
    skipped: counts.skippedAtCap,
    failedByCode: counts.failedByCode,
    hosts: Object.entries(counts.byHost).map(([hostname, count]) => ({
      hostname,
      count,
      percent: Math.round((count / counts.ok) * 1000) / 10,
    })),
  });
}

function bar(share: number): string {
  const filled = Math.round(share * BAR_WIDTH);
  return '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
}
