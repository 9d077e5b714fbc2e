// Failover: SIGKILL one replica while calls flow at a steady rate. Retries hide it from the client, and the dead
// host leaves Envoy's /clusters once DNS stops returning it.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CallLoop } from '../helpers/call-loop.js';
import { startStack, type StackUnderTest } from '../helpers/local-stack-fixture.js';
import { pollUntil } from '../../scripts/local/poll-until.js';
import { stats } from '../../scripts/envoy/envoy-admin.js';

/** Stated bound: the killed replica's host is gone from /clusters within this many ms (DNS refresh is 1 s). */
const REMOVAL_BOUND_MS = 3000;

let lab: StackUnderTest;

beforeAll(async () => {
  lab = await startStack({ replicas: 3 });
});

afterAll(async () => {
  await lab?.stack.stop();
});

test('SIGKILL of one replica under steady load: zero failed calls, and the host leaves /clusters', async () => {
  const victim = lab.stack.replica('grpc-server-2');
  const victimAddress = `${victim.address}:${victim.port}`;
  const loop = new CallLoop(lab.stack.envoyTarget, { intervalMs: 20 });
  try {
    await pollUntil('calls to reach the victim', () => loop.firstAnsweredBy('grpc-server-2') !== undefined, { timeoutMs: 5000 });
    const killedAt = loop.now();
    await lab.stack.signalReplica('grpc-server-2', 'SIGKILL');
    await pollUntil(
      'the killed host to leave /clusters',
      async () => !(await lab.stack.hosts()).some((h) => h.address === victimAddress),
      { timeoutMs: REMOVAL_BOUND_MS + 5000, intervalMs: 50 },
    );
    const removalMs = loop.now() - killedAt;
    console.log(`failover: killed host left /clusters after ${removalMs.toFixed(0)} ms`);
    expect(removalMs).toBeLessThan(REMOVAL_BOUND_MS);
    // Keep the load on a little longer: the survivors carry all of it.
    const removedAt = loop.now();
    await pollUntil('a second of calls after removal', () => loop.now() - removedAt > 1000, { timeoutMs: 3000 });
    expect([...loop.countsByHost(removedAt).keys()].sort()).toEqual(['grpc-server-1', 'grpc-server-3']);
  } finally {
    await loop.stop();
  }
  expect(loop.failures, `${loop.describeFailures()}\n${lab.recentLines()}`).toHaveLength(0);
  expect(loop.calls.length).toBeGreaterThan(50);
  const retries = await stats(lab.stack.adminUrl, '^cluster\\.grpc_server\\.upstream_rq_retry$');
  console.log(`failover: ${loop.calls.length} calls, 0 failed, Envoy retries: ${retries.get('cluster.grpc_server.upstream_rq_retry') ?? 0}`);
});
