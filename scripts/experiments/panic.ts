// Envoy's panic threshold. Below it (Envoy's default: 50 % of hosts healthy) Envoy stops trusting health checks and
// balances over every host, broken ones too. envoy.yaml runs with panic mode off, so unhealthy means no traffic and
// the healthy replica takes it all; the same break with Envoy's default shows the difference.
import { CLUSTER_NAME, clusterHosts } from '../envoy/index.js';
import { pollUntil } from '../stack/index.js';
import type { Experiment } from './experiment.js';
import type { ReplicaHost, Trial } from './trial.js';

const RATE = 100;

/** Load for `seconds`; how many of Envoy's tries went to the broken replicas, and how many requests it sent in panic. */
async function phase(t: Trial, broken: ReplicaHost[], seconds: number) {
  const tries = async () => new Map((await clusterHosts(t.adminUrl, CLUSTER_NAME)).map((h) => [h.address, h.stats.rq_total ?? 0]));
  const [before, panic] = [await tries(), await t.counting('lb_healthy_panic')];
  const report = await t.loadFor(seconds, { rate: RATE, deadlineMs: 3000 });
  const after = await tries();
  const toBroken = broken.reduce((sum, r) => sum + (after.get(r.host) ?? 0) - (before.get(r.host) ?? 0), 0);
  return { report, toBroken, panicRequests: await panic.since() };
}

export const panicExperiment: Experiment = {
  name: 'panic',
  title: 'Two of three replicas unhealthy: with and without a panic threshold',
  teaches:
    "Envoy's panic threshold: below it (Envoy's default is 50 % healthy), Envoy stops trusting health checks and " +
    'balances over every host, broken ones too. This lab runs with panic mode off, so unhealthy means no traffic ' +
    'and the healthy replica takes it all.',
  async run(t) {
    const broken = [await t.replica(2), await t.replica(3)];
    const seconds = t.pick(2, 8);
    const twoUnhealthy = () =>
      pollUntil('Envoy to see the two broken replicas unhealthy, the other healthy', async () => {
        const hosts = await clusterHosts(t.adminUrl, CLUSTER_NAME);
        return hosts.filter((h) => h.failedActiveHealthCheck).length === 2 && hosts.some((h) => h.healthy);
      }, { timeoutMs: 15_000 });
    t.step(`${broken.map((r) => r.name).join(' and ')} answer NOT_SERVING and fail every call`);
    for (const r of broken) await t.driver.setFaults(r.name, { health: 'NOT_SERVING', failRate: 1, failCode: 'UNAVAILABLE' });
    await twoUnhealthy();
    t.step(`${seconds} s of ${RATE} calls/s with envoy.yaml's panic mode off`);
    const off = await phase(t, broken, seconds);
    t.step(`the same with Envoy's default threshold, 50 % (lab policy ROUND_ROBIN --panic 50)`);
    await t.driver.setPolicy({ policy: 'ROUND_ROBIN', panicThresholdPercent: 50 });
    await twoUnhealthy();
    const on = await phase(t, broken, seconds);

    t.exactly('panic off: tries to the broken replicas', off.toBroken, 0, '');
    t.exactly('panic off: requests in panic', off.panicRequests, 0, '');
    t.exactly('panic off: failed calls', off.report.failed, 0, 'calls');
    t.atLeast('threshold 50 %: tries to the broken replicas', on.toBroken, 1, '');
    t.atLeast('threshold 50 %: requests in panic', on.panicRequests, 1, '');
    t.figure('threshold 50 %: failed calls', on.report.failed, 'calls');
    t.figure('panic off: p99', off.report.latencyMs.ok?.p99, 'ms');
    t.figure('threshold 50 %: p99', on.report.latencyMs.ok?.p99, 'ms');
    t.chart("Envoy's tries to the broken replicas", 'tries', [
      { label: 'panic mode off', value: off.toBroken },
      { label: 'threshold 50 %', value: on.toBroken },
    ]);
  },
};
