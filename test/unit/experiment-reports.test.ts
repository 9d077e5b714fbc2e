// The experiment reports are pure functions of the report: checked with exact text for a fixed report.
import { expect, test } from 'vitest';
import { formatExperimentHtml, formatExperimentText, type ExperimentReport } from '../../scripts/experiments/index.js';

const report: ExperimentReport = {
  name: 'demo',
  title: 'A <demo> & more',
  teaches: 'What it teaches.',
  driver: 'local',
  startedAt: '2026-11-23T12:00:00.000Z',
  durationS: 1.5,
  steps: ['Did a thing.', 'Did another.'],
  figures: [
    { name: 'failed calls', value: 0, unit: 'calls', bound: { op: '==', value: 0 }, pass: true },
    { name: 'out of rotation', value: Number.NaN, unit: 'ms', bound: { op: '<=', value: 3000 }, pass: false },
    { name: 'retries', value: 3.456, unit: '' },
  ],
  notes: ['a note'],
  pass: false,
  charts: [{ title: 'calls', unit: 'calls', bars: [{ label: 'a', value: 10 }, { label: 'bb', value: 5 }, { label: 'c', value: 0 }] }],
};

test('text: the steps, each figure with its mark and bound, notes, bars scaled to the largest value, verdict last', () => {
  expect(formatExperimentText(report)).toBe(
    [
      'experiment demo: A <demo> & more (local driver, 1.5 s)',
      'steps:',
      '  1. Did a thing.',
      '  2. Did another.',
      'figures:',
      '  ✓ failed calls     0 calls  (= 0 calls)',
      '  ✗ out of rotation  not seen  (≤ 3000 ms)',
      '    retries          3.46',
      'notes:',
      '  - a note',
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
  expect(html).toContain('<li>Did another.</li>');
  expect(html).toContain('<td>✗</td><td>out of rotation</td><td>not seen</td><td>≤ 3000 ms</td>');
  expect(html.match(/<svg /g)).toHaveLength(1);
  expect(html.match(/<rect /g)).toHaveLength(3);
  expect(html).not.toMatch(/<script|src=|href=/);
});
