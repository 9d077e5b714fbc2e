// Runs one experiment from a known state and hands the system back in it: the baseline (3 running replicas, no
// faults, envoy.yaml's ROUND_ROBIN, every replica healthy in Envoy). So each experiment measures only its own
// change, and the next one starts clean, whatever the last one broke.
import { clusterHosts, CLUSTER_NAME } from '../envoy/index.js';
import type { LabDriver } from '../drivers/index.js';
import { pollUntil } from '../stack/index.js';
import type { Experiment } from './experiment.js';
import type { ExperimentReport } from './report.js';
import { Trial } from './trial.js';

/** Every experiment starts from, and returns the system to, this many healthy replicas. */
export const BASELINE_REPLICAS = 3;

/** Puts the system back to the baseline: faults cleared, 3 replicas, envoy.yaml's policy, all healthy in Envoy. */
export async function restoreBaseline(driver: LabDriver): Promise<void> {
  const clearFaults = async (): Promise<void> => {
    for (const replica of await driver.replicas()) {
      // An exited replica has no faults to clear: scaling starts it again, fresh.
      if (replica.state === 'exited') continue;
      if (replica.state === 'paused') await driver.resume(replica.name);
      await driver.setFaults(replica.name, { health: 'SERVING', failRate: 0, latencyMs: 0 });
    }
  };
  // Faults first: a scale waits for its new replicas to be healthy, and a policy switch for the old ones.
  await clearFaults();
  await driver.scale(BASELINE_REPLICAS);
  const policy = await driver.policy();
  const asEnvoyYaml = policy.policy === 'ROUND_ROBIN' && policy.panicThresholdPercent === undefined && policy.perTryTimeoutMs === undefined;
  if (!asEnvoyYaml) await driver.setPolicy({ policy: 'ROUND_ROBIN' });
  await clearFaults();
  const adminUrl = await driver.adminUrl();
  await pollUntil(
    `Envoy to see ${BASELINE_REPLICAS} healthy replicas`,
    async () => {
      const hosts = await clusterHosts(adminUrl, CLUSTER_NAME);
      return hosts.length === BASELINE_REPLICAS && hosts.every((h) => h.healthy);
    },
    // An ejected replica stays out for base_ejection_time (5 s, longer after repeats).
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

/** Runs one experiment from the baseline and restores the baseline afterwards, whatever happened. */
export async function runExperiment(
  experiment: Experiment,
  driver: LabDriver,
  options: { quick: boolean; log?: (line: string) => void },
): Promise<ExperimentReport> {
  const log = options.log ?? (() => {});
  await restoreBaseline(driver);
  const startedAt = new Date();
  const trial = await Trial.open(driver, options.quick, log);
  try {
    await experiment.run(trial);
  } catch (error) {
    await trial.close();
    // Restore anyway, but report the experiment's own failure, not a later one caused by it.
    await restoreBaseline(driver).catch((restoreError: unknown) => log(`could not restore the baseline: ${String(restoreError)}`));
    throw error;
  }
  await trial.close();
  const report: ExperimentReport = {
    name: experiment.name,
    title: experiment.title,
    teaches: experiment.teaches,
    driver: driver.kind,
    startedAt: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    ...trial.outcome(),
  };
  log(`restoring the baseline (${BASELINE_REPLICAS} replicas, no faults, ROUND_ROBIN)`);
  await restoreBaseline(driver);
  return report;
}
