// Past the circuit breakers. Envoy caps the calls in flight to a cluster (max_requests 512); beyond it Envoy fails
// the excess at once (UNAVAILABLE, counted as upstream_rq_active_overflow) instead of piling it onto replicas that
// are already slow, and the calls within the limit still succeed.
import { stats, CLUSTER_NAME } from '../envoy/index.js';
import type { Experiment } from './experiment.js';

const MAX_REQUESTS = 512; // envoy.yaml circuit_breakers max_requests
const LATENCY_MS = 600; // under the 1 s per-try timeout: what Envoy lets through is not retried for slowness
const RATE = 1200; // x 0.6 s = ~720 calls in flight asked for

export const overloadExperiment: Experiment = {
  name: 'overload',
  title: 'Past the circuit breakers: Envoy sheds the excess at once',
  teaches:
    'Circuit breakers cap what Envoy sends to a cluster. Beyond max_requests (512 calls in flight) Envoy fails ' +
    'the excess immediately (UNAVAILABLE, counted as upstream_rq_active_overflow) instead of piling it onto ' +
    'replicas that are already slow; the calls within the limit still succeed.',
  async run(t) {
    const sum = async (names: string) =>
      [...(await stats(t.adminUrl, `^cluster\\.${CLUSTER_NAME}\\.upstream_rq_(${names})$`)).values()].reduce((a, b) => a + b, 0);
    const overflows = () => sum('active_overflow|pending_overflow');
    // A try that outlives the 1 s per-try timeout ends as a 504, which gRPC reads as UNAVAILABLE too: on a machine
    // too busy to answer in 600 ms + 400 ms. Envoy counts those, so every UNAVAILABLE is still accounted for.
    const timeouts = () => sum('per_try_timeout|timeout');
    const seconds = t.pick(2, 8);
    t.step(`every replica answers in ${LATENCY_MS} ms`);
    for (const replica of await t.replicas()) await t.driver.setFaults(replica.name, { latencyMs: LATENCY_MS });
    const before = await overflows();
    const timeoutsBefore = await timeouts();
    t.step(`${RATE} calls/s for ${seconds} s over 8 connections: ~${(RATE * LATENCY_MS) / 1000} calls in flight asked for, ${MAX_REQUESTS} allowed`);
    // Eight channels, eight connections: Envoy lets one connection carry at most 100 calls at once
    // (max_concurrent_streams), so it takes several clients to reach the cluster's limit.
    // The deadline leaves room for Envoy's own worst case (three 1 s tries and their back-off), so a slow try ends
    // as Envoy's answer, not as the client giving up.
    const report = await t.loadFor(seconds, { rate: RATE, concurrency: 2000, workers: 8, deadlineMs: 6000 });
    const shed = (await overflows()) - before;
    const timedOut = (await timeouts()) - timeoutsBefore;
    const unavailable = report.failedByCode.UNAVAILABLE ?? 0;

    t.atLeast('circuit-breaker overflows', shed, 1, '');
    t.exactly('failures other than UNAVAILABLE', report.failed - unavailable, 0, 'calls');
    // Every UNAVAILABLE is an overflow (the shed calls never reached a replica) or a try Envoy timed out. Envoy also
    // counts other clients' calls it shed meanwhile (under Compose the worker client calls once a second), hence a
    // relative bound.
    t.figure('tries Envoy timed out (1 s per try)', timedOut, '');
    t.atMost(
      'UNAVAILABLE calls neither shed nor timed out, relative to the shed',
      Math.max(0, unavailable - shed - timedOut) / Math.max(1, shed),
      0.01,
      'x',
    );
    t.atMost('overflows that no call of this load saw, relative', Math.max(0, shed - unavailable) / Math.max(1, shed), 0.01, 'x');
    t.atLeast('calls that succeeded', report.ok, 1, 'calls');
    t.figure('p99 of the calls that succeeded', report.latencyMs.ok?.p99, 'ms');
    t.chart('What happened to the calls', 'calls', [
      { label: 'ok', value: report.ok },
      { label: 'UNAVAILABLE (shed)', value: unavailable },
      { label: 'other failures', value: report.failed - unavailable },
    ]);
  },
};
