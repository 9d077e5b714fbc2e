import type { TallySnapshot } from './call-tally.js';
import { hostnameLabel } from './call-log.js';
import type { LogFormat } from './config.js';

/** Width of the per-host share bar in characters. */
export const BAR_WIDTH = 20;

/** When a summary is printed and whether it is the last one. */
export interface SummaryContext {
  time: Date;
  final: boolean;
}

/**
 * Formats a summary: in text, a header line and one bar line per host (sorted by name);
 * in JSON, one object. Pure, so its exact output is tested.
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
