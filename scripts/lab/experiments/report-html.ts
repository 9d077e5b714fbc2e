import type { BarChart, ExperimentReport } from './experiment.js';

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One horizontal bar chart as inline SVG: no script, no external file. */
function svgChart(chart: BarChart): string {
  const rowHeight = 26;
  const labelWidth = 190;
  const barSpace = 420;
  const max = Math.max(...chart.bars.map((b) => b.value), 0);
  const height = chart.bars.length * rowHeight + 8;
  const rows = chart.bars.map((bar, i) => {
    const width = max > 0 ? Math.max(1, Math.round((bar.value / max) * barSpace)) : 0;
    const y = i * rowHeight + 4;
    const value = Number.isInteger(bar.value) ? String(bar.value) : bar.value.toFixed(2);
    return (
      `<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${escape(bar.label)}</text>` +
      `<rect x="${labelWidth}" y="${y + 3}" width="${width}" height="${rowHeight - 8}" rx="3"></rect>` +
      `<text x="${labelWidth + width + 6}" y="${y + 16}">${escape(value)}</text>`
    );
  });
  return (
    `<figure><figcaption>${escape(chart.title)} <span>(${escape(chart.unit)})</span></figcaption>` +
    `<svg viewBox="0 0 ${labelWidth + barSpace + 90} ${height}" width="100%" role="img" aria-label="${escape(chart.title)}">${rows.join('')}</svg></figure>`
  );
}

/** A self-contained HTML page for one experiment: verdict first, then what, expected, measured, charts. */
export function formatExperimentHtml(report: ExperimentReport): string {
  const verdict = report.pass ? 'PASS' : 'FAIL';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(`${report.name}: ${verdict}`)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:860px;margin:2rem auto;padding:0 1rem;color:#1d2433}
h1{font-size:1.4rem;margin-bottom:.2rem} .meta{color:#5b6475;margin-top:0}
.verdict{display:inline-block;padding:.1rem .6rem;border-radius:4px;color:#fff;font-weight:600;background:${report.pass ? '#1f883d' : '#cf222e'}}
dt{font-weight:600;margin-top:.8rem} dd{margin-left:0} li{margin:.2rem 0}
figure{margin:1.2rem 0} figcaption{font-weight:600} figcaption span{font-weight:400;color:#5b6475}
svg text{font:13px system-ui,sans-serif;fill:#1d2433} svg rect{fill:#3b6fd4}
</style></head><body>
<h1>${escape(report.title)} <span class="verdict">${verdict}</span></h1>
<p class="meta">lab experiment ${escape(report.name)} · ${escape(report.driver)} driver · ${escape(report.startedAt)} · ${report.durationS} s</p>
<p>${escape(report.teaches)}</p>
<dl>
<dt>What was done</dt><dd>${escape(report.done)}</dd>
<dt>Expected</dt><dd>${escape(report.expected)}</dd>
<dt>Measured</dt><dd><ul>${report.measured.map((line) => `<li>${escape(line)}</li>`).join('')}</ul></dd>
</dl>
${report.charts.map(svgChart).join('\n')}
</body></html>
`;
}
