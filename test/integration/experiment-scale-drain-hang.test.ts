// The scale-out, drain and hang experiments on one real local system, quick variants: each must pass with the
// figures its bounds promise, and leave the baseline (3 replicas, all healthy in Envoy) behind.
import { expect, test } from 'vitest';
import { clusterHosts } from '../../scripts/envoy/envoy-admin.js';
import { drainExperiment } from '../../scripts/lab/experiments/drain.js';
import type { ExperimentReport } from '../../scripts/lab/experiments/experiment.js';
import { hangExperiment } from '../../scripts/lab/experiments/hang.js';
import { runExperiment } from '../../scripts/lab/experiments/run-experiment.js';
import { scaleOutExperiment } from '../../scripts/lab/experiments/scale-out.js';
import { CLUSTER_NAME } from '../../scripts/local/envoy-config.js';
import { useLabSystem } from '../helpers/lab-system-fixture.js';

const system = useLabSystem(3);

async function expectBaseline(): Promise<void> {
  const replicas = await system.driver.replicas();
  expect(replicas.map((r) => [r.name, r.state])).toEqual([
    ['grpc-server-1', 'running'],
    ['grpc-server-2', 'running'],
    ['grpc-server-3', 'running'],
  ]);
  const hosts = await clusterHosts(await system.driver.adminUrl(), CLUSTER_NAME);
  expect(hosts.map((h) => h.healthFlags)).toEqual([['healthy'], ['healthy'], ['healthy']]);
}

function details(report: ExperimentReport): string {
  return [...report.measured, JSON.stringify(report.figures)].join('\n');
}

test('scale-out 2 -> 4: both new replicas answer within the bound, share evenly, no call fails', async () => {
  const report = await runExperiment(scaleOutExperiment, system.driver, { quick: true });
  expect(report.pass, details(report)).toBe(true);
  expect(report.figures).toMatchObject({ fromReplicas: 2, toReplicas: 4, newReplicasAnswered: 2, failed: 0 });
  expect(report.figures.allNewAnsweredMs).toBeLessThan(10_000);
  expect(Object.keys(report.figures).filter((k) => k.startsWith('firstAnsweredMs.')).sort()).toEqual([
    'firstAnsweredMs.grpc-server-3',
    'firstAnsweredMs.grpc-server-4',
  ]);
  expect(report.figures.minShareOfFair).toBeGreaterThanOrEqual(0.5);
  expect(report.charts[1]?.bars.map((b) => b.label)).toEqual(['grpc-server-1', 'grpc-server-2', 'grpc-server-3', 'grpc-server-4']);
  await expectBaseline();
});

test('drain: Envoy stops routing to the stopping replica before it exits; no call fails', async () => {
  const report = await runExperiment(drainExperiment, system.driver, { quick: true });
  expect(report.pass, details(report)).toBe(true);
  expect(report.figures).toMatchObject({ stoppedReplica: 'grpc-server-2', failed: 0 });
  const { stopMs, outOfRotationMs, lastRoutedMs, removedMs } = report.figures as Record<
    'stopMs' | 'outOfRotationMs' | 'lastRoutedMs' | 'removedMs',
    number
  >;
  // The server drains for its 3 s before it exits; the whole stop stays inside drain + shutdown timeout.
  expect(stopMs).toBeGreaterThanOrEqual(2900);
  expect(stopMs).toBeLessThanOrEqual(8000);
  expect(outOfRotationMs).toBeLessThan(3000);
  expect(lastRoutedMs).toBeLessThan(3000);
  expect(removedMs).toBeGreaterThan(stopMs - 500);
  await expectBaseline();
});

test('hang: stuck calls cost about the 1 s per-try timeout, none fails, and the frozen replica is taken out', async () => {
  const report = await runExperiment(hangExperiment, system.driver, { quick: true });
  expect(report.pass, details(report)).toBe(true);
  expect(report.figures).toMatchObject({ hungReplica: 'grpc-server-2', failed: 0 });
  const figures = report.figures as Record<string, number>;
  expect(figures.perTryTimeouts).toBeGreaterThanOrEqual(1);
  expect(figures['during.maxMs']).toBeGreaterThanOrEqual(900);
  expect(figures['during.maxMs']).toBeLessThan(2000);
  expect(figures['before.maxMs']).toBeLessThan(900);
  expect(figures.outOfRotationMs).toBeLessThan(4500);
  // The same freeze without a per-try timeout: stuck calls wait for the whole deadline and fail with it.
  expect(figures['without.deadlineExceeded']).toBeGreaterThanOrEqual(1);
  expect(figures['without.maxMs']).toBeGreaterThanOrEqual(1900);
  expect(figures['without.perTryTimeouts']).toBe(0);
  await expectBaseline();
});
