// A graceful stop under load. On SIGTERM the replica answers NOT_SERVING to health checks for DRAIN_DELAY_MS
// while it still serves calls; Envoy's next health check (1 s interval, a NOT_SERVING answer counts at once)
// takes it out of rotation, the calls in flight finish, and only then does it stop listening and exit. The
// order is the point: Envoy stops routing before the replica stops answering, so no caller sees an error.
import { setTimeout as delay } from 'node:timers/promises';
import type { LoadReport } from '../../../client/src/load/load-report.js';
import { startSteadyLoad, type SteadyLoad } from './steady-load.js';
import { clusterHosts, type UpstreamHost } from '../../envoy/envoy-admin.js';
import { CLUSTER_NAME } from '../../local/envoy-config.js';
import { pollUntil } from '../../local/poll-until.js';
import type { LabReplica } from '../lab-driver.js';
import type { BarChart, Experiment, ExperimentOutcome } from './experiment.js';

const STOPPED_REPLICA = 'grpc-server-2';
const RATE_PER_S = 50;
const POLL_MS = 100;
// The replicas' drain settings under both drivers (Compose sets them; local replicas run the server defaults).
const DRAIN_DELAY_MS = 3000;
const SHUTDOWN_TIMEOUT_MS = 5000;
// Bound judged: the stop is over once the drain delay and the shutdown timeout have run (measured here: ~3.0 s).
const STOP_BOUND_MS = DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS;
// After the exit, the 1 s DNS refresh drops the host from /clusters; how long to follow it before giving up.
const REMOVAL_WAIT_MS = 5000;

function steadyLoad(target: string): SteadyLoad {
  return startSteadyLoad({ target, rate: RATE_PER_S, name: 'lab-drain' });
}

/** What Envoy did with the stopping replica, in ms after SIGTERM (undefined: not seen while it was followed). */
interface DrainTimeline {
  /** First poll at which Envoy no longer counted it healthy. */
  outOfRotationMs?: number;
  /** Last poll at which its request counter had grown: Envoy routed no call to it after this. */
  lastRoutedMs?: number;
  /** First poll at which it was gone from /clusters. */
  removedMs?: number;
  /** Calls Envoy routed to each host after SIGTERM, by host address. */
  routed: Map<string, number>;
}

/**
 * Follows Envoy's view of every host from `termAt` on, until `address` has left /clusters or the time
 * `followUntil()` returns (it moves: the stop's end decides it) has passed.
 */
async function followDrain(
  adminUrl: string,
  address: string,
  start: Map<string, number>,
  termAt: number,
  followUntil: () => number,
): Promise<DrainTimeline> {
  const timeline: DrainTimeline = { routed: new Map() };
  const seen = new Map(start);
  for (;;) {
    const hosts: UpstreamHost[] | undefined = await clusterHosts(adminUrl, CLUSTER_NAME).catch(() => undefined);
    const now = Math.round(performance.now() - termAt);
    if (hosts) {
      for (const host of hosts) {
        const total = host.stats.rq_total ?? 0;
        if (host.address === address && total > (seen.get(address) ?? 0)) timeline.lastRoutedMs = now;
        seen.set(host.address, total);
      }
      const host = hosts.find((h) => h.address === address);
      if (host && !host.healthy) timeline.outOfRotationMs ??= now;
      if (!host) {
        timeline.removedMs = now;
        break;
      }
    }
    if (performance.now() >= followUntil()) break;
    await delay(POLL_MS);
  }
  for (const [host, total] of seen) timeline.routed.set(host, total - (start.get(host) ?? 0));
  return timeline;
}

function nameOf(replicas: LabReplica[], hostAddress: string): string {
  return replicas.find((r) => hostAddress.startsWith(`${r.address}:`))?.name ?? hostAddress;
}

export const drainExperiment: Experiment = {
  name: 'drain',
  title: 'Graceful stop under load: drain first, then exit',
  teaches:
    'A replica that gets SIGTERM keeps serving but answers NOT_SERVING to health checks for a drain delay, so Envoy ' +
    'takes it out of rotation before it stops listening; the calls in flight finish and it exits. Done in that ' +
    'order, a replica can leave in the middle of traffic without a single failed call.',
  async run({ driver, quick, log }): Promise<ExperimentOutcome> {
    const afterS = quick ? 0.5 : 3;
    const adminUrl = await driver.adminUrl();
    const replicas = await driver.replicas();
    const stopped = replicas.find((r) => r.name === STOPPED_REPLICA);
    if (!stopped) throw new Error(`${STOPPED_REPLICA} is not running (replicas: ${replicas.map((r) => r.name).join(', ')})`);
    const address = (await clusterHosts(adminUrl, CLUSTER_NAME)).find((h) => h.address.startsWith(`${stopped.address}:`))?.address;
    if (!address) throw new Error(`Envoy has no host for ${STOPPED_REPLICA} at ${stopped.address}`);

    log(`${RATE_PER_S} calls/s of open-loop load through Envoy`);
    const load = steadyLoad(await driver.envoyTarget());
    let report: LoadReport;
    let stopMs: number;
    let timeline: DrainTimeline;
    try {
      const totals = async (): Promise<Map<string, number>> =>
        new Map((await clusterHosts(adminUrl, CLUSTER_NAME)).map((h) => [h.address, h.stats.rq_total ?? 0]));
      const warm = await totals();
      await pollUntil(
        `calls to reach ${STOPPED_REPLICA}`,
        async () => ((await totals()).get(address) ?? 0) > (warm.get(address) ?? 0),
        { timeoutMs: 5000, intervalMs: POLL_MS },
      );

      log(`SIGTERM ${STOPPED_REPLICA}; following Envoy's view of it`);
      const start = await totals();
      const termAt = performance.now();
      let followUntil = termAt + STOP_BOUND_MS + 10_000;
      const following = followDrain(adminUrl, address, start, termAt, () => followUntil);
      try {
        await driver.stop(STOPPED_REPLICA);
        stopMs = Math.round(performance.now() - termAt);
      } finally {
        followUntil = performance.now() + REMOVAL_WAIT_MS;
        timeline = await following;
      }
      log(`${STOPPED_REPLICA} exited after ${stopMs} ms; ${afterS} s more load on the others`);
      // A measurement window of steady load on the survivors, not a wait for a condition.
      await delay(afterS * 1000);
      report = await load.stop();
    } finally {
      await load.stop().catch(() => undefined);
    }

    const lastRoutedMs = timeline.lastRoutedMs ?? 0;
    const pass = report.failed === 0 && stopMs <= STOP_BOUND_MS && lastRoutedMs < Math.min(DRAIN_DELAY_MS, stopMs);
    const routed = [...timeline.routed]
      .map(([host, calls]) => ({ name: nameOf(replicas, host), calls }))
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    const figures: ExperimentOutcome['figures'] = {
      stoppedReplica: STOPPED_REPLICA,
      ratePerS: RATE_PER_S,
      drainDelayMs: DRAIN_DELAY_MS,
      stopMs,
      outOfRotationMs: timeline.outOfRotationMs ?? Number.NaN,
      lastRoutedMs,
      removedMs: timeline.removedMs ?? Number.NaN,
      sent: report.sent,
      failed: report.failed,
    };
    for (const { name, calls } of routed) figures[`routedAfterTerm.${name}`] = calls;

    const charts: BarChart[] = [
      {
        title: `After SIGTERM to ${STOPPED_REPLICA}`,
        unit: 'ms',
        bars: [
          { label: 'Envoy takes it out of rotation', value: timeline.outOfRotationMs ?? 0 },
          { label: 'last call routed to it', value: lastRoutedMs },
          { label: 'it exits (stop returns)', value: stopMs },
          { label: 'gone from /clusters', value: timeline.removedMs ?? 0 },
        ],
      },
      { title: 'Calls routed per replica after SIGTERM', unit: 'calls', bars: routed.map(({ name, calls }) => ({ label: name, value: calls })) },
    ];
    const notSeen = (ms: number | undefined, what: string): string => (ms === undefined ? `${what}: not seen` : `${what} at ${ms} ms`);
    return {
      done:
        `Under ${RATE_PER_S} calls/s of open-loop load through Envoy, ${STOPPED_REPLICA} was stopped gracefully ` +
        `(SIGTERM: ${DRAIN_DELAY_MS / 1000} s NOT_SERVING, then shutdown); Envoy's view of it was polled every ${POLL_MS} ms.`,
      expected:
        `No call fails; Envoy stops routing to ${STOPPED_REPLICA} before it exits and within the ${DRAIN_DELAY_MS / 1000} s drain ` +
        `delay; the stop completes within ${STOP_BOUND_MS / 1000} s (drain delay + ${SHUTDOWN_TIMEOUT_MS / 1000} s shutdown timeout).`,
      measured: [
        `After SIGTERM: ${notSeen(timeline.outOfRotationMs, 'out of rotation')}; last call routed to it by ${lastRoutedMs} ms; ` +
          `exited (stop returned) at ${stopMs} ms; ${notSeen(timeline.removedMs, 'gone from /clusters')}.`,
        `Calls routed after SIGTERM: ${routed.map(({ name, calls }) => `${name} ${calls}`).join(', ')}.`,
        `${report.sent} calls sent, ${report.failed} failed.`,
      ],
      pass,
      figures,
      charts,
    };
  },
};
