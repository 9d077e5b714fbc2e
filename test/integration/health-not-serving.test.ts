// Active gRPC health checking: a replica that answers NOT_SERVING is marked unhealthy by Envoy within a bound and
// gets no calls; set back to SERVING, it returns to rotation.
import { expect, test } from 'vitest';
import { CallLoop } from '../../scripts/measure/call-loop.js';
import { flipHealth } from '../../scripts/measure/fault-scenarios.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

/** Stated bound: a NOT_SERVING answer fails the host at once, so one 1 s interval plus jitter and slack. */
const UNHEALTHY_BOUND_MS = 2500;
/** Stated bound: healthy_threshold 1 at a 1 s unhealthy_interval. */
const HEALTHY_AGAIN_BOUND_MS = 2500;

const lab = useLocalStack({ replicas: 3 });

test('NOT_SERVING takes a replica out of rotation; SERVING brings it back', async () => {
  const loop = new CallLoop(lab.stack.envoyTarget, { intervalMs: 25 });
  let result;
  try {
    result = await flipHealth({ stack: lab.stack, loop }, 'grpc-server-3');
  } finally {
    await loop.stop();
  }
  console.log(
    `health: unhealthy after ${result.unhealthyMs.toFixed(0)} ms, ${result.callsWhileUnhealthy} calls while out, ` +
      `serving calls again ${result.healthyAgainMs.toFixed(0)} ms after SERVING`,
  );
  expect(result.unhealthyMs).toBeLessThan(UNHEALTHY_BOUND_MS);
  expect(result.callsWhileUnhealthy).toBe(0);
  expect(result.callsToOthersWhileUnhealthy).toBeGreaterThan(20);
  expect(result.healthyAgainMs).toBeLessThan(HEALTHY_AGAIN_BOUND_MS);
  expect((await lab.stack.hosts()).every((h) => h.healthy)).toBe(true);
  // Health changes are planned: not one call fails because of them.
  expect(loop.failures, loop.describeFailures()).toHaveLength(0);
});
