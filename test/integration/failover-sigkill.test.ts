// Failover: SIGKILL one replica while calls flow at a steady rate. Retries hide it from the client, and the dead
// host leaves Envoy's /clusters once DNS stops returning it.
import { expect, test } from 'vitest';
import { CallLoop } from '../../scripts/measure/call-loop.js';
import { killReplica } from '../../scripts/measure/fault-scenarios.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

/** Stated bound: the killed replica's host is gone from /clusters within this many ms (DNS refresh is 1 s). */
const REMOVAL_BOUND_MS = 3000;

const lab = useLocalStack({ replicas: 3 });

test('SIGKILL of one replica under steady load: zero failed calls, and the host leaves /clusters', async () => {
  const loop = new CallLoop(lab.stack.envoyTarget, { intervalMs: 20 });
  let result;
  try {
    result = await killReplica({ stack: lab.stack, loop }, 'grpc-server-2');
  } finally {
    await loop.stop();
  }
  console.log(`failover: host left /clusters after ${result.removalMs.toFixed(0)} ms; ${loop.calls.length} calls, ${loop.failures.length} failed, ${result.retries} retried by Envoy`);
  expect(result.removalMs).toBeLessThan(REMOVAL_BOUND_MS);
  expect(result.answeringAfter).toEqual(['grpc-server-1', 'grpc-server-3']);
  expect(loop.failures, `${loop.describeFailures()}\n${lab.recentLines()}`).toHaveLength(0);
  expect(loop.calls.length).toBeGreaterThan(50);
});
