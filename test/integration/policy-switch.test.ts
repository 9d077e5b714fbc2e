// Load-balancing policies through a real Envoy: RING_HASH keeps a key on one replica, setPolicy hot-restarts a
// running stack onto another policy with no call lost (proven from Envoy's own /config_dump and a steady load),
// LEAST_REQUEST steers calls away from a slow replica.
import { Metadata } from '@grpc/grpc-js';
import { expect, test } from 'vitest';
import type { GreeterClient } from '../../gen/greeter/v1/greeter.js';
import { callGreeter, createGreeterClient, runLoad } from '../../client/src/index.js';
import { runningStaticResources, serverInfo, stats } from '../../scripts/envoy/admin.js';
import { policyOf, type PolicyChoice } from '../../scripts/envoy/policy.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

// Started on RING_HASH through the `policy` option; the tests switch with setPolicy from there.
const lab = useLocalStack({ replicas: 3, policy: { policy: 'RING_HASH' } });

/** One SayHello with `x-lab-key: key` (callGreeter sends no metadata); resolves with the replica's hostname. */
function hostnameForKey(client: GreeterClient, key: string): Promise<string> {
  const metadata = new Metadata();
  metadata.set('x-lab-key', key);
  return new Promise((resolve, reject) => {
    client.sayHello({ name: 'lab' }, metadata, { deadline: Date.now() + 3000 }, (error, response) =>
      error ? reject(error) : resolve(response.hostname),
    );
  });
}

/** The policy Envoy really runs: its live static cluster and listener from /config_dump, read by policyOf. */
async function livePolicy(adminUrl: string): Promise<PolicyChoice> {
  return policyOf(JSON.stringify(await runningStaticResources(adminUrl)));
}

test('RING_HASH on x-lab-key: 20 keys x 5 calls, each key always on one replica, keys spread over several', async () => {
  const { stack } = lab;
  expect(await livePolicy(stack.adminUrl)).toEqual({ policy: 'RING_HASH', hashHeader: 'x-lab-key' });
  const client = createGreeterClient(stack.envoyTarget);
  const replicasOfKey = new Map<string, Set<string>>();
  try {
    for (let k = 0; k < 20; k += 1) {
      const key = `user-${k}`;
      const seen = new Set<string>();
      for (let i = 0; i < 5; i += 1) seen.add(await hostnameForKey(client, key));
      replicasOfKey.set(key, seen);
    }
  } finally {
    client.close();
  }
  const split = [...replicasOfKey].filter(([, seen]) => seen.size !== 1).map(([key, seen]) => `${key}: ${[...seen]}`);
  expect(split, `keys served by more than one replica\n${lab.recentLines()}`).toEqual([]);
  const keysPerReplica = new Map<string, number>();
  for (const seen of replicasOfKey.values()) for (const host of seen) keysPerReplica.set(host, (keysPerReplica.get(host) ?? 0) + 1);
  console.info(`ring hash: keys per replica ${JSON.stringify(Object.fromEntries([...keysPerReplica].sort()))}`);
  expect(keysPerReplica.size).toBeGreaterThan(1);
});

test('setPolicy hot-restarts Envoy to ROUND_ROBIN, MAGLEV and back, same ports, 0 of ~200 calls/s lost', async () => {
  const { stack } = lab;
  const adminUrl = stack.adminUrl;
  const target = stack.envoyTarget;
  const epochBefore = (await serverInfo(adminUrl)).restartEpoch;
  // Open-loop load through every switch: each one must hand the listener over without failing a call.
  const stopLoad = new AbortController();
  const load = runLoad({ target, rate: 200, concurrency: 100, durationS: 60, deadlineMs: 2000 }, { signal: stopLoad.signal });
  // One long-lived client, as the worker has: its connection is drained by the old Envoy, and it moves on.
  const client = createGreeterClient(target);
  try {
    const switches = [{ policy: 'ROUND_ROBIN' }, { policy: 'MAGLEV' }, { policy: 'ROUND_ROBIN' }] as const;
    for (const choice of switches) {
      await stack.setPolicy(choice);
      expect(stack.adminUrl).toBe(adminUrl);
      expect(stack.envoyTarget).toBe(target);
      const expected = choice.policy === 'MAGLEV' ? { policy: 'MAGLEV', hashHeader: 'x-lab-key' } : { policy: choice.policy };
      expect(await livePolicy(adminUrl)).toEqual(expected);
      expect(stack.currentPolicy()).toEqual(expected);
      expect((await callGreeter(client, 'lab', 1000)).ok).toBe(true);
      // And Envoy balances as the policy says: one key sticks to one replica only under MAGLEV.
      const sameKey = new Set<string>();
      // 30 calls: the load's calls interleave with these in ROUND_ROBIN's one rotation, so a few calls could miss a
      // replica by chance (about 1 in 4 for 6); 30 miss one about once in 70,000 runs.
      for (let i = 0; i < 30; i += 1) sameKey.add(await hostnameForKey(client, 'user-7'));
      expect(sameKey.size, `${choice.policy}: replicas for one key ${[...sameKey]}`).toBe(choice.policy === 'MAGLEV' ? 1 : 3);
    }

    // Each switch was a hot restart: the next epoch, not a fresh Envoy.
    expect((await serverInfo(adminUrl)).restartEpoch).toBe(epochBefore + switches.length);
    stopLoad.abort();
    const report = await load;
    expect(report.sent).toBeGreaterThan(1000);
    expect(report.failed, JSON.stringify(report.failedByCode)).toBe(0);

    // A bad choice is refused before anything starts: the same Envoy keeps running the same policy.
    const counter = 'http.grpc_ingress.downstream_rq_total';
    const served = async (): Promise<number> => (await stats(adminUrl, `^${counter}$`)).get(counter) ?? 0;
    const before = await served();
    expect(before).toBeGreaterThan(0);
    await expect(stack.setPolicy({ policy: 'MAGLEV', hashHeader: 'X-Lab-Key' })).rejects.toThrow(/^invalid hash header "X-Lab-Key"/);
    expect(await served()).toBeGreaterThanOrEqual(before);
    expect(await livePolicy(adminUrl)).toEqual({ policy: 'ROUND_ROBIN' });
    expect(stack.currentPolicy()).toEqual({ policy: 'ROUND_ROBIN' });
  } finally {
    stopLoad.abort();
    await load.catch(() => undefined);
    client.close();
  }
});

test('LEAST_REQUEST: a replica answering 200 ms slower gets clearly fewer of 8 concurrent callers\' calls', async () => {
  const { stack } = lab;
  await stack.setPolicy({ policy: 'LEAST_REQUEST' });
  expect(await livePolicy(stack.adminUrl)).toEqual({ policy: 'LEAST_REQUEST' });
  await stack.control('grpc-server-2').update({ latencyMs: 200 });
  const client = createGreeterClient(stack.envoyTarget);
  const counts = new Map<string, number>();
  try {
    const until = Date.now() + 2000;
    const caller = async (): Promise<void> => {
      while (Date.now() < until) {
        const result = await callGreeter(client, 'lab', 3000);
        expect(result, lab.recentLines()).toMatchObject({ ok: true });
        if (result.ok) counts.set(result.hostname, (counts.get(result.hostname) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 8 }, caller));
  } finally {
    client.close();
    await stack.control('grpc-server-2').reset();
  }
  const slow = counts.get('grpc-server-2') ?? 0;
  const fast = [counts.get('grpc-server-1') ?? 0, counts.get('grpc-server-3') ?? 0];
  console.info(`least request: calls per replica ${JSON.stringify(Object.fromEntries([...counts].sort()))}`);
  // Round robin or random would give the slow replica as many calls as each fast one (a third each). Envoy's
  // two-choice pick sends it a call only when it has fewer calls in flight than the other sampled replica, or
  // is sampled twice (1 pick in 9): expected about a quarter of a fast replica's count. Half leaves a 2x margin.
  for (const n of fast) expect(slow, JSON.stringify(Object.fromEntries(counts))).toBeLessThan(n / 2);
});
