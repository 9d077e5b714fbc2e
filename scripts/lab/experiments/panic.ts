// Two of three replicas are broken and say so (NOT_SERVING, failing every call). Envoy's panic threshold decides
// what happens next: this config turns panic mode off, so Envoy trusts its health checks and sends everything to
// the one healthy replica; with Envoy's default threshold (50 %), one healthy host of three is "too few to trust",
// so Envoy spreads calls over all three again, broken ones included, and only retries hide it.
import { runLoad } from '../../../client/src/load/run-load.js';
import type { LoadReport } from '../../../client/src/load/load-report.js';
import { clusterHosts, stats } from '../../envoy/envoy-admin.js';
import { CLUSTER_NAME } from '../../local/envoy-config.js';
import { pollUntil } from '../../local/poll-until.js';
import type { LabDriver } from '../lab-driver.js';
import type { Experiment } from './experiment.js';

const BROKEN = ['grpc-server-2', 'grpc-server-3'];
const HEALTHY = 'grpc-server-1';

interface Phase {
  label: string;
  report: LoadReport;
  /** Requests Envoy sent to each replica (tries, retries included), by replica name. */
  triesByReplica: Map<string, number>;
  panicRequests: number;
  retries: number;
}

async function counters(adminUrl: string): Promise<Map<string, number>> {
  return stats(adminUrl, `^cluster\\.${CLUSTER_NAME}\\.(lb_healthy_panic|upstream_rq_retry)$`);
}

/** Runs the load and reads, from Envoy, where its tries went and whether it was in panic. */
async function measurePhase(driver: LabDriver, label: string, durationS: number): Promise<Phase> {
  const adminUrl = await driver.adminUrl();
  const replicas = await driver.replicas();
  const before = await clusterHosts(adminUrl, CLUSTER_NAME);
  const countersBefore = await counters(adminUrl);
  const report = await runLoad({ target: await driver.envoyTarget(), rate: 100, durationS, concurrency: 50, deadlineMs: 3000 });
  const after = await clusterHosts(adminUrl, CLUSTER_NAME);
  const countersAfter = await counters(adminUrl);
  const triesByReplica = new Map<string, number>();
  for (const replica of replicas) {
    const host = after.find((h) => h.address.split(':')[0] === replica.address);
    const was = before.find((h) => h.address === host?.address);
    triesByReplica.set(replica.name, Math.max(0, (host?.stats.rq_total ?? 0) - (was?.stats.rq_total ?? 0)));
  }
  const delta = (name: string): number =>
    (countersAfter.get(`cluster.${CLUSTER_NAME}.${name}`) ?? 0) - (countersBefore.get(`cluster.${CLUSTER_NAME}.${name}`) ?? 0);
  return { label, report, triesByReplica, panicRequests: delta('lb_healthy_panic'), retries: delta('upstream_rq_retry') };
}

const brokenTries = (phase: Phase): number => BROKEN.reduce((sum, name) => sum + (phase.triesByReplica.get(name) ?? 0), 0);

export const panicExperiment: Experiment = {
  name: 'panic',
  title: 'Two of three replicas unhealthy: with and without a panic threshold',
  teaches:
    "Envoy's panic threshold: below it (Envoy's default is 50 % healthy), Envoy stops trusting health checks and " +
    'balances over every host, broken ones too. This lab runs with panic mode off, so unhealthy means no traffic ' +
    'and the healthy replica takes it all.',
  async run({ driver, quick, log }) {
    const durationS = quick ? 2 : 8;
    const adminUrl = await driver.adminUrl();
    for (const name of BROKEN) await driver.setFaults(name, { health: 'NOT_SERVING', failRate: 1, failCode: 'UNAVAILABLE' });
    await pollUntil(
      'Envoy to mark the two broken replicas unhealthy',
      async () => (await clusterHosts(adminUrl, CLUSTER_NAME)).filter((h) => h.failedActiveHealthCheck).length === BROKEN.length,
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    log(`panic mode off (envoy.yaml): ${durationS} s of load at 100 calls/s`);
    const off = await measurePhase(driver, 'panic mode off (envoy.yaml)', durationS);
    log('switching to panic threshold 50 % (Envoy default)');
    await driver.setPolicy({ policy: 'ROUND_ROBIN', panicThresholdPercent: 50 });
    await pollUntil(
      'the restarted Envoy to see the two broken replicas as unhealthy again',
      async () => {
        const hosts = await clusterHosts(adminUrl, CLUSTER_NAME);
        return hosts.length === 3 && hosts.filter((h) => h.failedActiveHealthCheck).length === BROKEN.length && hosts.some((h) => h.healthy);
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const on = await measurePhase(driver, 'panic threshold 50 %', durationS);

    const pass =
      off.panicRequests === 0 && brokenTries(off) === 0 && off.report.failed === 0 && on.panicRequests > 0 && brokenTries(on) > 0;
    const share = (phase: Phase): string => {
      const total = [...phase.triesByReplica.values()].reduce((a, b) => a + b, 0) || 1;
      return `${((brokenTries(phase) / total) * 100).toFixed(0)}% of Envoy's tries went to the broken replicas`;
    };
    return {
      done: `${BROKEN.join(' and ')} answer NOT_SERVING and fail every call; ${HEALTHY} is fine. ${durationS} s of load at 100 calls/s with envoy.yaml's panic mode off, then with Envoy's default threshold of 50 %.`,
      expected:
        'Panic off: no request reaches the broken replicas, no panic, no failed call. Threshold 50 %: Envoy panics (lb_healthy_panic > 0) and sends tries to the broken replicas.',
      measured: [
        `panic off: ${share(off)}; ${off.panicRequests} panic requests; ${off.report.failed} of ${off.report.sent} calls failed; ${off.retries} retries`,
        `threshold 50 %: ${share(on)}; ${on.panicRequests} panic requests; ${on.report.failed} of ${on.report.sent} calls failed; ${on.retries} retries`,
        `p99 latency of ok calls: ${off.report.latencyMs.ok?.p99.toFixed(1) ?? '-'} ms without panic, ${on.report.latencyMs.ok?.p99.toFixed(1) ?? '-'} ms in panic (retries cost time)`,
      ],
      pass,
      figures: {
        offBrokenTries: brokenTries(off),
        offPanicRequests: off.panicRequests,
        offFailed: off.report.failed,
        onBrokenTries: brokenTries(on),
        onPanicRequests: on.panicRequests,
        onFailed: on.report.failed,
        onRetries: on.retries,
      },
      charts: [off, on].map((phase) => ({
        title: `${phase.label}: Envoy's tries per replica`,
        unit: 'requests',
        bars: [...phase.triesByReplica].map(([label, value]) => ({ label, value })),
      })),
    };
  },
};
