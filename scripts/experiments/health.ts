// A replica that says it is not well: NOT_SERVING on grpc.health.v1. Envoy's next health check (every second) takes
// it out of rotation at once (a NOT_SERVING answer needs no second failure), it gets no call while it says so, and
// one passing check brings it back (healthy_threshold 1). The replica itself never fails a call.
import type { Experiment } from './experiment.js';

const RATE = 50;
const BOUND_MS = 2500; // measured ~1.0 s out (the check interval plus jitter), ~0.5 s back

export const healthExperiment: Experiment = {
  name: 'health',
  title: 'NOT_SERVING and back: active health checks',
  teaches:
    "Envoy asks every replica grpc.health.v1 Check each second. A replica answering NOT_SERVING leaves rotation at " +
    'the next check and gets no call until a check passes again, which puts it back at once: a replica can take ' +
    'itself out of traffic (for maintenance, or a dependency it lost) without failing anything.',
  async run(t) {
    const replicas = await t.replicas();
    const victim = await t.replica(3);
    const holdS = t.pick(1, 3);
    const load = t.startLoad({ rate: RATE });
    const watch = t.watchEnvoy();
    t.step(`${RATE} calls/s through Envoy; ${victim.name} set NOT_SERVING through its control API`);
    await t.driver.setFaults(victim.name, { health: 'NOT_SERVING' });
    const out = await watch.outOfRotation(victim.host, 10_000);
    t.step(`${holdS} s of load while it is out`);
    const whileOut = await t.loadFor(holdS, { rate: RATE });
    const servingAt = watch.now();
    t.step(`${victim.name} set SERVING again`);
    await t.driver.setFaults(victim.name, { health: 'SERVING' });
    const back = await watch.healthy(victim.host, 10_000, servingAt);
    await load.stop();

    await t.noFailedCalls();
    t.atMost('out of rotation after NOT_SERVING', out?.ms, BOUND_MS, 'ms');
    const counts = t.answeredChart(`Calls answered per replica in the ${holdS} s it was NOT_SERVING`, whileOut, replicas);
    t.exactly('calls it answered while NOT_SERVING', counts.get(victim.name), 0, 'calls');
    t.atMost('back in rotation after SERVING', back === undefined ? undefined : back - servingAt, BOUND_MS, 'ms');
    t.note(`out of rotation by: ${out?.by ?? 'never'}`);
  },
};
