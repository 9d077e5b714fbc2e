// A graceful stop under load. On SIGTERM the replica answers NOT_SERVING to health checks for DRAIN_DELAY_MS while
// it still serves calls; Envoy's next health check (1 s interval, a NOT_SERVING answer counts at once) takes it out
// of rotation, the calls in flight finish, and only then does it stop listening and exit. The order is the point:
// Envoy stops routing before the replica stops answering, so no caller sees an error.
import type { Experiment } from './experiment.js';

const RATE = 50;
// The replicas' drain settings under both drivers (Compose sets them; local replicas run the server defaults).
const DRAIN_DELAY_MS = 3000;
const SHUTDOWN_TIMEOUT_MS = 5000;
const QUIET_MS = 300;
const WATCH_LIMIT_MS = 15_000;

export const drainExperiment: Experiment = {
  name: 'drain',
  title: 'Graceful stop under load: drain first, then exit',
  teaches:
    'A replica that gets SIGTERM keeps serving but answers NOT_SERVING to health checks for a drain delay, so Envoy ' +
    'takes it out of rotation before it stops listening; the calls in flight finish and it exits. Done in that ' +
    'order, a replica can leave in the middle of traffic without a single failed call.',
  async run(t) {
    const victim = await t.replica(2);
    t.step(`${RATE} calls/s through Envoy for ${t.pick(1, 2)} s`);
    await t.loadFor(t.pick(1, 2), { rate: RATE });
    const load = t.startLoad({ rate: RATE });
    const watch = t.watchEnvoy();
    t.step(`SIGTERM to ${victim.name} under the same load; it drains, then exits`);
    await t.driver.stop(victim.name);
    const exited = watch.now();
    const out = await watch.outOfRotation(victim.host, WATCH_LIMIT_MS);
    const lastRouted = await watch.lastRouted(victim.host, QUIET_MS, WATCH_LIMIT_MS);
    const gone = await watch.gone(victim.host, WATCH_LIMIT_MS);
    t.step(`${t.pick(0.5, 3)} s more load on the others`);
    await t.window(t.pick(0.5, 3));
    await load.stop();

    await t.noFailedCalls();
    t.atMost('last call routed to it after SIGTERM', lastRouted, DRAIN_DELAY_MS, 'ms');
    t.atMost('exited after SIGTERM', exited, DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS, 'ms');
    t.figure('out of rotation after SIGTERM', out?.ms, 'ms');
    t.figure('gone from /clusters after SIGTERM', gone, 'ms');
    t.chart(`After SIGTERM to ${victim.name}`, 'ms', [
      { label: 'out of rotation', value: out?.ms ?? 0 },
      { label: 'last call routed to it', value: lastRouted ?? 0 },
      { label: 'exited', value: exited },
      { label: 'gone from /clusters', value: gone ?? 0 },
    ]);
  },
};
