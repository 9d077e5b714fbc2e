// Scaling out and back in under load. New replicas join the service's DNS name; Envoy's STRICT_DNS refresh (1 s)
// finds them and one passing health check (healthy_threshold 1) puts them into rotation, so ROUND_ROBIN hands them
// their share at once. Scaling in stops the surplus gracefully (drain, then exit) and DNS drops them. Nothing is
// configured per replica, and no call fails either way.
import type { Experiment } from './experiment.js';

const FROM = 2;
const RATE = 50;
// Measured ~1 s locally and ~2 s under Compose from the scale call (process start, the 1 s DNS refresh, one check).
const ANSWER_BOUND_MS = 10_000;
const READY_TO_TRAFFIC_BOUND_MS = 2000; // from a replica's "listening" line to Envoy's first call to it
const MIN_SHARE_OF_FAIR = 0.5; // round robin gives every replica the same turn; half of it tells "in rotation"

export const scaleExperiment: Experiment = {
  name: 'scale',
  title: 'Scale out and back in under load: replicas join and leave without a failed call',
  teaches:
    'Envoy discovers replicas through DNS (STRICT_DNS, refreshed every second) and routes to a new one after a ' +
    'single passing health check. Scaling needs no config change: new replicas carry traffic within seconds, ' +
    'leaving ones drain first, and callers never see an error.',
  async run(t) {
    const to = t.pick(4, 6);
    await t.driver.scale(FROM);
    await t.waitHealthy(FROM);
    const load = t.startLoad({ rate: RATE });
    const known = new Set((await t.replicas()).map((r) => r.name));
    const watch = t.watchEnvoy();
    t.step(`${FROM} replicas, ${RATE} calls/s through Envoy; scaling to ${to}`);
    await t.driver.scale(to);
    const added = (await t.replicas()).filter((r) => !known.has(r.name));
    const answered = await Promise.all(added.map((r) => watch.firstAnswered(r.host, ANSWER_BOUND_MS + 5000)));
    const readyToTraffic = await Promise.all(
      added.map(async (r, i) => {
        const ready = await t.driver.readyAt(r.name);
        const first = answered[i];
        return ready === undefined || first === undefined ? undefined : watch.epochMs(first) - ready;
      }),
    );
    await load.stop();
    const windowS = t.pick(1.5, 5);
    const all = await t.replicas();
    // On its own: two loads at one rate through one Envoy worker would take turns in its round robin.
    t.step(`${windowS} s of load on all ${to}`);
    const spread = await t.loadFor(windowS, { rate: RATE });
    const leaving = all.slice(FROM);
    const scaleIn = t.startLoad({ rate: RATE });
    const scaleInAt = watch.now();
    t.step(`scaling back to ${FROM} under the same load: the ${to - FROM} newest drain and exit`);
    await t.driver.scale(FROM);
    const gone = await Promise.all(leaving.map((r) => watch.gone(r.host, 20_000, scaleInAt)));
    await scaleIn.stop();

    await t.noFailedCalls();
    t.atMost('last new replica answered after the scale call', max(answered), ANSWER_BOUND_MS, 'ms');
    t.atMost("slowest new replica from its 'listening' line to its first call", max(readyToTraffic), READY_TO_TRAFFIC_BOUND_MS, 'ms');
    const counts = t.answeredChart(`Calls answered per replica in ${windowS} s at ${to} replicas`, spread, all);
    const fair = spread.ok / to;
    t.atLeast('smallest share, of the fair one', Math.min(...counts.values()) / fair, MIN_SHARE_OF_FAIR, 'x');
    t.figure('last leaving replica gone from /clusters after the scale-in call', max(gone.map((g) => (g === undefined ? undefined : g - scaleInAt))), 'ms');
  },
};

/** The largest value, or undefined when any is (a replica that never did it). */
function max(values: (number | undefined)[]): number | undefined {
  return values.some((v) => v === undefined) ? undefined : Math.max(...(values as number[]));
}
