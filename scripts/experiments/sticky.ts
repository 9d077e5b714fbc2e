// Sticky keys: RING_HASH and MAGLEV send every call with the same header value to the same replica. When a replica
// leaves, its keys must move, but consistent hashing keeps most other keys where they were, so per-key caches or
// sessions on the survivors stay warm.
import type { KeyReport } from '../../client/src/index.js';
import { DEFAULT_HASH_HEADER } from '../envoy/index.js';
import type { Experiment } from './experiment.js';

// Keys on survivors that must stay put: a ring of 1024+ points keeps ~(n-1)/n of them; Maglev's table nearly all.
const MIN_SURVIVOR_STAY = { RING_HASH: 0.7, MAGLEV: 0.95 } as const;

/** The one replica that answered a key, or undefined if none or several did. */
function onlyHost(hosts: Record<string, number> | undefined): string | undefined {
  const names = Object.keys(hosts ?? {});
  return names.length === 1 ? names[0] : undefined;
}

/** Keys answered by exactly one replica. */
const single = (keys: KeyReport): number => Object.values(keys.hostsByKey).filter((h) => onlyHost(h) !== undefined).length;

export const stickyExperiment: Experiment = {
  name: 'sticky',
  title: 'Sticky keys: consistent hashing when a replica leaves',
  teaches: 'RING_HASH and MAGLEV send every call with the same header value to the same replica. When a replica leaves, ' +
    "its keys must move, but consistent hashing keeps most other keys where they were, so per-key caches or " +
    'sessions on the survivors stay warm.',
  async run(t) {
    const plan = t.pick({ keys: 100, callsPerKey: 3 }, { keys: 300, callsPerKey: 5 });
    const send = async () => (await t.sendCalls(plan.keys * plan.callsPerKey, { concurrency: 8, keyHeader: DEFAULT_HASH_HEADER, keys: plan.keys })).keys as KeyReport;
    for (const policy of t.pick(['RING_HASH'] as const, ['RING_HASH', 'MAGLEV'] as const)) {
      await t.driver.scale(3);
      await t.driver.setPolicy({ policy, hashHeader: DEFAULT_HASH_HEADER });
      await t.waitHealthy(3);
      const leaving = await t.replica(3);
      t.step(`${policy} on ${DEFAULT_HASH_HEADER}: ${plan.keys} keys x ${plan.callsPerKey} calls; then ${leaving.name} stops gracefully; the same keys again`);
      const before = await send();
      await t.driver.stop(leaving.name);
      await t.waitHealthy(2, [leaving.host]);
      const after = await send();
      let [onLeaving, moved, onSurvivors, stayed] = [0, 0, 0, 0];
      for (const [key, hosts] of Object.entries(before.hostsByKey)) {
        const [was, now] = [onlyHost(hosts), onlyHost(after.hostsByKey[key])];
        if (was === leaving.name) [onLeaving, moved] = [onLeaving + 1, moved + (now !== undefined && now !== was ? 1 : 0)];
        else if (was !== undefined) [onSurvivors, stayed] = [onSurvivors + 1, stayed + (now === was ? 1 : 0)];
      }
      t.exactly(`${policy}: keys on exactly one replica, before and after`, single(before) + single(after), 2 * plan.keys, 'keys');
      t.exactly(`${policy}: keys of the leaving replica that moved`, moved, onLeaving, 'keys');
      t.atLeast(`${policy}: survivors' keys that stayed put`, stayed / Math.max(1, onSurvivors), MIN_SURVIVOR_STAY[policy], 'x');
      t.chart(`${policy}: what happened to each key`, 'keys', [
        { label: `moved off ${leaving.name}`, value: moved },
        { label: 'survivor key stayed', value: stayed },
        { label: 'survivor key moved', value: onSurvivors - stayed },
      ]);
    }
    await t.noFailedCalls();
  },
};
