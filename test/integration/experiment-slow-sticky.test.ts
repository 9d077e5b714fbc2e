// The `slow` and `sticky` lab experiments, quick variants, on a real background local system (replica processes,
// DNS responder, real Envoy): each passes with the figures its expectation names, and hands the system back
// at the baseline (3 healthy replicas, ROUND_ROBIN, no faults).
import { expect, test } from 'vitest';
import { clusterHosts } from '../../scripts/envoy/envoy-admin.js';
import { runExperiment } from '../../scripts/lab/experiments/run-experiment.js';
import { slowExperiment } from '../../scripts/lab/experiments/slow.js';
import { stickyExperiment } from '../../scripts/lab/experiments/sticky.js';
import { CLUSTER_NAME } from '../../scripts/local/envoy-config.js';
import { useLabSystem } from '../helpers/lab-system-fixture.js';

const system = useLabSystem(3);

/** The baseline every experiment must leave behind, read from the driver and from Envoy itself. */
async function expectBaseline(): Promise<void> {
  const { driver } = system;
  expect((await driver.replicas()).map((r) => [r.name, r.state])).toEqual([
    ['grpc-server-1', 'running'],
    ['grpc-server-2', 'running'],
    ['grpc-server-3', 'running'],
  ]);
  expect(await driver.policy()).toEqual({ policy: 'ROUND_ROBIN' });
  const hosts = await clusterHosts(await driver.adminUrl(), CLUSTER_NAME);
  expect(hosts.map((h) => h.healthFlags)).toEqual([['healthy'], ['healthy'], ['healthy']]);
  // An empty patch changes nothing and answers the replica's whole fault state.
  for (const replica of await driver.replicas()) {
    expect(await driver.setFaults(replica.name, {})).toMatchObject({ health: 'SERVING', failRate: 0, latencyMs: 0 });
  }
}

test('slow (quick): LEAST_REQUEST gives the slow replica under half its ROUND_ROBIN share and more throughput', async () => {
  const lines: string[] = [];
  const report = await runExperiment(slowExperiment, system.driver, { quick: true, log: (line) => lines.push(line) });
  const f = report.figures;
  const context = [...report.measured, ...lines].join('\n');
  console.info(`slow:\n${report.measured.join('\n')}`);
  expect(report.pass, context).toBe(true);
  expect(report).toMatchObject({ name: 'slow', driver: 'local' });
  expect(f).toMatchObject({ slowReplica: 'grpc-server-2', addedLatencyMs: 200, 'ROUND_ROBIN.failed': 0, 'LEAST_REQUEST.failed': 0 });

  // ROUND_ROBIN ignores latency: a third of the calls each, the slow one included.
  const rrSlow = f['ROUND_ROBIN.sharePct.grpc-server-2'] as number;
  expect(rrSlow, context).toBeGreaterThan(30);
  expect(rrSlow, context).toBeLessThan(37);
  expect(f['LEAST_REQUEST.sharePct.grpc-server-2'] as number, context).toBeLessThan(rrSlow / 2);
  expect(f['LEAST_REQUEST.okPerS'] as number, context).toBeGreaterThanOrEqual(1.5 * (f['ROUND_ROBIN.okPerS'] as number));
  // The mean follows the share; p99 does not: over 1% of calls still wait the added 200 ms under both policies.
  expect(f['LEAST_REQUEST.meanMs'] as number, context).toBeLessThan(f['ROUND_ROBIN.meanMs'] as number);
  expect(f['ROUND_ROBIN.p99Ms'] as number, context).toBeGreaterThanOrEqual(200);
  expect(f['LEAST_REQUEST.p99Ms'] as number, context).toBeGreaterThanOrEqual(200);

  expect(report.charts.map((c) => [c.title, c.bars.length])).toEqual([
    ['Share of calls per replica', 6],
    ['Latency p50 / p99', 4],
    ['Throughput', 2],
  ]);
  expect(report.measured.length).toBeGreaterThanOrEqual(4);
  await expectBaseline();
});

test('sticky (quick): RING_HASH keeps each key on one replica; a stop moves its keys and most others stay', async () => {
  const lines: string[] = [];
  const report = await runExperiment(stickyExperiment, system.driver, { quick: true, log: (line) => lines.push(line) });
  const f = report.figures;
  const context = [...report.measured, ...lines].join('\n');
  console.info(`sticky:\n${report.measured.join('\n')}`);
  expect(report.pass, context).toBe(true);
  expect(f).toMatchObject({
    keys: 100,
    hashHeader: 'x-lab-key',
    'RING_HASH.singleBefore': 100,
    'RING_HASH.singleAfter': 100,
    'RING_HASH.keysAfter.grpc-server-3': 0,
  });
  expect(f['MAGLEV.singleBefore']).toBeUndefined();

  const before = ['grpc-server-1', 'grpc-server-2', 'grpc-server-3'].map((name) => f[`RING_HASH.keysBefore.${name}`] as number);
  expect(before.reduce((a, b) => a + b), context).toBe(100);
  // Each replica holds some keys (a third each on average), so the stop has keys to move.
  for (const keys of before) expect(keys, context).toBeGreaterThan(10);
  expect(f['RING_HASH.onStopped'], context).toBe(before[2]);
  expect(f['RING_HASH.stoppedMoved'], context).toBe(before[2]);
  expect(f['RING_HASH.onSurvivors'], context).toBe(100 - (before[2] ?? 0));
  expect(f['RING_HASH.stayPct'] as number, context).toBeGreaterThanOrEqual(70);

  expect(report.charts.map((c) => c.title)).toEqual([
    'RING_HASH: keys per replica, before / after stopping grpc-server-3',
    'RING_HASH: what happened to each key',
  ]);
  await expectBaseline();
});
