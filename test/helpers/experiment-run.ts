// Runs every experiment's quick variant on one system and checks what each must show on any machine: it passed
// every bound it states, and it handed the baseline back (3 replicas running, all healthy in Envoy). Shared by the
// local run (test/integration) and the Compose run (test/compose), so both drivers are held to the same bounds.
import { expect, test } from 'vitest';
import { clusterHosts, CLUSTER_NAME } from '../../scripts/envoy/index.js';
import type { LabDriver } from '../../scripts/drivers/index.js';
import { EXPERIMENTS, formatExperimentText, runExperiment } from '../../scripts/experiments/index.js';

export function testEveryExperiment(driver: () => LabDriver): void {
  for (const experiment of EXPERIMENTS) {
    test(`experiment ${experiment.name} passes (quick) and restores the baseline`, async () => {
      const report = await runExperiment(experiment, driver(), { quick: true });
      const text = formatExperimentText(report);
      console.log(text);
      expect(report.pass, text).toBe(true);
      expect(report.figures.filter((f) => f.bound).length).toBeGreaterThan(0);
      const hosts = await clusterHosts(await driver().adminUrl(), CLUSTER_NAME);
      expect(hosts.map((h) => h.healthFlags), text).toEqual([['healthy'], ['healthy'], ['healthy']]);
      expect((await driver().replicas()).filter((r) => r.state === 'running')).toHaveLength(3);
    }, 180_000);
  }
}
