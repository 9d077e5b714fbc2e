/**
 * Every line the worker client prints: one per call, one per lifecycle event (start, stopping, cancelling, a
 * skipped call) and the running and final summaries, each in text or JSON (LOG_FORMAT). They are pure functions of
 * what they are given, so their exact output is tested, and they live together so the two formats stay in step.
 */
import type { TallySnapshot } from './call-tally.js';
import type { CallResult } from './greeter-call.js';
import type { ClientConfig, LogFormat } from './worker-config.js';

/** One settled call, as the worker reports it. */
export interface CallRecord {
  /** When the call was started: lines then line up with the ticks, and latencyMs gives the end. */
  time: Date;
  seq: number;
  result: CallResult;
}

/** Formats one call as a single log line (no trailing newline). */
export function formatCallLine(record: CallRecord, format: LogFormat): string {
  return format === 'json' ? formatCallJson(record) : formatCallText(record);
}

/** How a replica hostname is shown in text output; an empty one would otherwise vanish from the line. */
export function hostnameLabel(hostname: string): string {
  return hostname === '' ? '(empty)' : hostname;
}

/** Latency with 0.1 ms resolution: finer digits are noise from the event loop. */
export function roundLatency(latencyMs: number): number {
  return Math.round(latencyMs * 10) / 10;
}

function formatCallText({ time, seq, result }: CallRecord): string {
  const latency = `${roundLatency(result.latencyMs).toFixed(1)}ms`;
  if (result.ok) return `${time.toISOString()} #${seq} ${hostnameLabel(result.hostname)} ${latency} OK`;
  const details = singleLine(result.details);
  return `${time.toISOString()} #${seq} - ${latency} ${result.codeName}${details === '' ? '' : ` ${details}`}`;
}

function formatCallJson({ time, seq, result }: CallRecord): string {
  return JSON.stringify({
    time: time.toISOString(),
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
 * Formats a summary: in text, a header line and one bar line per host (sorted by name);
 * in JSON, one object.
 */
export function formatSummary(snapshot: TallySnapshot, format: LogFormat, context: SummaryContext): string[] {
  return format === 'json' ? [formatSummaryJson(snapshot, context)] : formatSummaryText(snapshot);
}

/** The text summary lines, e.g. `summary sent=60 ok=58 failed=2 (UNAVAILABLE=2)` then per-host bars. */
export function formatSummaryText(snapshot: TallySnapshot): string[] {
  const codes = Object.entries(snapshot.failedByCode).map(([name, count]) => `${name}=${count}`);
  let header = `summary sent=${snapshot.sent} ok=${snapshot.succeeded} failed=${snapshot.failed}`;
  if (codes.length > 0) header += ` (${codes.join(' ')})`;
  // Shown only when non-zero so the usual final summary reads simply, yet sent == ok + failed + in-flight.
  if (snapshot.inFlight > 0) header += ` in-flight=${snapshot.inFlight}`;
  if (snapshot.skipped > 0) header += ` skipped=${snapshot.skipped}`;

  const hosts = Object.entries(snapshot.byHost).map(([hostname, count]) => ({ label: hostnameLabel(hostname), count }));
  const labelWidth = Math.max(0, ...hosts.map((host) => host.label.length));
  const countWidth = Math.max(0, ...hosts.map((host) => String(host.count).length));
  const lines = hosts.map(({ label, count }) => {
    const share = count / snapshot.succeeded;
    const percent = `${(share * 100).toFixed(1)}%`;
    return `  ${label.padEnd(labelWidth)}  ${bar(share)}  ${String(count).padStart(countWidth)}  ${percent.padStart(6)}`;
  });
  return [header, ...lines];
}

/** The JSON summary object as one line. */
export function formatSummaryJson(snapshot: TallySnapshot, context: SummaryContext): string {
  return JSON.stringify({
    time: context.time.toISOString(),
    event: 'summary',
    final: context.final,
    sent: snapshot.sent,
    succeeded: snapshot.succeeded,
    failed: snapshot.failed,
    inFlight: snapshot.inFlight,
    skipped: snapshot.skipped,
    failedByCode: snapshot.failedByCode,
    hosts: Object.entries(snapshot.byHost).map(([hostname, count]) => ({
      hostname,
      count,
      percent: Math.round((count / snapshot.succeeded) * 1000) / 10,
    })),
  });
}

function bar(share: number): string {
  const filled = Math.round(share * BAR_WIDTH);
  return '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
}
