// The reason this project exists: one gRPC client, one HTTP/2 connection, many calls. Balancing per connection
// (what an L4 balancer, or grpc-js's default pick_first, does) sends every call to one replica; balancing per
// call (grpc-js round_robin on the client, or Envoy in front) spreads them.
import type { ChannelOptions } from '@grpc/grpc-js';
import { callGreeter, createGreeterClient } from '../../../client/src/greeter-call.js';
import { clusterHosts } from '../../envoy/envoy-admin.js';
import { CLUSTER_NAME } from '../../local/envoy-config.js';
import type { BarChart, Experiment } from './experiment.js';

interface CaseResult {
  label: string;
  byHost: Map<string, number>;
  failed: number;
}

/** Sends `calls` sequential calls on one channel and counts who answered. */
async function callMany(label: string, target: string, options: ChannelOptions, calls: number): Promise<CaseResult> {
  const client = createGreeterClient(target, options);
  const byHost = new Map<string, number>();
  let failed = 0;
  try {
    for (let i = 0; i < calls; i += 1) {
      const result = await callGreeter(client, 'l4-vs-l7', 3000);
      if (result.ok) byHost.set(result.hostname, (byHost.get(result.hostname) ?? 0) + 1);
      else failed += 1;
    }
  } finally {
    client.close();
  }
  return { label, byHost, failed };
}

function shares(result: CaseResult, replicas: string[]): number[] {
  const total = [...result.byHost.values()].reduce((a, b) => a + b, 0) || 1;
  return replicas.map((name) => (result.byHost.get(name) ?? 0) / total);
}

const percent = (share: number): string => `${(share * 100).toFixed(0)}%`;

export const l4VsL7Experiment: Experiment = {
  name: 'l4-vs-l7',
  title: 'One HTTP/2 connection: per-connection vs per-call balancing',
  teaches:
    'gRPC sends every call of a client over one long-lived HTTP/2 connection. Balancing connections (an L4 ' +
    'load balancer, or grpc-js pick_first) pins all of them to one replica; balancing calls (grpc-js round_robin, ' +
    'or Envoy at L7) spreads them.',
  async run({ driver, quick, log }) {
    const calls = quick ? 90 : 600;
    // The addresses the service's one DNS name resolves to, as Envoy discovered them (STRICT_DNS).
    const addresses = (await clusterHosts(await driver.adminUrl(), CLUSTER_NAME)).map((h) => h.address);
    const replicas = (await driver.replicas()).map((r) => r.name);
    const direct = `ipv4:${addresses.join(',')}`;
    log(`${calls} calls on one channel, three ways, to ${addresses.join(', ')}`);
    const cases = [
      await callMany('direct, pick_first (like L4)', direct, {}, calls),
      await callMany('direct, client round_robin', direct, {
        'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
      }, calls),
      await callMany('through Envoy (L7)', await driver.envoyTarget(), {}, calls),
    ];
    const [pickFirst, roundRobin, envoy] = cases.map((c) => shares(c, replicas)) as [number[], number[], number[]];
    const fair = 1 / replicas.length;
    const even = (s: number[]): boolean => s.every((share) => share >= fair * 0.8 && share <= fair * 1.2);
    const failed = cases.reduce((sum, c) => sum + c.failed, 0);
    const pass = Math.max(...pickFirst) >= 0.99 && even(roundRobin) && even(envoy) && failed === 0;
    const charts: BarChart[] = cases.map((c, i) => ({
      title: c.label,
      unit: 'calls',
      bars: replicas.map((name, j) => ({ label: name, value: Math.round(([pickFirst, roundRobin, envoy][i]?.[j] ?? 0) * calls) })),
    }));
    return {
      done: `${calls} sequential calls over one gRPC channel, first straight to the replicas' addresses with grpc-js's default pick_first, then with client-side round_robin, then through Envoy.`,
      expected: `pick_first: one replica gets ≥ 99% of the calls. round_robin and Envoy: every replica gets its fair share ±20% (${percent(fair * 0.8)}-${percent(fair * 1.2)}). No call fails.`,
      measured: [
        `pick_first: ${replicas.map((n, i) => `${n} ${percent(pickFirst[i] ?? 0)}`).join(', ')}`,
        `round_robin: ${replicas.map((n, i) => `${n} ${percent(roundRobin[i] ?? 0)}`).join(', ')}`,
        `Envoy: ${replicas.map((n, i) => `${n} ${percent(envoy[i] ?? 0)}`).join(', ')}`,
        `${failed} failed calls`,
      ],
      pass,
      figures: {
        calls,
        failed,
        pickFirstTopShare: Math.max(...pickFirst),
        roundRobinMinShare: Math.min(...roundRobin),
        roundRobinMaxShare: Math.max(...roundRobin),
        envoyMinShare: Math.min(...envoy),
        envoyMaxShare: Math.max(...envoy),
      },
      charts,
    };
  },
};
