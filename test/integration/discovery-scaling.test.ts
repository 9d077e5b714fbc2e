// Discovery through DNS: scale 2 -> 4 -> 2 while calls flow; new replicas get traffic within a bound, no call fails.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CallLoop } from '../helpers/call-loop.js';
import { startStack, type StackUnderTest } from '../helpers/local-stack-fixture.js';
import { pollUntil } from '../../scripts/local/poll-until.js';

/** Stated bound: a replica started by a scale-up answers calls within this many ms of being started. */
const DISCOVERY_BOUND_MS = 5000;

let lab: StackUnderTest;

beforeAll(async () => {
  // A short drain keeps the scale-down quick; it is still longer than two health-check intervals.
  lab = await startStack({ replicas: 2, serverEnv: { DRAIN_DELAY_MS: '2500', SHUTDOWN_TIMEOUT_MS: '2000' } });
});

afterAll(async () => {
  await lab?.stack.stop();
});

test('scale 2 -> 4: new replicas carry traffic within the bound; 4 -> 2: the stopped ones leave; no failed call', async () => {
  const loop = new CallLoop(lab.stack.envoyTarget, { intervalMs: 25 });
  try {
    await pollUntil('first calls', () => loop.calls.length >= 20, { timeoutMs: 5000 });

    const scaleStartedAt = loop.now();
    await lab.stack.scale(4);
    const firstCalls = await pollUntil(
      'grpc-server-3 and grpc-server-4 to answer calls',
      () => {
        const three = loop.firstAnsweredBy('grpc-server-3', scaleStartedAt);
        const four = loop.firstAnsweredBy('grpc-server-4', scaleStartedAt);
        return three !== undefined && four !== undefined ? [three, four] : undefined;
      },
      { timeoutMs: DISCOVERY_BOUND_MS + 5000 },
    );
    const discoveryMs = Math.max(...firstCalls) - scaleStartedAt;
    console.log(`discovery: new replicas answered ${discoveryMs.toFixed(0)} ms after scale-up began`);
    expect(discoveryMs).toBeLessThan(DISCOVERY_BOUND_MS);

    const scaleDownAt = loop.now();
    await lab.stack.scale(2);
    // The stopped replicas' addresses left DNS; Envoy drops them on its next refresh (1 s).
    await pollUntil('Envoy to see 2 hosts again', async () => (await lab.stack.hosts()).length === 2, { timeoutMs: 5000 });
    const settledAt = loop.now();
    await pollUntil('calls after the scale-down', () => loop.calls.length > 0 && loop.now() - settledAt > 1000, {
      timeoutMs: 5000,
    });
    const after = loop.countsByHost(settledAt);
    expect([...after.keys()].sort()).toEqual(['grpc-server-1', 'grpc-server-2']);
    console.log(`scale-down: hosts left Envoy ${(settledAt - scaleDownAt).toFixed(0)} ms after it began`);
  } finally {
    await loop.stop();
  }
  expect(loop.failures, loop.describeFailures()).toHaveLength(0);
  expect(loop.calls.length).toBeGreaterThan(100);
});
