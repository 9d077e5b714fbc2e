// A hung replica (SIGSTOP: its connections stay open, nothing answers). The 1 s per-try timeout moves each stuck
// call to another replica, so the client sees a slow call, not a failed one, and Envoy takes the replica out of
// rotation (health-check timeouts, and per-try timeouts counted as gateway failures by outlier detection).
import { expect, test } from 'vitest';
import { CallLoop } from '../../scripts/measure/call-loop.js';
import { hangReplica } from '../../scripts/measure/fault-scenarios.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

/** Stated bound: out of rotation within this many ms of hanging (3 per-try timeouts of 1 s, or 2 health-check timeouts). */
const OUT_OF_ROTATION_BOUND_MS = 4500;
/** A stuck call costs the 1 s per-try timeout plus one retry, well under the client's 5 s deadline. */
const SLOWEST_CALL_BOUND_MS = 2000;

const lab = useLocalStack({ replicas: 3 });

test('SIGSTOP one replica: no failed call, slow calls bounded by the per-try timeout, the replica taken out', async () => {
  const loop = new CallLoop(lab.stack.envoyTarget, { intervalMs: 25, deadlineMs: 5000 });
  let result;
  try {
    result = await hangReplica({ stack: lab.stack, loop }, 'grpc-server-2');
  } finally {
    await loop.stop();
  }
  console.log(
    `hang: out of rotation after ${result.outOfRotationMs.toFixed(0)} ms (${result.flags.join(',')}); slowest call ` +
      `${result.slowestCallMs.toFixed(0)} ms; ${result.perTryTimeouts} per-try timeouts; ${loop.calls.length} calls, ${loop.failures.length} failed`,
  );
  expect(result.perTryTimeouts).toBeGreaterThanOrEqual(1);
  expect(result.slowestCallMs).toBeGreaterThan(900);
  expect(result.slowestCallMs).toBeLessThan(SLOWEST_CALL_BOUND_MS);
  expect(result.outOfRotationMs).toBeLessThan(OUT_OF_ROTATION_BOUND_MS);
  expect(loop.failures, `${loop.describeFailures()}\n${lab.recentLines()}`).toHaveLength(0);
});
