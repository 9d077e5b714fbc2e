// Graceful drain: SIGTERM one replica under load. It turns NOT_SERVING, Envoy stops routing to it, in-flight
// calls finish, and it exits within its grace period. The client sees no failure.
import { expect, test } from 'vitest';
import { CallLoop } from '../../scripts/measure/call-loop.js';
import { drainReplica } from '../../scripts/measure/fault-scenarios.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

// The Compose values; its stop_grace_period (10 s) is longer than their sum.
const DRAIN_DELAY_MS = 3000;
const SHUTDOWN_TIMEOUT_MS = 5000;

const lab = useLocalStack({
  replicas: 3,
  serverEnv: { DRAIN_DELAY_MS: String(DRAIN_DELAY_MS), SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
});

test('SIGTERM under load: zero failed calls, and the replica exits 0 within its grace period', async () => {
  // Latency on the leaving replica keeps calls really in flight on it while it drains.
  await lab.stack.control('grpc-server-2').update({ latencyMs: 50 });
  const loop = new CallLoop(lab.stack.envoyTarget, { intervalMs: 20 });
  let result;
  try {
    result = await drainReplica({ stack: lab.stack, loop }, 'grpc-server-2', DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + 2000);
  } finally {
    await loop.stop();
  }
  console.log(
    `drain: exited ${result.exitCode} after ${result.exitMs.toFixed(0)} ms; last call it answered started ` +
      `${result.lastAnsweredAfterMs.toFixed(0)} ms after SIGTERM; ${loop.calls.length} calls, ${loop.failures.length} failed`,
  );
  expect(result.exitCode).toBe(0);
  expect(result.exitMs).toBeLessThan(DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS);
  expect(loop.failures, `${loop.describeFailures()}\n${lab.recentLines()}`).toHaveLength(0);
  expect(loop.calls.length).toBeGreaterThan(150);
});
