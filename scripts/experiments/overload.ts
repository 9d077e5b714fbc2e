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
    const overflows = async () =>
      [...(await stats(t.adminUrl, `^cluster\\.${CLUSTER_NAME}\\.upstream_rq_(active|pending)_overflow$`)).values()].reduce((a, b) => a + b, 0);
    const seconds = t.pick(2, 8);
    t.step(`every replica answers in ${LATENCY_MS} ms`);
    for (const replica of await t.replicas()) await t.driver.setFaults(replica.name, { latencyMs: LATENCY_MS });
    const before = await overflows();
    t.step(`${RATE} calls/s for ${seconds} s over 8 connections: ~${(RATE * LATENCY_MS) / 1000} calls in flight asked for, ${MAX_REQUESTS} allowed`);
    // Eight channels, eight connections: Envoy lets one connection carry at most 100 calls at once
    // (max_concurrent_streams), so it takes several clients to reach the cluster's limit.
    const report = await t.loadFor(seconds, { rate: RATE, concurrency: 2000, workers: 8, deadlineMs: 3000 });
    const shed = (await overflows()) - before;
    const unavailable = report.failedByCode.UNAVAILABLE ?? 0;

    t.atLeast('circuit-breaker overflows', shed, 1, '');
    t.exactly('failures other than UNAVAILABLE', report.failed - unavailable, 0, 'calls');
    // Every UNAVAILABLE is an overflow: the shed calls never reached a replica. Envoy also counts other clients' calls
    // it shed meanwhile (under Compose the worker client calls once a second), hence a relative bound.
    t.atMost('UNAVAILABLE calls and overflows differ by, relative', Math.abs(unavailable - shed) / Math.max(1, shed), 0.01, 'x');
    t.atLeast('calls that succeeded', report.ok, 1, 'calls');
    t.figure('p99 of the calls that succeeded', report.latencyMs.ok?.p99, 'ms');
    t.chart('What happened to the calls', 'calls', [
      { label: 'ok', value: report.ok },
      { label: 'UNAVAILABLE (shed)', value: unavailable },
      { label: 'other failures', value: report.failed - unavailable },
    ]);
  },
};
