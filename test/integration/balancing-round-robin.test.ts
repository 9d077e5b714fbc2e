// Round robin through a real Envoy: 30 sequential calls on one channel spread evenly over 3 replicas.
import { expect, test } from 'vitest';
import { callGreeter, createGreeterClient } from '../../client/src/greeter-call.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

const lab = useLocalStack({ replicas: 3 });

test('30 sequential calls give each of 3 replicas 10 ± 1, and Envoy counted the same', async () => {
  const before = new Map((await lab.stack.hosts()).map((h) => [h.address, h.stats.rq_total ?? 0]));
  const client = createGreeterClient(lab.stack.envoyTarget);
  const counts = new Map<string, number>();
  try {
    // One channel, one HTTP/2 connection, one Envoy worker: Envoy's per-worker round robin sees every call.
    for (let i = 0; i < 30; i += 1) {
      const result = await callGreeter(client, 'lab', 3000);
      expect(result, lab.recentLines()).toMatchObject({ ok: true });
      if (result.ok) counts.set(result.hostname, (counts.get(result.hostname) ?? 0) + 1);
    }
  } finally {
    client.close();
  }
  expect([...counts.keys()].sort()).toEqual(['grpc-server-1', 'grpc-server-2', 'grpc-server-3']);
  for (const [host, count] of counts) expect(Math.abs(count - 10), `${host} got ${count}`).toBeLessThanOrEqual(1);

  // Envoy's own per-host counters agree: the balancing happened in Envoy, per request.
  const after = await lab.stack.hosts();
  const served = after.map((h) => (h.stats.rq_total ?? 0) - (before.get(h.address) ?? 0));
  expect(served.reduce((a, b) => a + b, 0)).toBe(30);
  for (const n of served) expect(Math.abs(n - 10)).toBeLessThanOrEqual(1);
});
