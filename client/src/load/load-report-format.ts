/**
 * A load report as people and programs read it: a few text lines (plan, counts, throughput, a latency table,
 * per-host bars, keys) or one JSON object. Pure functions, so their exact output is tested.
 */
import type { LatencySummary } from './load-histogram.js';
import type { KeyReport, LoadReport } from './load-report.js';

/** Width of the per-host share bar, as in the worker client's summary. */
const BAR_WIDTH = 20;
/** Keys listed one per line in the text report; --json lists every key. */
export const TEXT_KEY_LINES = 32;

/** The report as one JSON object on one line. */
export function formatLoadReportJson(report: LoadReport): string {
  return JSON.stringify(report);
}

/** The report as a few lines a person reads: plan, counts, throughput, latency table, per-host bars, keys. */
export function formatLoadReportText(report: LoadReport): string[] {
  const lines = [planLine(report)];
  if (report.interrupted) lines.push('interrupted: stopped early, the counts cover the calls sent until then');
  lines.push(countsLine(report));
  lines.push(`throughput ok=${report.throughput.okPerS.toFixed(1)}/s all=${report.throughput.allPerS.toFixed(1)}/s`);
  lines.push(...latencyLines(report.latencyMs));
  lines.push(...hostLines(report));
  if (report.keys) lines.push(...keyLines(report.keys));
  return lines;
}

function planLine(report: LoadReport): string {
  const mode =
    report.rate === null
      ? `closed loop, concurrency ${report.concurrency}`
      : `open loop ${report.rate}/s, concurrency cap ${report.concurrency}`;
  const limit =
    report.plannedCount !== null
      ? `count ${report.plannedCount}`
      : report.plannedDurationS !== null
        ? `duration ${report.plannedDurationS}s`
        : 'until stopped';
  const workers = `${report.workers} worker${report.workers === 1 ? '' : 's'}`;
  return `grpc-load ${report.target}  ${mode}, ${workers}, ${limit}, deadline ${report.deadlineMs}ms`;
}

function countsLine(report: LoadReport): string {
  const codes = Object.entries(report.failedByCode).map(([name, count]) => `${name}=${count}`);
  let line = `sent=${report.sent} ok=${report.ok} failed=${report.failed}`;
  if (codes.length > 0) line += ` (${codes.join(' ')})`;
  if (report.skippedAtCap > 0) line += ` skipped=${report.skippedAtCap} (due while ${report.concurrency} were in flight)`;
  return `${line} in ${report.durationS.toFixed(3)}s`;
}

const PERCENTILES = [
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p99', 'p99'],
  ['p99.9', 'p99_9'],
  ['max', 'max'],
] as const satisfies ReadonlyArray<readonly [string, keyof LatencySummary]>;

function latencyLines(latency: LoadReport['latencyMs']): string[] {
  const row = (label: string, summary: LatencySummary | null): string =>
    `  ${label.padEnd(8)}${PERCENTILES.map(([, field]) => (summary ? summary[field].toFixed(2) : '-').padStart(9)).join('')}`;
  return [`latency ms${PERCENTILES.map(([title]) => title.padStart(9)).join('')}`, row('ok', latency.ok), row('all', latency.all)];
}

function hostLines(report: LoadReport): string[] {
  if (report.hosts.length === 0) return ['hosts (share of ok calls)', '  (none)'];
  const labels = report.hosts.map((host) => (host.hostname === '' ? '(empty)' : host.hostname));
  const labelWidth = Math.max(...labels.map((label) => label.length));
  const countWidth = Math.max(...report.hosts.map((host) => String(host.count).length));
  return [
    'hosts (share of ok calls)',
    ...report.hosts.map((host, index) => {
      const percent = `${(host.share * 100).toFixed(1)}%`;
      const label = (labels[index] ?? '').padEnd(labelWidth);
      return `  ${label}  ${bar(host.share)}  ${String(host.count).padStart(countWidth)}  ${percent.padStart(6)}`;
    }),
  ];
}

function keyLines(keys: KeyReport): string[] {
  const entries = Object.entries(keys.hostsByKey);
  const sent = entries.length;
  const header = `keys ${keys.header}: ${sent} sent, ${keys.oneHost} on one host, ${keys.severalHosts} on several, ${keys.noHost} on none`;
  const keyWidth = Math.max(0, ...entries.slice(0, TEXT_KEY_LINES).map(([key]) => key.length));
  const lines = entries.slice(0, TEXT_KEY_LINES).map(([key, hosts]) => {
    const answered = Object.entries(hosts).map(([host, count]) => `${host === '' ? '(empty)' : host}=${count}`);
    return `  ${key.padEnd(keyWidth)}  ${answered.length > 0 ? answered.join(' ') : '(no ok answer)'}`;
  });
  if (sent > TEXT_KEY_LINES) lines.push(`  ... ${sent - TEXT_KEY_LINES} more keys (--json lists every key)`);
  return [header, ...lines];
}

function bar(share: number): string {
  const filled = Math.round(share * BAR_WIDTH);
  return '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
}
