// The report as a self-contained HTML page: verdict first, then what it teaches, the steps, the figures with their
// bounds, the notes, and one inline SVG bar chart per chart. No script, no external file.
import { formatBound, formatValue, type Chart, type ExperimentReport } from './report.js';

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One horizontal bar chart as inline SVG. */
function svgChart(chart: Chart): string {
  const rowHeight = 26;
  const labelWidth = 250;
  const barSpace = 400;
  const max = Math.max(...chart.bars.map((b) => b.value), 0);
  const height = chart.bars.length * rowHeight + 8;
  const rows = chart.bars.map((bar, i) => {
    const width = max > 0 ? Math.max(1, Math.round((bar.value / max) * barSpace)) : 0;
    const y = i * rowHeight + 4;
    return (
      `<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${escape(bar.label)}</text>` +
      `<rect x="${labelWidth}" y="${y + 3}" width="${width}" height="${rowHeight - 8}" rx="3"></rect>` +
      `<text x="${labelWidth + width + 6}" y="${y + 16}">${escape(formatValue(bar.value))}</text>`
    );
  });
  return (
    `<figure><figcaption>${escape(chart.title)} <span>(${escape(chart.unit)})</span></figcaption>` +
    `<svg viewBox="0 0 ${labelWidth + barSpace + 90} ${height}" width="100%" role="img" aria-label="${escape(chart.title)}">${rows.join('')}</svg></figure>`
  );
}

export function formatExperimentHtml(report: ExperimentReport): string {
  const verdict = report.pass ? 'PASS' : 'FAIL';
  const figureRows = report.figures.map((f) => {
    const mark = f.pass === undefined ? '' : f.pass ? '✓' : '✗';
    const value = Number.isNaN(f.value) ? 'not seen' : `${formatValue(f.value)} ${f.unit}`;
    return `<tr><td>${mark}</td><td>${escape(f.name)}</td><td>${escape(value)}</td><td>${escape(formatBound(f))}</td></tr>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(`${report.name}: ${verdict}`)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:900px;margin:2rem auto;padding:0 1rem;color:#1d2433}
h1{font-size:1.4rem;margin-bottom:.2rem} .meta{color:#5b6475;margin-top:0}
.verdict{display:inline-block;padding:.1rem .6rem;border-radius:4px;color:#fff;font-weight:600;background:${report.pass ? '#1f883d' : '#cf222e'}}
h2{font-size:1.05rem;margin:1.2rem 0 .3rem} table{border-collapse:collapse} td{padding:.15rem .7rem .15rem 0}
figure{margin:1.2rem 0} figcaption{font-weight:600} figcaption span{font-weight:400;color:#5b6475}
svg text{font:13px system-ui,sans-serif;fill:#1d2433} svg rect{fill:#3b6fd4}
</style></head><body>
<h1>${escape(report.title)} <span class="verdict">${verdict}</span></h1>
<p class="meta">lab experiment ${escape(report.name)} · ${escape(report.driver)} driver · ${escape(report.startedAt)} · ${report.durationS} s</p>
<p>${escape(report.teaches)}</p>
<h2>Steps</h2><ol>${report.steps.map((s) => `<li>${escape(s)}</li>`).join('')}</ol>
<h2>Figures</h2><table>${figureRows.join('')}</table>
${report.notes.length > 0 ? `<h2>Notes</h2><ul>${report.notes.map((n) => `<li>${escape(n)}</li>`).join('')}</ul>` : ''}
${report.charts.map(svgChart).join('\n')}
</body></html>
`;
}
