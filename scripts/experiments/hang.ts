// A hung replica: frozen (SIGSTOP / docker pause), its connections stay open and nothing answers, so nothing fails
// fast either. What saves the callers is the route's 1 s per-try timeout: a call stuck on the frozen replica is
// abandoned after a second and retried on another one. Those timeouts count as gateway failures for outlier
// detection, and the health checks time out, so Envoy soon stops sending it anything. The same freeze is then
// repeated with the per-try timeout switched off, to show what it saved.
import type { LoadReport } from '../../client/src/index.js';
import type { Experiment } from './experiment.js';
import type { ReplicaHost, Trial } from './trial.js';

const RATE = 200; // calls/s: about 65 a second meet the frozen replica until Envoy takes it out
const DEADLINE_MS = 2000; // the worker client's: what a stuck call waits for without a per-try timeout
// Measured ~1.2 s out of rotation (three per-try timeouts in a row eject it), slowest call ~1.03 s.
const OUT_OF_ROTATION_BOUND_MS = 4500;

/** Freezes the replica under load until Envoy has it out of rotation, `holdS` longer, then resumes it. */
async function freeze(t: Trial, victim: ReplicaHost, holdS: number) {
  const perTry = await t.counting('upstream_rq_per_try_timeout');
  const load = t.startLoad({ rate: RATE, concurrency: 400, deadlineMs: DEADLINE_MS });
  const watch = t.watchEnvoy();
  await watch.until((s) => ((s.hosts.get(victim.host)?.stats.rq_total ?? 0) > 0 ? true : undefined), 5000);
  await t.driver.pause(victim.name);
  const out = await watch.outOfRotation(victim.host, OUT_OF_ROTATION_BOUND_MS + 10_000);
  await t.window(holdS);
  const during: LoadReport = await load.stop();
  await t.driver.resume(victim.name);
  await watch.healthy(victim.host, 30_000, watch.now());
  return { during, out, perTryTimeouts: await perTry.since() };
}

export const hangExperiment: Experiment = {
  name: 'hang',
  title: 'A hung replica: the per-try timeout turns stuck calls into slow ones',
  teaches:
    'A frozen replica keeps its connections open and answers nothing, so calls to it do not fail: they wait. ' +
    "Envoy's 1 s per-try timeout abandons such a call and retries it on another replica, so the caller sees one " +
    'slow call instead of a deadline error, and the timeouts (with the failing health checks) take the replica out of rotation.',
  async run(t) {
    const victim = await t.replica(2);
    const holdS = t.pick(1, 3);
    t.step(`${RATE} calls/s through Envoy (${DEADLINE_MS} ms deadline); ${victim.name} frozen until Envoy takes it out, ${holdS} s more, then resumed`);
    const withTimeout = await freeze(t, victim, holdS);
    t.step("the same freeze with the route's per-try timeout switched off (lab policy --per-try-timeout 0)");
    await t.driver.setPolicy({ policy: 'ROUND_ROBIN', perTryTimeoutMs: 0 });
    await t.waitHealthy(3);
    const without = await freeze(t, victim, holdS);

    const slowest = withTimeout.during.latencyMs.all?.max;
    t.exactly('failed calls with the 1 s per-try timeout', withTimeout.during.failed, 0, 'calls');
    // Calls did wait on the frozen replica (per-try timeouts), and the slowest still beat the caller's deadline.
    t.atLeast('per-try timeouts', withTimeout.perTryTimeouts, 1, '');
    t.atMost('slowest call with it', slowest, DEADLINE_MS - 1, 'ms');
    t.atMost('out of rotation after the freeze', withTimeout.out?.ms, OUT_OF_ROTATION_BOUND_MS, 'ms');
    t.figure('p99 during the freeze', withTimeout.during.latencyMs.all?.p99, 'ms');
    t.atLeast('DEADLINE_EXCEEDED without a per-try timeout', without.during.failedByCode.DEADLINE_EXCEEDED, 1, 'calls');
    t.atLeast('slowest call without it', without.during.latencyMs.all?.max, DEADLINE_MS * 0.95, 'ms');
    t.figure('out of rotation without it', without.out?.ms, 'ms');
    t.chart('Failed calls during the freeze', 'calls', [
      { label: 'per-try timeout 1 s', value: withTimeout.during.failed },
      { label: 'no per-try timeout', value: without.during.failed },
    ]);
    t.note(`out of rotation by: ${withTimeout.out?.by ?? 'never'} (with the per-try timeout), ${without.out?.by ?? 'never'} (without)`);
  },
};
