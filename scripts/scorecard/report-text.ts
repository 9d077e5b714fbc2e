// The scorecard as the terminal shows it: one table of contenders by score, the features each needed with their
// config lines, the lessons judged, and the verdict last.
import { fixed, percent, type ContenderScore, type FaultKind, type ScorecardReport } from './score.js';

/** Fixed-width columns, left-aligned names and right-aligned figures. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

export function ms(value: number | undefined, limitMs?: number): string {
  if (value === undefined) return limitMs === undefined ? '-' : `never (${limitMs / 1000} s)`;
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/** "0", "3 (UNAVAILABLE 3)": failed calls of one fault, or '-' when it was not run. */
export function failedCell(contender: ContenderScore, fault: FaultKind): string {
  const score = contender.faults.find((f) => f.fault === fault);
  return score === undefined ? '-' : String(score.failed);
}

/** When the faulted replica stopped answering: "out 324 ms", or "kept its calls" (for NOT_SERVING, drain, pause). */
export function outCell(contender: ContenderScore, fault: FaultKind): string {
  const score = contender.faults.find((f) => f.fault === fault);
  if (score === undefined) return '-';
  return score.outOfRotationMs === undefined ? 'kept calls' : `out ${ms(score.outOfRotationMs)}`;
}

export function formatScorecardText(report: ScorecardReport): string {
  const faults = [...new Set(report.contenders.flatMap((c) => c.faults.map((f) => f.fault)))];
  const spreadRows = report.contenders.map((c) => [
    c.name,
    fixed(c.spread.jain, 2),
    fixed(c.spread.maxOverMin, 1),
    fixed(c.spread.worstSecondJain, 2),
    percent(c.spread.busiestShare),
    c.spread.reconnects === undefined ? '-' : String(c.spread.reconnects),
    ms(c.scale.firstCallMs, c.scale.limitMs),
    ms(c.scale.fairMs, c.scale.limitMs),
  ]);
  const faultRows = report.contenders.map((c) => [
    c.name,
    ...faults.map((f) => failedCell(c, f)),
    ...faults.filter((f) => f === 'drain' || f === 'not-serving').map((f) => outCell(c, f)),
  ]);
  const speedRows = [
    ['direct (no balancer)', fixed(report.direct.throughputPerS, 0), '-', fixed(report.direct.p50Ms, 2), fixed(report.direct.p99Ms, 2), '-', '-'],
    ...report.contenders.map((c) => [
      c.name,
      fixed(c.speed.throughputPerS, 0),
      c.speed.cpuUsPerCall === undefined ? 'in client' : fixed(c.speed.cpuUsPerCall, 0),
      fixed(c.speed.p50Ms, 2),
      fixed(c.speed.p99Ms, 2),
      signed(c.addedP50Ms),
      signed(c.addedP99Ms),
    ]),
  ];
  return [
    `scorecard: every way to balance gRPC over the same replicas (${report.driver} driver, ${report.quick ? 'quick' : 'full'}, ${report.durationS} s)`,
    `machine: ${report.machine}; ${report.startedAt}`,
    `client-side round robin found the replicas by: ${report.clientSide}`,
    '',
    'spread of one connection over 3 replicas, and a 4th replica added (from its listening line):',
    ...table(['contender', 'jain', 'max/min', 'worst 1s', 'busiest', 'reconnects', 'first call', 'fair again'], spreadRows).map((l) => `  ${l}`),
    '',
    `failed calls across each fault at 200 calls/s, and when the replica stopped answering:`,
    ...table(['contender', ...faults.map((f) => `${f} failed`), ...faults.filter((f) => f === 'drain' || f === 'not-serving').map((f) => `${f}: replica`)], faultRows).map((l) => `  ${l}`),
    '',
    'speed: throughput with 16 calls in flight, balancer CPU per call, latency at 200 calls/s (ms) and added to the direct path:',
    ...table(['path', 'calls/s', 'cpu µs/call', 'p50', 'p99', '+p50', '+p99'], speedRows).map((l) => `  ${l}`),
    '',
    'what each needed:',
    ...report.contenders.flatMap((c) => [`  ${c.name}: ${c.how}`, ...c.features.map((f) => `    - ${f.name}: ${f.line}  (${f.file})`)]),
    '',
    'lessons:',
    ...report.lessons.map((l) => `  ${l.pass ? '✓' : '✗'} ${l.lesson}: ${l.evidence}`),
    report.pass ? 'PASS' : 'FAIL',
  ].join('\n');
}

function signed(value: number | undefined): string {
  if (value === undefined) return '-';
  return `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;
}
