// Outlier detection: a replica failing most calls with UNAVAILABLE is ejected (Envoy's /clusters says so), and
// retries on the other replicas keep every failure away from the client.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CallLoop } from '../helpers/call-loop.js';
import { startStack, type StackUnderTest } from '../helpers/local-stack-fixture.js';
import { pollUntil } from '../../scripts/local/poll-until.js';
import { stats } from '../../scripts/envoy/envoy-admin.js';

/** Stated bound: three consecutive gateway failures eject at once; at ~13 calls/s to this replica that is < 1 s. */
const EJECTION_BOUND_MS = 2000;

let lab: StackUnderTest;

beforeAll(async () => {
  lab = await startStack({ replicas: 3 });
});

afterAll(async () => {
  await lab?.stack.stop();
});

test('a replica failing 90% of calls with UNAVAILABLE is ejected, and the client sees no failure', async () => {
  const flaky = lab.stack.replica('grpc-server-1');
  const flakyAddress = `${flaky.address}:${flaky.port}`;
  const hostOf = async () => (await lab.stack.hosts()).find((h) => h.address === flakyAddress);
  const loop = new CallLoop(lab.stack.envoyTarget, { intervalMs: 25 });
  try {
    const brokenAt = loop.now();
    await lab.control('grpc-server-1').update({ failRate: 0.9, failCode: 'UNAVAILABLE' });
    await pollUntil('Envoy to eject grpc-server-1', async () => (await hostOf())?.ejectedByOutlierDetection, {
      timeoutMs: EJECTION_BOUND_MS + 5000,
      intervalMs: 50,
    });
    const ejectionMs = loop.now() - brokenAt;
    console.log(`outlier: grpc-server-1 ejected ${ejectionMs.toFixed(0)} ms after it began failing`);
    expect(ejectionMs).toBeLessThan(EJECTION_BOUND_MS);
    // Active health checks still pass (the replica says SERVING): only outlier detection took it out.
    expect((await hostOf())?.failedActiveHealthCheck).toBe(false);
    const ejected = await stats(lab.stack.adminUrl, '^cluster\\.grpc_server\\.outlier_detection\\.ejections_enforced_total$');
    expect(ejected.get('cluster.grpc_server.outlier_detection.ejections_enforced_total')).toBeGreaterThanOrEqual(1);
    await pollUntil('another second of calls', () => loop.now() - brokenAt > ejectionMs + 1000, { timeoutMs: 3000 });
  } finally {
    await loop.stop();
    await lab.control('grpc-server-1').reset();
  }
  expect(loop.failures, loop.describeFailures()).toHaveLength(0);
  const retries = await stats(lab.stack.adminUrl, '^cluster\\.grpc_server\\.upstream_rq_retry$');
  const retried = retries.get('cluster.grpc_server.upstream_rq_retry') ?? 0;
  console.log(`outlier: ${loop.calls.length} calls, 0 failed at the client, ${retried} retried by Envoy`);
  // The failures happened and Envoy absorbed them: retries, not luck, kept the client clean.
  expect(retried).toBeGreaterThanOrEqual(3);
});
