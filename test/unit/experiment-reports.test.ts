// The experiment reports are pure functions of the report: checked with exact text for a fixed report.
import { expect, test } from 'vitest';
import type { ExperimentReport } from '../../scripts/lab/experiments/experiment.js';
import { formatExperimentHtml } from '../../scripts/lab/experiments/report-html.js';
import { formatExperimentText } from '../../scripts/lab/experiments/report-text.js';

const report: ExperimentReport = {
  name: 'demo',
  title: 'A <demo> & more',
  teaches: 'What it teaches.',
  driver: 'local',
  startedAt: '2026-11-23T12:00:00.000Z',
  durationS: 1.5,
  done: 'Did a thing.',
  expected: 'A bound.',
  measured: ['first fact', 'second fact'],
  pass: false,
  figures: { x: 1 },
  charts: [{ title: 'calls', unit: 'calls', bars: [{ label: 'a', value: 10 }, { label: 'bb', value: 5 }, { label: 'c', value: 0 }] }],
};

test('text: what was done, expected, measured, bars scaled to the largest value, verdict last', () => {
  expect(formatExperimentText(report)).toBe(
    [
      'experiment demo: A <demo> & more (local driver, 1.5 s)',
      'done:     Did a thing.',
      'expected: A bound.',
      'measured:',
      '  - first fact',
      '  - second fact',
      '  calls (calls)',
      `    a   ${'█'.repeat(30)}  10`,
      `    bb  ${'█'.repeat(15)}${'░'.repeat(15)}  5`,
      `    c   ${'░'.repeat(30)}  0`,
      'FAIL',
    ].join('\n'),
  );
});

test('html: verdict in the title, text escaped, one inline SVG per chart, nothing external', () => {
  const html = formatExperimentHtml(report);
  expect(html).toContain('<title>demo: FAIL</title>');
  expect(html).toContain('A &lt;demo&gt; &amp; more');
  expect(html).toContain('<li>second fact</li>');
  expect(html.match(/<svg /g)).toHaveLength(1);
  expect(html.match(/<rect /g)).toHaveLength(3);
  expect(html).not.toMatch(/<script|src=|href=/);
});
