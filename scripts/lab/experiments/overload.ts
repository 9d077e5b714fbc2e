// Push past the circuit breakers: more calls in flight than the cluster allows (max_requests 512 in envoy.yaml).
// Envoy fails the excess at once with a local UNAVAILABLE instead of queueing it onto replicas that are already
// slow, and counts every one of them, so overload shows up as numbers, not as a growing queue.
import { runLoad } from '../../../client/src/load/run-load.js';
import { stats } from '../../envoy/envoy-admin.js';
import { CLUSTER_NAME } from '../../local/envoy-config.js';
import type { Experiment } from './experiment.js';

/** Envoy's cluster-wide limit on calls in flight (envoy.yaml circuit_breakers max_requests). */
const MAX_REQUESTS = 512;
/** Latency added to every replica, so calls stay in flight: rate x latency is the concurrency asked for. Well
 * under the 1 s per-try timeout, so the calls Envoy lets through are not retried for slowness. */
const LATENCY_MS = 600;

/** Calls Envoy refused because max_requests (active) or max_pending_requests (pending) was reached. */
async function overflowCount(adminUrl: string): Promise<number> {
  const values = await stats(adminUrl, `^cluster\\.${CLUSTER_NAME}\\.upstream_rq_(active|pending)_overflow$`);
  return [...values.values()].reduce((sum, value) => sum + value, 0);
}

export const overloadExperiment: Experiment = {
  name: 'overload',
  title: 'Past the circuit breakers: Envoy sheds the excess at once',
  teaches:
    'Circuit breakers cap what Envoy sends to a cluster. Beyond max_requests (512 calls in flight) Envoy fails ' +
    'the excess immediately (UNAVAILABLE, counted as upstream_rq_active_overflow) instead of piling it onto ' +
    'replicas that are already slow; the calls within the limit still succeed.',
  async run({ driver, quick, log }) {
    const adminUrl = await driver.adminUrl();
    const rate = 1200;
    const durationS = quick ? 2 : 8;
    for (const replica of await driver.replicas()) await driver.setFaults(replica.name, { latencyMs: LATENCY_MS });
    const overflowBefore = await overflowCount(adminUrl);
    log(`${rate} calls/s for ${durationS} s against replicas answering in ${LATENCY_MS} ms: ~${(rate * LATENCY_MS) / 1000} in flight asked for, ${MAX_REQUESTS} allowed`);
    const report = await runLoad({
      target: await driver.envoyTarget(),
      rate,
      durationS,
      // The client itself must not be the limit: let it hold more than Envoy allows.
      concurrency: 2000,
      deadlineMs: 3000,
    });
    const overflowed = (await overflowCount(adminUrl)) - overflowBefore;
    const unavailable = report.failedByCode.UNAVAILABLE ?? 0;
    const otherFailures = report.failed - unavailable;
    const pass = overflowed > 0 && unavailable > 0 && otherFailures === 0 && report.ok > 0 && report.sent === report.ok + report.failed;
    return {
      done: `Every replica answers in ${LATENCY_MS} ms; the load generator starts ${rate} calls/s for ${durationS} s through Envoy, asking for about ${(rate * LATENCY_MS) / 1000} calls in flight against a limit of ${MAX_REQUESTS}.`,
      expected: 'Envoy sheds the excess: its overflow counters (upstream_rq_active_overflow) grow, the client sees those calls fail fast as UNAVAILABLE (and nothing else), and the calls within the limit still succeed.',
      measured: [
        `${report.sent} calls sent: ${report.ok} ok, ${unavailable} UNAVAILABLE, ${otherFailures} other failures`,
        `Envoy counted ${overflowed} circuit-breaker overflows (upstream_rq_active_overflow + upstream_rq_pending_overflow)`,
        overflowed === unavailable
          ? 'every UNAVAILABLE the client saw is one of those overflows: the shed calls never reached a replica'
          : `overflows and UNAVAILABLE differ by ${Math.abs(overflowed - unavailable)} (calls failed for another reason too)`,
        `ok calls still took the replicas' time: p50 ${report.latencyMs.ok?.p50.toFixed(0) ?? '-'} ms, p99 ${report.latencyMs.ok?.p99.toFixed(0) ?? '-'} ms`,
      ],
      pass,
      figures: {
        sent: report.sent,
        ok: report.ok,
        unavailable,
        otherFailures,
        overflowed,
        okP50Ms: report.latencyMs.ok?.p50 ?? -1,
        okP99Ms: report.latencyMs.ok?.p99 ?? -1,
      },
      charts: [
        {
          title: 'what happened to the calls',
          unit: 'calls',
          bars: [
            { label: 'ok', value: report.ok },
            { label: 'UNAVAILABLE (shed)', value: unavailable },
            { label: 'other failures', value: otherFailures },
          ],
        },
      ],
    };
  },
};
