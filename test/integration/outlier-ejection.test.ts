// Outlier detection: a replica failing most calls with UNAVAILABLE is ejected (Envoy's /clusters says so), and
// retries on the other replicas keep every failure away from the client.
import { expect, test } from 'vitest';
import { CallLoop } from '../../scripts/measure/call-loop.js';
import { ejectFlakyReplica } from '../../scripts/measure/fault-scenarios.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

/** Stated bound: three consecutive gateway failures eject at once; at ~13 calls/s to this replica that is < 1 s. */
const EJECTION_BOUND_MS = 2000;

const lab = useLocalStack({ replicas: 3 });

test('a replica failing 90% of calls with UNAVAILABLE is ejected, and the client sees no failure', async () => {
  const loop = new CallLoop(lab.stack.envoyTarget, { intervalMs: 25 });
  let result;
  try {
    result = await ejectFlakyReplica({ stack: lab.stack, loop }, 'grpc-server-1', 0.9);
  } finally {
    await loop.stop();
  }
  console.log(`outlier: ejected after ${result.ejectionMs.toFixed(0)} ms; ${loop.calls.length} calls, ${loop.failures.length} failed, ${result.retries} retried by Envoy`);
  expect(result.ejectionMs).toBeLessThan(EJECTION_BOUND_MS);
  // Active health checks still pass (the replica says SERVING): outlier detection alone took it out.
  expect(result.activeHealthCheckFailed).toBe(false);
  expect(result.ejectionsEnforced).toBeGreaterThanOrEqual(1);
  // Ejected means no traffic: a passing health check does not undo it (successful_active_health_check_uneject_host).
  expect(result.requestsWhileEjected).toBe(0);
  // Failures happened and Envoy absorbed them: at least the three that triggered the ejection were retried.
  expect(result.retries).toBeGreaterThanOrEqual(3);
  expect(loop.failures, loop.describeFailures()).toHaveLength(0);
});
