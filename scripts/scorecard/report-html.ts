// The scorecard as one self-contained HTML page, in the experiments' report style: verdict first, the lessons, the
// tables, then a chart per score (inline SVG, one bar per contender), and what each contender needed. No script,
// no external file.
import { formatValue } from '../experiments/index.js';
import { failedCell, ms, outCell } from './report-text.js';
import { fixed, percent, type ContenderScore, type ScorecardReport } from './score.js';

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A horizontal bar chart, one bar per contender; a bar with no value is drawn empty and labelled. */
function svgChart(title: string, unit: string, bars: { label: string; value: number | undefined; note?: string }[]): string {
  const rowHeight = 26;
  const labelWidth = 230;
  const barSpace = 380;
  const values = bars.map((b) => b.value).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const max = Math.max(...values, 0);
  const rows = bars.map((bar, i) => {
    const y = i * rowHeight + 4;
    const finite = bar.value !== undefined && Number.isFinite(bar.value);
    const width = finite && max > 0 ? Math.max(1, Math.round(((bar.value as number) / max) * barSpace)) : 0;
    const text = bar.note ?? (finite ? formatValue(bar.value as number) : '-');
    return (
      `<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${escape(bar.label)}</text>` +
      `<rect x="${labelWidth}" y="${y + 3}" width="${width}" height="${rowHeight - 8}" rx="3"></rect>` +
      `<text x="${labelWidth + width + 6}" y="${y + 16}">${escape(text)}</text>`
    );
  });
  return (
    `<figure><figcaption>${escape(title)} <span>(${escape(unit)})</span></figcaption>` +
    `<svg viewBox="0 0 ${labelWidth + barSpace + 150} ${bars.length * rowHeight + 8}" width="100%" role="img" aria-label="${escape(title)}">${rows.join('')}</svg></figure>`
  );
}

function htmlTable(header: string[], rows: string[][]): string {
  return `<table><tr>${header.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

export function formatScorecardHtml(report: ScorecardReport): string {
  const verdict = report.pass ? 'PASS' : 'FAIL';
  const cs = report.contenders;
  const faults = [...new Set(cs.flatMap((c) => c.faults.map((f) => f.fault)))];
  const byName = (pick: (c: ContenderScore) => number | undefined, note?: (c: ContenderScore) => string | undefined) =>
    cs.map((c) => ({ label: c.name, value: pick(c), ...(note?.(c) ? { note: note(c) } : {}) }));
  const charts = [
    svgChart("Spread of one connection: Jain's fairness index (1 = even, 0.33 = one replica)", 'index', byName((c) => c.spread.jain, (c) => fixed(c.spread.jain, 3))),
    svgChart('A 4th replica: first call through the contender, after it listened', 'ms', byName((c) => c.scale.firstCallMs, (c) => ms(c.scale.firstCallMs, c.scale.limitMs))),
    ...faults.map((f) => svgChart(`Failed calls across ${f} at 200 calls/s`, 'calls', byName((c) => c.faults.find((x) => x.fault === f)?.failed))),
    svgChart('Throughput with 16 calls in flight', 'calls/s', [{ label: 'direct', value: report.direct.throughputPerS }, ...byName((c) => c.speed.throughputPerS)]),
    svgChart('Balancer CPU per call', 'µs', byName((c) => c.speed.cpuUsPerCall, (c) => (c.speed.cpuUsPerCall === undefined ? 'in the client' : undefined))),
    svgChart('Latency added to the direct path at 200 calls/s, p99', 'ms', byName((c) => (c.addedP99Ms === undefined ? undefined : Math.max(0, c.addedP99Ms)), (c) => fixed(c.addedP99Ms, 2))),
  ];
  const scoreRows = cs.map((c) => [
    c.name,
    fixed(c.spread.jain, 2),
    fixed(c.spread.maxOverMin, 1),
    fixed(c.spread.worstSecondJain, 2),
    percent(c.spread.busiestShare),
    ms(c.scale.firstCallMs, c.scale.limitMs),
    ms(c.scale.fairMs, c.scale.limitMs),
    ...faults.map((f) => failedCell(c, f)),
    ...faults.filter((f) => f === 'drain' || f === 'not-serving').map((f) => outCell(c, f)),
    fixed(c.speed.throughputPerS, 0),
    c.speed.cpuUsPerCall === undefined ? 'in client' : fixed(c.speed.cpuUsPerCall, 0),
    fixed(c.addedP50Ms, 2),
    fixed(c.addedP99Ms, 2),
  ]);
  const header = ['contender', 'jain', 'max/min', 'worst 1 s', 'busiest', '4th: first call', 'fair again', ...faults.map((f) => `${f}: failed`), ...faults.filter((f) => f === 'drain' || f === 'not-serving').map((f) => `${f}: replica`), 'calls/s', 'cpu µs/call', '+p50 ms', '+p99 ms'];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(`scorecard: ${verdict}`)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1d2433}
h1{font-size:1.4rem;margin-bottom:.2rem} .meta{color:#5b6475;margin-top:0}
.verdict{display:inline-block;padding:.1rem .6rem;border-radius:4px;color:#fff;font-weight:600;background:${report.pass ? '#1f883d' : '#cf222e'}}
h2{font-size:1.05rem;margin:1.2rem 0 .3rem} table{border-collapse:collapse;font-size:13px} td,th{padding:.15rem .6rem .15rem 0;text-align:left}
code{font-size:12px} figure{margin:1.2rem 0} figcaption{font-weight:600} figcaption span{font-weight:400;color:#5b6475}
svg text{font:13px system-ui,sans-serif;fill:#1d2433} svg rect{fill:#3b6fd4}
</style></head><body>
<h1>Balancer scorecard <span class="verdict">${verdict}</span></h1>
<p class="meta">${escape(report.driver)} driver · ${report.quick ? 'quick' : 'full'} · ${escape(report.startedAt)} · ${report.durationS} s · ${escape(report.machine)}</p>
<p>Every common way to balance gRPC, on the same replicas, the same faults and the same load, one client connection each. Client-side round robin found the replicas by: ${escape(report.clientSide)}.</p>
<h2>Lessons</h2><ul>${report.lessons.map((l) => `<li>${l.pass ? '✓' : '✗'} <b>${escape(l.lesson)}</b>: ${escape(l.evidence)}</li>`).join('')}</ul>
<h2>Scores</h2>${htmlTable(header, scoreRows)}
<p>Direct path (no balancer): ${fixed(report.direct.throughputPerS, 0)} calls/s, p50 ${fixed(report.direct.p50Ms, 2)} ms, p99 ${fixed(report.direct.p99Ms, 2)} ms.</p>
${charts.join('\n')}
<h2>What each needed</h2>${cs
    .map((c) => `<p><b>${escape(c.title)}</b>: ${escape(c.how)}</p><ul>${c.features.map((f) => `<li>${escape(f.name)}: <code>${escape(f.line)}</code> (${escape(f.file)})</li>`).join('')}</ul>`)
    .join('')}
</body></html>
`;
}
