// Experiments 9 and 10 on a real local system: the panic threshold, and load past the circuit breakers.
import { expect, test } from 'vitest';
import { clusterHosts } from '../../scripts/envoy/envoy-admin.js';
import { overloadExperiment } from '../../scripts/lab/experiments/overload.js';
import { panicExperiment } from '../../scripts/lab/experiments/panic.js';
import { runExperiment } from '../../scripts/lab/experiments/run-experiment.js';
import { useLabSystem } from '../helpers/lab-system-fixture.js';

const system = useLabSystem(3);

async function expectBaseline(): Promise<void> {
  expect(await system.driver.policy()).toEqual({ policy: 'ROUND_ROBIN' });
  const hosts = await clusterHosts(await system.driver.adminUrl(), 'grpc_server');
  expect(hosts.map((h) => h.healthy)).toEqual([true, true, true]);
}

test('panic: with panic mode off no try reaches the broken replicas; at 50 % Envoy panics and sends tries to them', async () => {
  const report = await runExperiment(panicExperiment, system.driver, { quick: true });
  expect(report.pass, report.measured.join('\n')).toBe(true);
  expect(report.figures).toMatchObject({ offBrokenTries: 0, offPanicRequests: 0, offFailed: 0 });
  expect(report.figures.onBrokenTries).toBeGreaterThan(20);
  await expectBaseline();
});

test('overload: past max_requests Envoy sheds the excess as UNAVAILABLE, counted as overflows', async () => {
  const report = await runExperiment(overloadExperiment, system.driver, { quick: true });
  expect(report.pass, report.measured.join('\n')).toBe(true);
  // Shed calls are UNAVAILABLE; a busy machine can add a few UNAVAILABLE of another cause (a try timing out).
  expect(report.figures.overflowed).toBeGreaterThan(100);
  expect(report.figures.overflowed).toBeLessThanOrEqual(Number(report.figures.unavailable));
  expect(report.figures.otherFailures).toBe(0);
  await expectBaseline();
});
