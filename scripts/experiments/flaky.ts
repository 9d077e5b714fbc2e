// A flaky replica: it still answers SERVING to every health check, yet fails half its calls with UNAVAILABLE.
// Active health checks cannot see that; outlier detection, which watches real calls, ejects it, and until then
// Envoy retries each failed call on another replica, so the client never sees a failure.
import { stats, CLUSTER_NAME } from '../envoy/index.js';
import type { Experiment } from './experiment.js';
import { shareLine } from './trial.js';

const RATE = 100; // calls/s: about a third reach the flaky replica while it is in rotation
const FAIL_RATE = 0.5;
// A streak of 3 gateway failures (consecutive_gateway_failure) comes after ~14 calls at 50 % on average, ~0.4 s at
// ~33 calls/s to it; the tail is long, and the failure-percentage check every 1 s shortens it. 3 s is the margin.
const EJECTION_BOUND_MS = 3000;
// /clusters shows the main thread's view; the worker threads that route calls follow a moment later.
const QUIET_MS = 300;
const WATCH_LIMIT_MS = 10_000;
const ENFORCED = `cluster.${CLUSTER_NAME}.outlier_detection.ejections_enforced_`;

export const flakyExperiment: Experiment = {
  name: 'flaky',
  title: 'A replica failing half its calls: retries and outlier ejection',
  teaches:
    'Health checks ask a replica how it is; outlier detection watches how its calls actually go. A replica that ' +
    'says SERVING but fails half its calls is ejected by outlier detection within moments, and until then Envoy ' +
    'retries every failed call on another replica, so the client sees no failure at all.',
  async run(t) {
    const replicas = await t.replicas();
    const victim = await t.replica(1);
    // After the ejection, well under base_ejection_time (5 s): later the replica is let back in, fails, and goes again.
    const [beforeS, afterS] = [t.pick(1.5, 5), t.pick(1.5, 3.5)];
    const detectors = async () => stats(t.adminUrl, `^${ENFORCED.replaceAll('.', '\\.')}`);

    t.step(`${RATE} calls/s through Envoy for ${beforeS} s with no fault`);
    const before = await t.loadFor(beforeS, { rate: RATE });
    const retries = await t.counting('upstream_rq_retry');
    const ejectionsBefore = await detectors();
    const load = t.startLoad({ rate: RATE });
    t.step(`${victim.name} fails ${FAIL_RATE * 100} % of its calls with UNAVAILABLE (its health checks still pass)`);
    await t.driver.setFaults(victim.name, { failRate: FAIL_RATE, failCode: 'UNAVAILABLE' });
    const watch = t.watchEnvoy(); // from the moment the fault is in place (the docker driver's exec takes a while)
    const ejected = await watch.ejected(victim.host, WATCH_LIMIT_MS);
    const lastRouted = ejected === undefined ? undefined : await watch.lastRouted(victim.host, QUIET_MS, 5000, ejected);
    const retriesUntilEjection = await retries.since();
    await load.stop();
    t.step(`${afterS} s more load once Envoy had stopped routing to it`);
    const after = await t.loadFor(afterS, { rate: RATE });

    await t.noFailedCalls();
    t.atMost('ejected after the fault', ejected, EJECTION_BOUND_MS, 'ms');
    t.figure('last call routed to it after the ejection', lastRouted === undefined || ejected === undefined ? undefined : lastRouted - ejected, 'ms');
    t.atLeast('retries until it stopped getting calls', retriesUntilEjection, 3, '');
    const countsBefore = t.answeredChart(`Calls answered per replica in the ${beforeS} s before the fault`, before, replicas);
    const countsAfter = t.answeredChart(`Calls answered per replica in the ${afterS} s after it stopped getting calls`, after, replicas);
    t.exactly('calls the flaky replica answered after', countsAfter.get(victim.name), 0, 'calls');
    const ejectionsAfter = await detectors();
    const by = [...ejectionsAfter].filter(([name, n]) => !name.endsWith('total') && n > (ejectionsBefore.get(name) ?? 0));
    t.note(`ejected by: ${by.map(([name]) => name.slice(ENFORCED.length).replaceAll('_', ' ')).join(', ') || 'no enforced ejection counted'}`);
    t.note(`before the fault: ${shareLine(countsBefore)}; after: ${shareLine(countsAfter)}`);
  },
};
