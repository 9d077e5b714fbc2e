// SIGKILL under load: the replica dies without a goodbye (no drain, no NOT_SERVING first). Calls on its connection
// are reset and calls Envoy still sends it are refused; Envoy retries both on another replica, and stops routing to
// it as soon as outlier detection (the failed tries), a health check or DNS (the container is gone) notices.
import type { Experiment } from './experiment.js';
import { shareLine } from './trial.js';

const RATE = 200; // calls/s, open loop: a dead replica cannot slow the load down
const OUT_OF_ROTATION_BOUND_MS = 3000; // measured ~120 ms (outlier detection on the refused tries)
const WATCH_LIMIT_MS = 10_000;

export const killExperiment: Experiment = {
  name: 'kill',
  title: 'SIGKILL one replica under load',
  teaches:
    'A replica that dies without draining takes its calls with it, yet the client sees no failure: Envoy retries ' +
    'the reset and refused calls on another replica, and stops routing to the dead one within moments ' +
    '(outlier detection on the failed calls, then DNS no longer listing it).',
  async run(t) {
    const replicas = await t.replicas();
    const victim = await t.replica(2);
    const [beforeS, afterS] = [t.pick(1.5, 5), t.pick(1.5, 8)];
    const retries = await t.counting('upstream_rq_retry');

    t.step(`${RATE} calls/s through Envoy for ${beforeS} s`);
    const before = await t.loadFor(beforeS, { rate: RATE });
    const load = t.startLoad({ rate: RATE });
    const watch = t.watchEnvoy();
    t.step(`SIGKILL ${victim.name} under the same load, watching Envoy's /clusters`);
    await t.driver.kill(victim.name);
    const out = await watch.outOfRotation(victim.host, WATCH_LIMIT_MS);
    await load.stop();
    t.step(`${afterS} s more load once Envoy had it out of rotation`);
    const after = await t.loadFor(afterS, { rate: RATE });
    const gone = await watch.gone(victim.host, WATCH_LIMIT_MS);

    await t.noFailedCalls('failed calls', { kills: 1 });
    t.atMost('out of rotation after the kill', out?.ms, OUT_OF_ROTATION_BOUND_MS, 'ms');
    t.figure('gone from /clusters after the kill', gone, 'ms');
    t.figure('retries', await retries.since(), '');
    const countsBefore = t.answeredChart(`Calls answered per replica in the ${beforeS} s before the kill`, before, replicas);
    const countsAfter = t.answeredChart(`Calls answered per replica in the ${afterS} s after it went out`, after, replicas);
    t.exactly('calls the killed replica answered after', countsAfter.get(victim.name), 0, 'calls');
    t.note(`out of rotation by: ${out?.by ?? 'never'}`);
    t.note(`before the kill: ${shareLine(countsBefore)}; after: ${shareLine(countsAfter)}`);
  },
};
