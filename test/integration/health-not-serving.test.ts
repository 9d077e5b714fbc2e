// Active gRPC health checking: a replica that answers NOT_SERVING is marked unhealthy by Envoy within a bound and
// gets no calls; set back to SERVING, it returns to rotation.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CallLoop } from '../helpers/call-loop.js';
import { startStack, type StackUnderTest } from '../helpers/local-stack-fixture.js';
import { pollUntil } from '../../scripts/local/poll-until.js';

/** Stated bound: interval 1 s x unhealthy_threshold 2, plus jitter and a check in flight. */
const UNHEALTHY_BOUND_MS = 3500;
/** Stated bound: healthy_threshold 1 at a 1 s unhealthy_interval. */
const HEALTHY_AGAIN_BOUND_MS = 2500;

let lab: StackUnderTest;

beforeAll(async () => {
  lab = await startStack({ replicas: 3 });
});

afterAll(async () => {
  await lab?.stack.stop();
});

test('NOT_SERVING takes a replica out of rotation; SERVING brings it back', async () => {
  const target = lab.stack.replica('grpc-server-3');
  const targetAddress = `${target.address}:${target.port}`;
  const hostOf = async () => (await lab.stack.hosts()).find((h) => h.address === targetAddress);
  const loop = new CallLoop(lab.stack.envoyTarget, { intervalMs: 25 });
  try {
    const flippedAt = loop.now();
    await lab.control('grpc-server-3').update({ health: 'NOT_SERVING' });
    await pollUntil('Envoy to mark grpc-server-3 failed_active_hc', async () => (await hostOf())?.failedActiveHealthCheck, {
      timeoutMs: UNHEALTHY_BOUND_MS + 5000,
      intervalMs: 50,
    });
    const unhealthyMs = loop.now() - flippedAt;
    console.log(`health: NOT_SERVING seen as unhealthy after ${unhealthyMs.toFixed(0)} ms`);
    expect(unhealthyMs).toBeLessThan(UNHEALTHY_BOUND_MS);

    // While unhealthy it gets nothing (a call already on its way when the flag flipped may still land).
    const outAt = loop.now() + 100;
    await pollUntil('a second and a half of calls while unhealthy', () => loop.now() - outAt > 1500, { timeoutMs: 3000 });
    const whileOut = loop.countsByHost(outAt);
    expect(whileOut.get('grpc-server-3') ?? 0).toBe(0);
    expect(whileOut.get('grpc-server-1') ?? 0).toBeGreaterThan(10);
    expect((await hostOf())?.healthy).toBe(false);

    const restoredAt = loop.now();
    await lab.control('grpc-server-3').update({ health: 'SERVING' });
    await pollUntil('grpc-server-3 to answer calls again', () => loop.firstAnsweredBy('grpc-server-3', restoredAt), {
      timeoutMs: HEALTHY_AGAIN_BOUND_MS + 5000,
    });
    const backMs = (loop.firstAnsweredBy('grpc-server-3', restoredAt) ?? Infinity) - restoredAt;
    console.log(`health: SERVING again answered calls after ${backMs.toFixed(0)} ms`);
    expect(backMs).toBeLessThan(HEALTHY_AGAIN_BOUND_MS);
    expect((await hostOf())?.healthy).toBe(true);
  } finally {
    await loop.stop();
  }
  // Health changes are planned: not one call fails because of them.
  expect(loop.failures, loop.describeFailures()).toHaveLength(0);
});
