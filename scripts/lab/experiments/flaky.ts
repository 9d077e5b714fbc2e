// A flaky replica: it still answers SERVING to every health check, yet fails half its calls with UNAVAILABLE.
// Active health checks cannot see that; outlier detection, which watches real calls, ejects it, and until then
// Envoy retries each failed call on another replica, so the client never sees a failure.
import type { LoadReport } from '../../../client/src/load/load-report.js';
import { clusterHosts, stats } from '../../envoy/envoy-admin.js';
import { CLUSTER_NAME } from '../../local/envoy-config.js';
import { LabError } from '../lab-driver.js';
import type { BarChart, Experiment } from './experiment.js';
import { LoadPhases } from './steady-load.js';
import { answeredBy, listShares, percent, retryCount, shares } from './replica-shares.js';

/** Calls started per second (open loop): about a third reach the flaky replica while it is in rotation. */
const RATE = 100;
const FAIL_RATE = 0.5;
/**
 * Stated bound. At 50% failures a streak of 3 (consecutive_gateway_failure) comes after ~14 calls on average, about
 * 0.4 s at ~33 calls/s to this replica, but the tail is long (no streak in 66 calls happens ~0.5% of the time);
 * the failure-percentage check every 1 s shortens it. 3 s leaves margin for a busy machine.
 */
const EJECTION_BOUND_MS = 3000;
/**
 * /clusters shows Envoy's main thread's view; the worker threads that route calls get the new host set a moment
 * later (seen taking up to about a second on a busy 2-core machine). So after the ejection the load goes on until
 * Envoy's own request count for the host has stood still this long (at ~33 calls/s it would otherwise move every
 * ~30 ms); those calls count (no failure allowed) but stay out of the "after" shares.
 */
const QUIET_MS = 300;
/** Past this, Envoy is taken to keep routing to the ejected host: "after" then shows it, and the run fails. */
const SETTLE_LIMIT_MS = 5000;
const POLL_MS = 50;
/** Past this, Envoy is taken never to eject it: the experiment fails rather than waiting forever. */
const WATCH_LIMIT_MS = 10_000;
const ENFORCED_PREFIX = `cluster.${CLUSTER_NAME}.outlier_detection.ejections_enforced_`;

/**
 * Seconds of load before the fault and after Envoy has stopped routing to the ejected replica. The settling and
 * "after" stay well under envoy.yaml's base_ejection_time (5 s): later the replica would be let back in, fail
 * again and be ejected again, and "after" would mix the two.
 */
const PHASES = { quick: { beforeS: 1.5, afterS: 1.5 }, full: { beforeS: 5, afterS: 3.5 } };

/** Polls Envoy's view of the host at `ip` every 50 ms; ms from `since` until it is ejected, undefined past the limit. */
async function msUntilEjected(adminUrl: string, ip: string, since: number): Promise<number | undefined> {
  while (performance.now() - since < WATCH_LIMIT_MS) {
    // An admin hiccup is one missed poll, not a failed experiment.
    const hosts = await clusterHosts(adminUrl, CLUSTER_NAME).catch(() => undefined);
    // Taken when the answer arrived: an upper bound on when Envoy ejected it.
    const ms = performance.now() - since;
    if (hosts?.find((h) => h.address.startsWith(`${ip}:`))?.ejectedByOutlierDetection) return ms;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return undefined;
}

/**
 * Polls Envoy's request count for the host at `ip` every 50 ms, under load, until it has stood still for QUIET_MS;
 * resolves with the ms from `since` to its last move (0: it never moved), or undefined if it still moved at
 * SETTLE_LIMIT_MS.
 */
async function msUntilNoMoreCalls(adminUrl: string, ip: string, since: number): Promise<number | undefined> {
  const watchedFrom = performance.now();
  let last: number | undefined;
  let movedAt: number | undefined;
  for (;;) {
    const hosts = await clusterHosts(adminUrl, CLUSTER_NAME).catch(() => undefined);
    const now = performance.now();
    const total = hosts?.find((h) => h.address.startsWith(`${ip}:`))?.stats.rq_total;
    if (total !== undefined) {
      if (last !== undefined && total !== last) movedAt = now;
      last = total;
    }
    if (last !== undefined && now - (movedAt ?? watchedFrom) >= QUIET_MS) return movedAt === undefined ? 0 : movedAt - since;
    if (now - watchedFrom >= SETTLE_LIMIT_MS) return undefined;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}


/** Envoy's count of enforced ejections per detector (consecutive_5xx, consecutive_gateway_failure, ...). */
async function enforcedEjections(adminUrl: string): Promise<Map<string, number>> {
  const all = await stats(adminUrl, `^${ENFORCED_PREFIX.replaceAll('.', '\\.')}`);
  return new Map([...all].map(([name, value]) => [name.slice(ENFORCED_PREFIX.length), value]).filter(([detector]) => detector !== 'total') as [string, number][]);
}

export const flakyExperiment: Experiment = {
  name: 'flaky',
  title: 'A replica failing half its calls: retries and outlier ejection',
  teaches:
    'Health checks ask a replica how it is; outlier detection watches how its calls actually go. A replica that ' +
    'says SERVING but fails half its calls is ejected by outlier detection within moments, and until then Envoy ' +
    'retries every failed call on another replica, so the client sees no failure at all.',
  async run({ driver, quick, log }) {
    const { beforeS, afterS } = quick ? PHASES.quick : PHASES.full;
    const [target, adminUrl, replicas] = await Promise.all([driver.envoyTarget(), driver.adminUrl(), driver.replicas()]);
    const victim = replicas[0];
    if (!victim) throw new LabError('the flaky experiment needs a running replica');
    const replicaNames = replicas.map((r) => r.name);

    // Every load phase stops in the finally below, whatever happens: no load outlives run().
    const loads = new LoadPhases({ target, rate: RATE, concurrency: 50, name: 'flaky' });

    try {
      const retriesAtStart = await retryCount(adminUrl);
      log(`${RATE} calls/s through Envoy at ${target}; ${beforeS} s with no fault`);
      const before = await loads.start(beforeS).report;
      const retriesAtFault = await retryCount(adminUrl);
      const ejectionsBefore = await enforcedEjections(adminUrl);

      // Sized to outlast the watch; stopped as soon as Envoy ejects the replica.
      const duringLoad = loads.start(WATCH_LIMIT_MS / 1000 + 1);
      await driver.setFaults(victim.name, { failRate: FAIL_RATE, failCode: 'UNAVAILABLE' });
      // From the moment the fault is known to be in place (the Docker driver's exec takes a while to answer).
      const faultAt = performance.now();
      log(`${victim.name} now fails ${percent(FAIL_RATE)} of its calls with UNAVAILABLE; polling Envoy's /clusters every ${POLL_MS} ms`);
      const ejectedAfter = await msUntilEjected(adminUrl, victim.address, faultAt);
      const during = await duringLoad.stop();
      const retriesAtEjection = await retryCount(adminUrl);
      const ejectionsAfter = await enforcedEjections(adminUrl);
      log(
        ejectedAfter === undefined
          ? `Envoy had not ejected ${victim.name} after ${WATCH_LIMIT_MS} ms`
          : `Envoy ejected ${victim.name} after ${Math.round(ejectedAfter)} ms; waiting for its workers to stop sending it calls`,
      );

      // Sized to outlast the wait; stopped once Envoy has stopped sending the ejected host calls.
      let lastCallAfter: number | undefined;
      let settling: LoadReport | undefined;
      if (ejectedAfter !== undefined) {
        const settlingLoad = loads.start(SETTLE_LIMIT_MS / 1000 + 1);
        lastCallAfter = await msUntilNoMoreCalls(adminUrl, victim.address, faultAt + ejectedAfter);
        settling = await settlingLoad.stop();
      }
      const retriesAtSettled = await retryCount(adminUrl);
      log(`${afterS} s more load`);
      const after = await loads.start(afterS).report;
      const retriesAtEnd = await retryCount(adminUrl);

      const phases = settling ? [before, during, settling, after] : [before, during, after];
      const calls = phases.reduce((sum, r) => sum + r.sent, 0);
      const failed = phases.reduce((sum, r) => sum + r.failed, 0);
      const countsBefore = answeredBy(before, replicaNames);
      const countsDuring = answeredBy(during, replicaNames);
      const countsAfter = answeredBy(after, replicaNames);
      const [sharesBefore, sharesDuring, sharesAfter] = [countsBefore, countsDuring, countsAfter].map(shares) as [
        Map<string, number>,
        Map<string, number>,
        Map<string, number>,
      ];
      const victimSettling = settling ? (answeredBy(settling, replicaNames).get(victim.name) ?? 0) : 0;
      const victimAfter = countsAfter.get(victim.name) ?? 0;
      const retries = {
        before: retriesAtFault - retriesAtStart,
        untilEjection: retriesAtEjection - retriesAtFault,
        settling: retriesAtSettled - retriesAtEjection,
        after: retriesAtEnd - retriesAtSettled,
      };
      const lastCallMs = lastCallAfter === undefined ? undefined : Math.round(lastCallAfter);
      const totalRetries = retries.before + retries.untilEjection + retries.settling + retries.after;
      const ejectionMs = ejectedAfter === undefined ? undefined : Math.round(ejectedAfter);
      const detectors = [...ejectionsAfter]
        .filter(([detector, value]) => value > (ejectionsBefore.get(detector) ?? 0))
        .map(([detector]) => detector.replaceAll('_', ' '));
      const ejectedBy = detectors.length > 0 ? detectors.join(' and ') : 'no enforced ejection counted';
      const pass =
        failed === 0 && ejectionMs !== undefined && ejectionMs <= EJECTION_BOUND_MS && lastCallMs !== undefined && victimAfter === 0;

      const callsChart = (title: string, byName: Map<string, number>): BarChart => ({
        title,
        unit: 'calls',
        bars: [...byName].map(([label, value]) => ({ label, value })),
      });
      return {
        done: `${RATE} calls/s through Envoy; after ${beforeS} s ${victim.name} started failing ${percent(FAIL_RATE)} of its calls with UNAVAILABLE (while still answering SERVING to health checks), and the load went on until ${afterS} s after Envoy had ejected it and stopped sending it calls.`,
        expected: `Outlier detection ejects ${victim.name} within ${EJECTION_BOUND_MS / 1000} s; 0 failed calls at the client (Envoy retries each UNAVAILABLE on another replica); once Envoy stops sending it calls, ${victim.name} answers none for the rest of the run.`,
        measured: [
          `${calls} calls, ${failed} failed at the client`,
          ...(ejectionMs === undefined
            ? [`Envoy had not ejected ${victim.name} ${WATCH_LIMIT_MS / 1000} s after the fault`]
            : [
                `Envoy ejected ${victim.name} ${ejectionMs} ms after the fault was in place (${ejectedBy})`,
                lastCallMs === undefined
                  ? `Envoy still sent ${victim.name} calls ${SETTLE_LIMIT_MS / 1000} s after /clusters showed it ejected (${victimSettling} answered)`
                  : `Envoy sent ${victim.name} its last call ${lastCallMs} ms after /clusters showed it ejected (${victimSettling} answered meanwhile)`,
              ]),
          `Envoy made ${totalRetries} retries: ${retries.before} before the fault, ${retries.untilEjection} until the ejection, ${retries.settling} until its last call to ${victim.name}, ${retries.after} after`,
          `before the fault: ${listShares(sharesBefore)}`,
          `until the ejection: ${listShares(sharesDuring)}`,
          `after: ${listShares(sharesAfter)} (${victimAfter} calls answered by ${victim.name})`,
        ],
        pass,
        figures: {
          victim: victim.name,
          rate: RATE,
          failRate: FAIL_RATE,
          beforeS,
          afterS,
          calls,
          failed,
          ...(ejectionMs === undefined ? {} : { ejectionMs, ejectedBy }),
          ejectionBoundMs: EJECTION_BOUND_MS,
          ...(lastCallMs === undefined ? {} : { lastCallAfterEjectionMs: lastCallMs }),
          retries: totalRetries,
          retriesBefore: retries.before,
          retriesUntilEjection: retries.untilEjection,
          retriesSettling: retries.settling,
          retriesAfter: retries.after,
          victimCallsSettling: victimSettling,
          victimCallsAfter: victimAfter,
          ...Object.fromEntries([...sharesBefore].map(([name, s]) => [`shareBefore.${name}`, s])),
          ...Object.fromEntries([...sharesDuring].map(([name, s]) => [`shareUntilEjection.${name}`, s])),
          ...Object.fromEntries([...sharesAfter].map(([name, s]) => [`shareAfter.${name}`, s])),
        },
        charts: [
          callsChart(`Calls answered per replica in the ${beforeS} s before the fault`, countsBefore),
          callsChart(`Calls answered per replica while ${victim.name} failed half its calls, until its ejection`, countsDuring),
          callsChart(`Calls answered per replica in the ${afterS} s after Envoy stopped sending ${victim.name} calls`, countsAfter),
          {
            title: 'Retries Envoy made, per phase',
            unit: 'retries',
            bars: [
              { label: 'before the fault', value: retries.before },
              { label: 'until the ejection', value: retries.untilEjection },
              { label: 'until its last call', value: retries.settling },
              { label: 'after', value: retries.after },
            ],
          },
        ],
      };
    } finally {
      await loads.stopAll();
    }
  },
};
