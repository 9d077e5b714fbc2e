// The report as the terminal shows it: the steps taken, each figure with its bound and a mark, the notes, the charts
// as text bars, and the verdict last.
import { formatBound, formatValue, type Chart, type ExperimentReport, type Figure } from './report.js';

const BAR_WIDTH = 30;

/** A chart as text bars, scaled to its largest value. */
export function textChart(chart: Chart): string[] {
  const max = Math.max(...chart.bars.map((b) => b.value), 0);
  const labelWidth = Math.max(...chart.bars.map((b) => b.label.length), 0);
  return [
    `  ${chart.title} (${chart.unit})`,
    ...chart.bars.map((b) => {
      const filled = max > 0 ? Math.round((b.value / max) * BAR_WIDTH) : 0;
      return `    ${b.label.padEnd(labelWidth)}  ${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}  ${formatValue(b.value)}`;
    }),
  ];
}

/** "✓ out of rotation  122 ms  (≤ 3000 ms)": a judged figure carries its mark and bound, a reported one neither. */
export function figureLine(figure: Figure, nameWidth: number): string {
  const mark = figure.pass === undefined ? ' ' : figure.pass ? '✓' : '✗';
  const value = Number.isNaN(figure.value) ? 'not seen' : `${formatValue(figure.value)}${figure.unit ? ` ${figure.unit}` : ''}`;
  const bound = figure.bound ? `  (${formatBound(figure)})` : '';
  return `  ${mark} ${figure.name.padEnd(nameWidth)}  ${value}${bound}`;
}

/** The printed report. */
export function formatExperimentText(report: ExperimentReport): string {
  const nameWidth = Math.max(...report.figures.map((f) => f.name.length), 0);
  return [
    `experiment ${report.name}: ${report.title} (${report.driver} driver, ${report.durationS} s)`,
    'steps:',
    ...report.steps.map((step, i) => `  ${i + 1}. ${step}`),
    'figures:',
    ...report.figures.map((figure) => figureLine(figure, nameWidth)),
    ...(report.notes.length > 0 ? ['notes:', ...report.notes.map((note) => `  - ${note}`)] : []),
    ...report.charts.flatMap(textChart),
    report.pass ? 'PASS' : 'FAIL',
  ].join('\n');
}
