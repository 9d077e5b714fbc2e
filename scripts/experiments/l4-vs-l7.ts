// The reason this project exists: one gRPC client, one HTTP/2 connection, many calls. Balancing per connection
// (what an L4 balancer, or grpc-js's default pick_first, does) sends every call to one replica; balancing per call
// (grpc-js round_robin on the client, or Envoy in front) spreads them.
import type { Experiment } from './experiment.js';
import { answeredBy, shareLine } from './trial.js';

const CLIENT_TOLERANCE = 0.2; // client round_robin: every replica within ±20 % of its fair share (subchannels connect one by one)
const ENVOY_TOLERANCE = 0.05; // Envoy round robin on one connection: the calls go 1, 2, 3, 1, 2, 3, ...

export const l4VsL7Experiment: Experiment = {
  name: 'l4-vs-l7',
  title: 'One HTTP/2 connection: per-connection vs per-call balancing',
  teaches:
    'gRPC sends every call of a client over one long-lived HTTP/2 connection. Balancing connections (an L4 ' +
    'load balancer, or grpc-js pick_first) pins all of them to one replica; balancing calls (grpc-js round_robin, ' +
    'or Envoy at L7) spreads them.',
  async run(t) {
    const calls = t.pick(90, 600);
    const replicas = await t.replicas();
    // The addresses the service's one DNS name resolves to, as Envoy discovered them (STRICT_DNS).
    const direct = `ipv4:${replicas.map((r) => r.host).join(',')}`;
    t.step(`${calls} calls one after another on one channel straight to ${replicas.map((r) => r.host).join(', ')}, with grpc-js pick_first`);
    const pickFirst = await t.sendCalls(calls, { target: direct, balancing: 'pick_first' });
    t.step(`the same with client-side round_robin`);
    const roundRobin = await t.sendCalls(calls, { target: direct, balancing: 'round_robin' });
    t.step(`the same through Envoy (${t.target})`);
    const envoy = await t.sendCalls(calls);

    const fair = calls / replicas.length;
    const spread = (counts: Map<string, number>) => Math.max(...[...counts.values()].map((n) => Math.abs(n - fair) / fair));
    await t.noFailedCalls();
    const pinned = answeredBy(pickFirst, replicas);
    t.atLeast('pick_first: share of the busiest replica', Math.max(...pinned.values()) / calls, 0.99, 'x');
    t.atMost('client round_robin: largest deviation from the fair share', spread(answeredBy(roundRobin, replicas)), CLIENT_TOLERANCE, 'x');
    t.atMost('Envoy: largest deviation from the fair share', spread(answeredBy(envoy, replicas)), ENVOY_TOLERANCE, 'x');
    for (const [label, report] of [['direct, pick_first (like L4)', pickFirst], ['direct, client round_robin', roundRobin], ['through Envoy (L7)', envoy]] as const) {
      t.note(`${label}: ${shareLine(t.answeredChart(label, report, replicas))}`);
    }
  },
};
