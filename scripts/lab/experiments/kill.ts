// SIGKILL under load: a replica dies without a goodbye (no drain, no NOT_SERVING first). Calls on its connection
// are reset and calls Envoy still sends it are refused; Envoy retries both on another replica, and stops routing to
// it as soon as outlier detection (failed calls), a health check or DNS (the replica is gone) notices.
import { clusterHosts } from '../../envoy/envoy-admin.js';
import { CLUSTER_NAME } from '../../local/envoy-config.js';
import { LabError } from '../lab-driver.js';
import type { BarChart, Experiment } from './experiment.js';
import { LoadPhases } from './steady-load.js';
import { answeredBy, listShares, retryCount, shares } from './replica-shares.js';

/** Calls started per second, whatever the replicas do (open loop): a dead replica cannot slow the load down. */
const RATE = 100;
/** Stated bound: /clusters shows the dead replica out of rotation within this long after the SIGKILL. */
const OUT_OF_ROTATION_BOUND_MS = 3000;
const POLL_MS = 50;
/** Past this, Envoy is taken never to notice: the experiment fails rather than waiting forever. */
const WATCH_LIMIT_MS = 10_000;

/** Seconds of load before the kill and after Envoy has taken the dead replica out of rotation. */
const PHASES = { quick: { beforeS: 1.5, afterS: 1.5 }, full: { beforeS: 5, afterS: 8 } };

/** What Envoy's /clusters showed about the dead replica, in ms after the SIGKILL. */
interface HostWatch {
  /** First poll where Envoy would no longer route to it (unhealthy or gone), and why; undefined = never. */
  outOfRotation: Promise<{ ms: number; by: string } | undefined>;
  /** First poll where it was gone from /clusters; undefined = still listed when the watch stopped. */
  removedMs: Promise<number | undefined>;
}

/** Polls Envoy's view of the host at `ip` every 50 ms from `since` until it leaves /clusters, the limit, or `stop`. */
function watchHost(adminUrl: string, ip: string, since: number, stop: AbortSignal): HostWatch {
  let settleOut: (value: { ms: number; by: string } | undefined) => void = () => {};
  const outOfRotation = new Promise<{ ms: number; by: string } | undefined>((resolve) => (settleOut = resolve));
  const removedMs = (async () => {
    try {
      while (!stop.aborted && performance.now() - since < WATCH_LIMIT_MS) {
        // An admin hiccup is one missed poll, not a failed experiment.
        const hosts = await clusterHosts(adminUrl, CLUSTER_NAME).catch(() => undefined);
        // Taken when the answer arrived: an upper bound on when Envoy's view changed.
        const ms = performance.now() - since;
        const host = hosts?.find((h) => h.address.startsWith(`${ip}:`));
        if (hosts && !host) {
          settleOut({ ms, by: 'gone from /clusters' });
          return ms;
        }
        if (host && !host.healthy) settleOut({ ms, by: host.healthFlags.join(', ') });
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      return undefined;
    } finally {
      settleOut(undefined); // A promise settles once: this only matters when it never went out of rotation.
    }
  })();
  return { outOfRotation, removedMs };
}


export const killExperiment: Experiment = {
  name: 'kill',
  title: 'SIGKILL one replica under load',
  teaches:
    'A replica that dies without draining takes its calls with it, yet the client sees no failure: Envoy retries ' +
    'the reset and refused calls on another replica, and stops routing to the dead one within moments ' +
    '(outlier detection on the failed calls, then DNS no longer listing it).',
  async run({ driver, quick, log }) {
    const { beforeS, afterS } = quick ? PHASES.quick : PHASES.full;
    const [target, adminUrl, replicas] = await Promise.all([driver.envoyTarget(), driver.adminUrl(), driver.replicas()]);
    const victim = replicas[1];
    if (!victim) throw new LabError('the kill experiment needs at least 2 replicas');
    const replicaNames = replicas.map((r) => r.name);

    // Every load phase stops in the finally below, whatever happens: no load outlives run().
    const loads = new LoadPhases({ target, rate: RATE, concurrency: 50, name: 'kill' });
    const watchStop = new AbortController();
    let removal: Promise<unknown> = Promise.resolve();

    try {
      const retriesAtStart = await retryCount(adminUrl);
      log(`${RATE} calls/s through Envoy at ${target}; ${beforeS} s of warm-up`);
      const before = await loads.start(beforeS).report;

      // Sized to outlast the watch; stopped as soon as Envoy takes the dead replica out of rotation.
      const duringLoad = loads.start(WATCH_LIMIT_MS / 1000 + 1);
      const killedAt = performance.now();
      await driver.kill(victim.name);
      log(`SIGKILL ${victim.name}; polling Envoy's /clusters every ${POLL_MS} ms`);
      const watch = watchHost(adminUrl, victim.address, killedAt, watchStop.signal);
      removal = watch.removedMs;
      const out = await watch.outOfRotation;
      const during = await duringLoad.stop();
      log(
        out
          ? `Envoy's /clusters showed ${victim.name} out of rotation ${Math.round(out.ms)} ms after the kill (${out.by}); ${afterS} s more load`
          : `Envoy's /clusters still showed ${victim.name} in rotation ${WATCH_LIMIT_MS} ms after the kill`,
      );

      const after = await loads.start(afterS).report;
      watchStop.abort();
      const removedMs = await watch.removedMs;
      const retries = (await retryCount(adminUrl)) - retriesAtStart;

      const phases = [before, during, after];
      const calls = phases.reduce((sum, r) => sum + r.sent, 0);
      const failed = phases.reduce((sum, r) => sum + r.failed, 0);
      const countsBefore = answeredBy(before, replicaNames);
      const countsAfter = answeredBy(after, replicaNames);
      const sharesBefore = shares(countsBefore);
      const sharesAfter = shares(countsAfter);
      const victimAfter = countsAfter.get(victim.name) ?? 0;
      const outMs = out === undefined ? undefined : Math.round(out.ms);
      const pass = failed === 0 && outMs !== undefined && outMs <= OUT_OF_ROTATION_BOUND_MS && victimAfter === 0;

      const chart = (title: string, counts: Map<string, number>): BarChart => ({
        title,
        unit: 'calls',
        bars: [...counts].map(([label, value]) => ({ label, value })),
      });
      return {
        done: `${RATE} calls/s through Envoy for ${beforeS} s, then SIGKILL of ${victim.name} under the same load, which went on until ${afterS} s after Envoy's /clusters showed it out of rotation.`,
        expected: `0 failed calls at the client (Envoy retries what the dead replica drops); Envoy's /clusters shows ${victim.name} out of rotation (unhealthy or gone) within ${OUT_OF_ROTATION_BOUND_MS / 1000} s of the kill, and it answers no call after that.`,
        measured: [
          `${calls} calls, ${failed} failed at the client`,
          outMs === undefined
            ? `Envoy's /clusters still showed ${victim.name} in rotation ${WATCH_LIMIT_MS / 1000} s after the kill`
            : `Envoy's /clusters showed ${victim.name} out of rotation ${outMs} ms after the kill (${out?.by})`,
          // Said once when leaving /clusters was how it went out of rotation.
          ...(removedMs !== undefined && Math.round(removedMs) === outMs
            ? []
            : [
                removedMs === undefined
                  ? `${victim.name} was still listed in /clusters at the end of the run`
                  : `${victim.name} was gone from /clusters ${Math.round(removedMs)} ms after the kill`,
              ]),
          `Envoy made ${retries} retries`,
          `before the kill: ${listShares(sharesBefore)}`,
          `after: ${listShares(sharesAfter)} (${victimAfter} calls answered by ${victim.name})`,
        ],
        pass,
        figures: {
          victim: victim.name,
          rate: RATE,
          beforeS,
          afterS,
          calls,
          failed,
          ...(outMs === undefined ? {} : { outOfRotationMs: outMs, outOfRotationBy: out?.by ?? '' }),
          outOfRotationBoundMs: OUT_OF_ROTATION_BOUND_MS,
          ...(removedMs === undefined ? {} : { removedMs: Math.round(removedMs) }),
          retries,
          victimCallsAfter: victimAfter,
          ...Object.fromEntries([...sharesBefore].map(([name, s]) => [`shareBefore.${name}`, s])),
          ...Object.fromEntries([...sharesAfter].map(([name, s]) => [`shareAfter.${name}`, s])),
        },
        charts: [
          chart(`Calls answered per replica in the ${beforeS} s before the kill`, countsBefore),
          chart(`Calls answered per replica in the ${afterS} s after ${victim.name} went out of rotation`, countsAfter),
        ],
      };
    } finally {
      watchStop.abort();
      await Promise.allSettled([loads.stopAll(), removal]);
    }
  },
};
