// Experiment 1 on a real local system: one channel, per-connection vs per-call balancing, judged by who answered.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { projectRoot } from '../../scripts/envoy/project-paths.js';
import { l4VsL7Experiment } from '../../scripts/lab/experiments/l4-vs-l7.js';
import { runExperiment } from '../../scripts/lab/experiments/run-experiment.js';
import { ManagedProcess } from '../../scripts/local/managed-process.js';
import { useLabSystem } from '../helpers/lab-system-fixture.js';

const system = useLabSystem(3);

test('pick_first pins every call to one replica; round_robin and Envoy spread them evenly', async () => {
  const report = await runExperiment(l4VsL7Experiment, system.driver, { quick: true });
  expect(report.pass, report.measured.join('\n')).toBe(true);
  expect(report.figures).toMatchObject({ calls: 90, failed: 0 });
  expect(report.figures.pickFirstTopShare).toBe(1);
  expect(report.figures.envoyMinShare).toBeGreaterThanOrEqual(0.26);
  expect(report.charts.map((c) => c.bars.reduce((sum, bar) => sum + bar.value, 0))).toEqual([90, 90, 90]);
});

test('the CLI prints the report as JSON and writes a self-contained HTML page', async () => {
  const reportFile = path.join(tmpdir(), `l4-vs-l7-${process.pid}.html`);
  const child = new ManagedProcess(
    process.execPath,
    ['--import', 'tsx', path.join('scripts', 'lab', 'lab.ts'), '--driver', 'local', 'experiment', 'l4-vs-l7', '--quick', '--json', '--report', reportFile],
    { cwd: projectRoot, env: { ...process.env, LAB_STATE_FILE: system.stateFile } },
  );
  const stdout: string[] = [];
  child.onLine((line, stream) => stream === 'stdout' && stdout.push(line));
  expect(await child.exited).toBe(0);
  expect(stdout).toHaveLength(1);
  const report = JSON.parse(stdout[0] ?? '{}') as { name: string; pass: boolean; reportFile: string };
  expect(report).toMatchObject({ name: 'l4-vs-l7', pass: true, reportFile });
  const html = readFileSync(reportFile, 'utf8');
  expect(html).toContain('<span class="verdict">PASS</span>');
  expect(html).toContain('<svg');
  // Self-contained: no script and nothing loaded from elsewhere.
  expect(html).not.toMatch(/<script|src=|href=/);
});
