import type { BarChart, ExperimentReport } from './experiment.js';

const BAR_WIDTH = 30;

/** A chart as text bars, scaled to its largest value. */
export function textChart(chart: BarChart): string[] {
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

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** The short printed report: what was done, expected, measured, and the verdict. */
export function formatExperimentText(report: ExperimentReport): string {
  return [
    `experiment ${report.name}: ${report.title} (${report.driver} driver, ${report.durationS} s)`,
    `done:     ${report.done}`,
    `expected: ${report.expected}`,
    'measured:',
    ...report.measured.map((line) => `  - ${line}`),
    ...report.charts.flatMap(textChart),
    report.pass ? 'PASS' : 'FAIL',
  ].join('\n');
}
