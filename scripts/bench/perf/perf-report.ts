// The perf bench's results as a markdown table (printed and written to a page), and as an HTML page of bar charts
// (inline SVG: one file that opens anywhere, no script).
import type { ComparedFigure } from './perf-summary.js';
import type { Spread } from './figures.js';

/** Everything one bench run produced, as written to its JSON file. */
export interface PerfResult {
  command: string;
  date: string;
  machine: string;
  loadAverage: { before: number[]; after: number[] };
  replicas: number;
  startMs: number;
  ghz: string | null;
  memoryMb: Array<{ name: string; idle: number; afterLoad: number }>;
  rows: ComparedFigure[];
}

export const digits = (value: number): string => {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  return abs >= 100 ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : abs >= 1 ? value.toFixed(2) : value.toFixed(3);
};

function cell(spread: Spread | null, unit: string): string {
  if (!spread) return '';
  const range = spread.min === spread.max ? '' : ` (${digits(spread.min)}–${digits(spread.max)})`;
  return `${digits(spread.median)}${unit && unit !== 'calls/s' ? ` ${unit}` : ''}${range}`;
}

function compareCell(row: ComparedFigure): string {
  if (!row.compare) return '';
  const { kind, value } = row.compare;
  const show = (v: number): string => (kind === 'ratio' ? `${digits(v)}×` : `${v >= 0 ? '+' : ''}${digits(v)}`);
  const range = value.min === value.max ? '' : ` (${show(value.min)} to ${show(value.max)})`;
  return `${show(value.median)}${range}`;
}

/** The results as markdown: one table per section, medians with min–max over the repeats. */
export function markdownOf(result: PerfResult): string {
  const lines: string[] = [];
  const sections = [...new Set(result.rows.map((r) => r.section))];
  for (const section of sections) {
    const [left, right] = section.startsWith('the load generator')
      ? ['load generator', 'ghz']
      : section.includes(' vs as started')
        ? [section.split(' vs ')[0] ?? 'changed', 'as started']
        : ['through Envoy', 'direct (client round robin)'];
    lines.push(`### ${section}`, '', `| figure | ${left} | ${right} | ratio or difference | target |`, '| --- | ---: | ---: | ---: | --- |');
    for (const row of result.rows.filter((r) => r.section === section)) {
      const target = row.target ? `${row.target.text}: ${row.target.met ? 'met' : '**not met**'}` : '';
      lines.push(`| ${row.figure} | ${cell(row.left, row.unit)} | ${cell(row.right, row.unit)} | ${compareCell(row)} | ${target} |`);
    }
    lines.push('');
  }
  lines.push('### Memory (RSS, MB)', '', '| process | idle | after the load |', '| --- | ---: | ---: |');
  for (const m of result.memoryMb) lines.push(`| ${m.name} | ${digits(m.idle)} | ${digits(m.afterLoad)} |`);
  lines.push('', `npm start with ${result.replicas} replicas was ready (Envoy sees every replica healthy) in ${(result.startMs / 1000).toFixed(1)} s.`);
  return lines.join('\n');
}

/** One horizontal bar chart (inline SVG) of labelled values. */
export function barChart(title: string, bars: Array<{ label: string; value: number; colour: string }>, unit: string): string {
  const width = 640;
  const rowHeight = 22;
  const labelWidth = 260;
  const max = Math.max(...bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), 1e-9);
  const rows = bars.map((bar, i) => {
    const y = 30 + i * rowHeight;
    const length = Number.isFinite(bar.value) ? ((width - labelWidth - 80) * bar.value) / max : 0;
    return (
      `<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end">${escape(bar.label)}</text>` +
      `<rect x="${labelWidth}" y="${y + 2}" width="${length.toFixed(1)}" height="${rowHeight - 6}" fill="${bar.colour}"/>` +
      `<text x="${labelWidth + length + 4}" y="${y + 14}">${digits(bar.value)} ${escape(unit)}</text>`
    );
  });
  const height = 40 + bars.length * rowHeight;
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">` +
    `<text x="0" y="16" font-weight="bold" font-size="14">${escape(title)}</text>${rows.join('')}</svg></figure>`;
}

export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The results as an HTML page: a bar chart per section (both sides of every figure), then the tables' text. */
export function htmlOf(result: PerfResult): string {
  const charts: string[] = [];
  const sections = [...new Set(result.rows.map((r) => r.section))];
  for (const section of sections) {
    const rows = result.rows.filter((r) => r.section === section);
    const groups: Array<[string, (r: ComparedFigure) => boolean, string]> = [
      ['throughput', (r) => r.unit === 'calls/s', 'calls/s'],
      ['CPU per call', (r) => r.figure.includes('CPU') || r.figure.includes('per call') || r.figure.includes('of which'), 'ms'],
      ['latency', (r) => /^p\d/.test(r.figure), 'ms'],
    ];
    for (const [name, test, unit] of groups) {
      const bars = rows.filter(test).flatMap((r) => [
        { label: `${r.figure.trim()}: ${section.startsWith('the load') ? 'load' : 'Envoy'}`, value: r.left.median, colour: '#d9822b' },
        ...(r.right ? [{ label: `${r.figure.trim()}: ${section.startsWith('the load') ? 'ghz' : 'direct'}`, value: r.right.median, colour: '#2b7bd9' }] : []),
      ]);
      if (bars.length > 0) charts.push(barChart(`${section}: ${name}`, bars, unit));
    }
  }
  charts.push(barChart('Memory after the load (RSS)', result.memoryMb.map((m) => ({ label: m.name, value: m.afterLoad, colour: '#5a9e4b' })), 'MB'));
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>grpc-envoy-lab perf bench</title>',
    '<style>body{font-family:sans-serif;max-width:720px;margin:2em auto}pre{white-space:pre-wrap;font-size:12px}</style></head><body>',
    `<h1>What the Envoy hop costs</h1><p>${escape(result.command)}, ${escape(result.date)}: ${escape(result.machine)}; load average ` +
      `${result.loadAverage.before.join(' ')} before, ${result.loadAverage.after.join(' ')} after. Orange: through Envoy (or the load generator); blue: direct (or ghz).</p>`,
    ...charts,
    `<pre>${escape(markdownOf(result))}</pre></body></html>`,
  ].join('\n');
}
