// The kill and flaky experiments, quick variants, against a real background local system: each passes with the
// figures its expectation states, and the runner hands back the baseline (3 replicas, all healthy in Envoy).
import { expect, test } from 'vitest';
import { clusterHosts } from '../../scripts/envoy/envoy-admin.js';
import { flakyExperiment } from '../../scripts/lab/experiments/flaky.js';
import { killExperiment } from '../../scripts/lab/experiments/kill.js';
import { runExperiment } from '../../scripts/lab/experiments/run-experiment.js';
import { useLabSystem } from '../helpers/lab-system-fixture.js';

const system = useLabSystem(3);

async function expectBaseline(): Promise<void> {
  expect((await system.driver.replicas()).map((r) => r.state)).toEqual(['running', 'running', 'running']);
  const hosts = await clusterHosts(await system.driver.adminUrl(), 'grpc_server');
  expect(hosts.map((h) => h.healthFlags)).toEqual([['healthy'], ['healthy'], ['healthy']]);
}

test('kill: SIGKILL of grpc-server-2 under load costs the client no call, and Envoy takes it out of rotation within 3 s', async () => {
  const report = await runExperiment(killExperiment, system.driver, { quick: true });
  const { figures } = report;
  console.log(`kill: ${report.measured.join('; ')}`);
  expect(report.pass, report.measured.join('\n')).toBe(true);
  expect(figures.victim).toBe('grpc-server-2');
  expect(figures.failed).toBe(0);
  expect(figures.calls).toBeGreaterThan(250); // ~100 calls/s for ~3 s: the load really ran
  expect(figures.outOfRotationMs).toBeLessThanOrEqual(3000);
  // Calls that met the dead replica were retried elsewhere: that is why none failed.
  expect(figures.retries).toBeGreaterThan(0);
  expect(figures['shareBefore.grpc-server-2']).toBeGreaterThan(0.2);
  expect(figures['shareAfter.grpc-server-2']).toBe(0);
  expect(figures.victimCallsAfter).toBe(0);
  expect(report.charts.map((c) => c.bars.map((b) => b.label))).toEqual([
    ['grpc-server-1', 'grpc-server-2', 'grpc-server-3'],
    ['grpc-server-1', 'grpc-server-2', 'grpc-server-3'],
  ]);
  await expectBaseline();
});

test('flaky: grpc-server-1 failing half its calls is ejected within 3 s, retries hide every failure, then it gets none', async () => {
  const report = await runExperiment(flakyExperiment, system.driver, { quick: true });
  const { figures } = report;
  console.log(`flaky: ${report.measured.join('; ')}`);
  expect(report.pass, report.measured.join('\n')).toBe(true);
  expect(figures.victim).toBe('grpc-server-1');
  expect(figures.failed).toBe(0);
  expect(figures.ejectionMs).toBeLessThanOrEqual(3000);
  // Envoy's own request count for it stood still within the settling limit (5 s).
  expect(figures.lastCallAfterEjectionMs).toBeGreaterThanOrEqual(0);
  expect(figures.ejectedBy).toMatch(/consecutive|failure percentage/);
  // Ejection takes at least 3 failed attempts, and the client saw none of them: each was retried.
  expect(figures.retriesUntilEjection).toBeGreaterThanOrEqual(3);
  expect(figures.retriesBefore).toBe(0);
  expect(figures['shareBefore.grpc-server-1']).toBeGreaterThan(0.2);
  expect(figures['shareAfter.grpc-server-1']).toBe(0);
  expect(figures.victimCallsAfter).toBe(0);
  expect(report.charts.at(-1)?.bars.map((b) => b.label)).toEqual(['before the fault', 'until the ejection', 'until its last call', 'after']);
  await expectBaseline();
});
