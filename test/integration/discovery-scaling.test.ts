// Discovery through DNS: scale 2 -> 4 -> 2 while calls flow; new replicas get traffic within a bound, no call fails.
import { expect, test } from 'vitest';
import { CallLoop } from '../../scripts/measure/call-loop.js';
import { scaleIn, scaleOut } from '../../scripts/measure/fault-scenarios.js';
import { pollUntil } from '../../scripts/local/poll-until.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

/** Stated bound: replicas started by a scale-up answer calls within this many ms (process start included). */
const DISCOVERY_BOUND_MS = 5000;
/** Stated bound: a scale-down (graceful: 2.5 s drain here) is out of /clusters within this many ms. */
const SCALE_IN_BOUND_MS = 6000;

// A shorter drain than Compose's 3 s keeps the scale-down quick; it is still longer than a health-check interval.
const lab = useLocalStack({ replicas: 2, serverEnv: { DRAIN_DELAY_MS: '2500', SHUTDOWN_TIMEOUT_MS: '2000' } });

test('scale 2 -> 4: new replicas carry traffic within the bound; 4 -> 2: the stopped ones leave; no failed call', async () => {
  const loop = new CallLoop(lab.stack.envoyTarget, { intervalMs: 25 });
  try {
    await pollUntil('first calls', () => loop.calls.length >= 20, { timeoutMs: 5000 });
    const out = await scaleOut({ stack: lab.stack, loop }, 4);
    console.log(`discovery: ${out.newReplicas.join(', ')} answered ${out.discoveryMs.toFixed(0)} ms after scale-up began`);
    expect(out.newReplicas).toEqual(['grpc-server-3', 'grpc-server-4']);
    expect(out.discoveryMs).toBeLessThan(DISCOVERY_BOUND_MS);

    const inward = await scaleIn({ stack: lab.stack, loop }, 2);
    console.log(`scale-in: stopped replicas left /clusters ${inward.removalMs.toFixed(0)} ms after scale-down began`);
    expect(inward.answeringAfter).toEqual(['grpc-server-1', 'grpc-server-2']);
    expect(inward.removalMs).toBeLessThan(SCALE_IN_BOUND_MS);
  } finally {
    await loop.stop();
  }
  expect(loop.failures, `${loop.describeFailures()}\n${lab.recentLines()}`).toHaveLength(0);
  expect(loop.calls.length).toBeGreaterThan(100);
});
