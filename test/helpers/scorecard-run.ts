// Runs the quick scorecard on one system and checks the lessons that must hold on any machine, under either driver:
// L4 pins one connection to one replica; Envoy at L7 and client-side round robin spread it; with health checks and
// retries Envoy loses no call on a SIGKILL; a client that resolved once never finds a new replica; the replicas'
// max connection age makes an L4 client reconnect. And the system is handed back at its baseline.
import { expect, test } from 'vitest';
import { clusterHosts, CLUSTER_NAME } from '../../scripts/envoy/index.js';
import type { LabDriver } from '../../scripts/drivers/index.js';
import { formatScorecardText, runScorecard, type ScorecardReport } from '../../scripts/scorecard/index.js';

export function testScorecard(driver: () => LabDriver, timeoutMs: number): void {
  test('the quick scorecard runs end to end, its lessons hold, and the baseline is restored', async () => {
    const report: ScorecardReport = await runScorecard(driver(), { quick: true });
    const text = formatScorecardText(report);
    console.log(text);
    const score = (name: string) => {
      const found = report.contenders.find((c) => c.name === name);
      if (!found) throw new Error(`no score for ${name}\n${text}`);
      return found;
    };
    expect(report.contenders.map((c) => c.name), text).toEqual(['envoy-l7', 'envoy-l4', 'nginx', 'haproxy', 'grpc-js-rr', 'envoy-l4-age-1s']);
    expect(report.lessons.map((l) => [l.lesson, l.pass]), text).toEqual(report.lessons.map((l) => [l.lesson, true]));
    expect(report.lessons).toHaveLength(4);
    // The same lessons, read from the figures themselves.
    expect(score('envoy-l4').spread.busiestShare, text).toBeGreaterThanOrEqual(0.99);
    expect(score('envoy-l7').spread.jain, text).toBeGreaterThanOrEqual(0.95);
    expect(score('grpc-js-rr').spread.jain, text).toBeGreaterThanOrEqual(0.95);
    expect(score('envoy-l7').faults.find((f) => f.fault === 'kill')?.failed, text).toBe(0);
    // Resolved once (client-side: no re-resolution without a failed connection), pinned (L4): the 4th replica idles.
    expect(score('grpc-js-rr').scale.firstCallMs, text).toBeUndefined();
    expect(score('envoy-l4').scale.firstCallMs, text).toBeUndefined();
    expect(score('envoy-l7').scale.firstCallMs, text).toBeDefined();
    // The age moves the client: it reconnected during the spread run; plain L4 never did.
    expect(score('envoy-l4-age-1s').spread.reconnects, text).toBeGreaterThanOrEqual(1);
    expect(score('envoy-l4').spread.reconnects, text).toBe(0);

    const hosts = await clusterHosts(await driver().adminUrl(), CLUSTER_NAME);
    expect(hosts.map((h) => h.healthFlags), text).toEqual([['healthy'], ['healthy'], ['healthy']]);
    expect((await driver().replicas()).filter((r) => r.state === 'running')).toHaveLength(3);
  }, timeoutMs);
}
