// A slow replica under two policies. ROUND_ROBIN gives it its full turn, so its latency drags every caller down;
// LEAST_REQUEST compares the calls in flight at two random replicas and steers away from the one where they pile
// up. The slow replica's share, the mean latency and the throughput change a lot; p99 still shows its slow calls.
import type { LbPolicy } from '../envoy/index.js';
import type { Experiment } from './experiment.js';
import { answeredBy } from './trial.js';

const ADDED_LATENCY_MS = 200;
const CONCURRENCY = 8; // closed-loop lanes: enough calls in flight that LEAST_REQUEST sees the slow replica's queue
const MAX_SHARE_RATIO = 0.5; // its LEAST_REQUEST share, of its ROUND_ROBIN share (measured ~0.3)
const MIN_THROUGHPUT_RATIO = 1.5; // LEAST_REQUEST throughput, of ROUND_ROBIN's (measured ~2.2)

export const slowExperiment: Experiment = {
  name: 'slow',
  title: 'A slow replica: ROUND_ROBIN vs LEAST_REQUEST',
  teaches:
    'ROUND_ROBIN gives a slow replica its full turn, so its latency drags every caller down. LEAST_REQUEST ' +
    'counts calls in flight and steers away from the replica where they pile up: its share, the mean latency and ' +
    'the throughput change a lot, but p99 still shows the slow calls that remain.',
  async run(t) {
    const replicas = await t.replicas();
    const slow = await t.replica(2);
    const seconds = t.pick(2, 10);
    t.step(`${slow.name} answers ${ADDED_LATENCY_MS} ms late`);
    await t.driver.setFaults(slow.name, { latencyMs: ADDED_LATENCY_MS });
    const runs = [];
    for (const policy of ['ROUND_ROBIN', 'LEAST_REQUEST'] as const satisfies readonly LbPolicy[]) {
      if ((await t.driver.policy()).policy !== policy) await t.driver.setPolicy({ policy });
      await t.waitHealthy(replicas.length);
      t.step(`${policy}: ${seconds} s of closed-loop load, ${CONCURRENCY} calls in flight`);
      const report = await t.loadFor(seconds, { rate: undefined, concurrency: CONCURRENCY });
      const share = (answeredBy(report, replicas).get(slow.name) ?? 0) / Math.max(1, report.ok);
      runs.push({ policy, report, share });
      t.figure(`${policy}: slow replica's share`, share * 100, '%');
      t.figure(`${policy}: calls/s`, report.throughput.okPerS, 'calls/s');
      t.figure(`${policy}: p50`, report.latencyMs.ok?.p50, 'ms');
      t.figure(`${policy}: p99`, report.latencyMs.ok?.p99, 'ms');
      t.answeredChart(`${policy}: calls answered per replica`, report, replicas);
    }
    const [rr, lr] = runs as [(typeof runs)[0], (typeof runs)[0]];
    await t.noFailedCalls();
    t.atMost("slow replica's share, LEAST_REQUEST of ROUND_ROBIN", lr.share / rr.share, MAX_SHARE_RATIO, 'x');
    t.atLeast('throughput, LEAST_REQUEST of ROUND_ROBIN', lr.report.throughput.okPerS / rr.report.throughput.okPerS, MIN_THROUGHPUT_RATIO, 'x');
  },
};
