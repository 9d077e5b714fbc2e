// Scaling out under load: the new replicas join the service's DNS name, Envoy's STRICT_DNS refresh (1 s) finds
// them, one passing health check (healthy_threshold 1) puts them into rotation, and ROUND_ROBIN hands them their
// share at once. Nothing is configured per replica, and no call fails on the way.
import { setTimeout as delay } from 'node:timers/promises';
import type { LoadReport } from '../../../client/src/load/load-report.js';
import { startSteadyLoad, type SteadyLoad } from './steady-load.js';
import { clusterHosts, type UpstreamHost } from '../../envoy/envoy-admin.js';
import { CLUSTER_NAME } from '../../local/envoy-config.js';
import { pollUntil } from '../../local/poll-until.js';
import type { LabReplica } from '../lab-driver.js';
import type { BarChart, Experiment, ExperimentOutcome } from './experiment.js';

const FROM_REPLICAS = 2;
/** Open-loop rate: a new replica in rotation gets a call within tens of ms, so the poll period sets the precision. */
const RATE_PER_S = 50;
const POLL_MS = 100;

// The bounds judged. Measured here: the new replicas answer ~2.0 s after the scale starts (process start, the
// 1 s DNS refresh, one health check). 10 s leaves room for Docker starting containers and for a busy machine.
const ANSWER_BOUND_MS = 10_000;
// ROUND_ROBIN gives every replica the same turn; half the fair share still tells "in rotation" from "one stray call".
const MIN_SHARE_OF_FAIR = 0.5;

function steadyLoad(target: string): SteadyLoad {
  return startSteadyLoad({ target, rate: RATE_PER_S, name: 'lab-scale-out' });
}

/** Envoy's successful calls per host address. */
async function successByHost(adminUrl: string): Promise<Map<string, number>> {
  const hosts = await clusterHosts(adminUrl, CLUSTER_NAME);
  return new Map(hosts.map((h) => [h.address, h.stats.rq_success ?? 0]));
}

/** The replica whose address a host (ip:port) has, by name; the address itself if none matches. */
function nameOf(replicas: LabReplica[], hostAddress: string): string {
  return replicas.find((r) => hostAddress.startsWith(`${r.address}:`))?.name ?? hostAddress;
}

/**
 * Polls Envoy until `added` hosts it did not know before have answered a call, or the bound (plus a margin) has
 * passed; returns when each answered first, in ms after `startedAt`. `failure` ends the wait early with its error.
 */
async function watchNewHosts(
  adminUrl: string,
  known: Set<string>,
  added: number,
  startedAt: number,
  failure: () => unknown,
): Promise<Map<string, number>> {
  const firstAnswer = new Map<string, number>();
  const deadline = startedAt + ANSWER_BOUND_MS + 5000;
  for (;;) {
    const error = failure();
    if (error !== undefined) throw error;
    const hosts: UpstreamHost[] = await clusterHosts(adminUrl, CLUSTER_NAME).catch(() => []);
    const now = performance.now();
    for (const host of hosts) {
      if (!known.has(host.address) && !firstAnswer.has(host.address) && (host.stats.rq_success ?? 0) > 0) {
        firstAnswer.set(host.address, Math.round(now - startedAt));
      }
    }
    if (firstAnswer.size >= added || now >= deadline) return firstAnswer;
    await delay(POLL_MS);
  }
}

/** Resolves once Envoy sees exactly `count` hosts, all healthy (the docker driver's scale does not wait for it). */
async function waitForHealthyHosts(adminUrl: string, count: number): Promise<void> {
  await pollUntil(
    `Envoy to see ${count} healthy replicas`,
    async () => {
      const hosts = await clusterHosts(adminUrl, CLUSTER_NAME);
      return hosts.length === count && hosts.every((h) => h.healthy);
    },
    { timeoutMs: 20_000, intervalMs: POLL_MS },
  );
}

const pct = (share: number): number => Math.round(share * 1000) / 10;

export const scaleOutExperiment: Experiment = {
  name: 'scale-out',
  title: 'Scale out under load: new replicas join without a failed call',
  teaches:
    'Envoy discovers replicas through DNS (STRICT_DNS, refreshed every second) and routes to a new one after a ' +
    'single passing health check. Scaling out needs no config change, the new replicas carry traffic within ' +
    'seconds, and callers never see an error.',
  async run({ driver, quick, log }): Promise<ExperimentOutcome> {
    const to = quick ? 4 : 6;
    const windowS = quick ? 1.5 : 5;
    const adminUrl = await driver.adminUrl();
    await driver.scale(FROM_REPLICAS);
    await waitForHealthyHosts(adminUrl, FROM_REPLICAS);
    log(`${FROM_REPLICAS} replicas; ${RATE_PER_S} calls/s of open-loop load through Envoy`);

    const load = steadyLoad(await driver.envoyTarget());
    let report: LoadReport;
    let firstAnswer: Map<string, number>;
    let scaleCallMs: number;
    let windowCalls: Map<string, number>;
    try {
      const known = new Set((await clusterHosts(adminUrl, CLUSTER_NAME)).map((h) => h.address));
      const warm = await successByHost(adminUrl);
      await pollUntil(
        'the load to reach every replica',
        async () => [...(await successByHost(adminUrl))].every(([address, ok]) => ok > (warm.get(address) ?? 0)),
        { timeoutMs: 5000, intervalMs: POLL_MS },
      );

      log(`scaling ${FROM_REPLICAS} → ${to}`);
      const startedAt = performance.now();
      let scaleError: unknown;
      // The local driver's scale returns once Envoy sees every replica healthy: watch Envoy meanwhile.
      const scaling = driver.scale(to).then(
        () => Math.round(performance.now() - startedAt),
        (error: unknown) => {
          scaleError = error ?? new Error('scale failed');
          return Number.NaN;
        },
      );
      firstAnswer = await watchNewHosts(adminUrl, known, to - FROM_REPLICAS, startedAt, () => scaleError);
      scaleCallMs = await scaling;
      if (scaleError !== undefined) throw scaleError;
      log(`${firstAnswer.size} of ${to - FROM_REPLICAS} new replicas answered; measuring the share for ${windowS} s`);

      // A measurement window of steady load, not a wait for a condition.
      const before = await successByHost(adminUrl);
      await delay(windowS * 1000);
      const after = await successByHost(adminUrl);
      windowCalls = new Map([...after].map(([address, ok]) => [address, ok - (before.get(address) ?? 0)]));
      report = await load.stop();
    } finally {
      await load.stop().catch(() => undefined);
    }

    const replicas = await driver.replicas();
    const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name, 'en', { numeric: true });
    const answers = [...firstAnswer].map(([address, ms]) => ({ name: nameOf(replicas, address), ms })).sort(byName);
    const windowTotal = [...windowCalls.values()].reduce((a, b) => a + b, 0);
    const shares = [...windowCalls]
      .map(([address, calls]) => ({ name: nameOf(replicas, address), share: windowTotal > 0 ? calls / windowTotal : 0 }))
      .sort(byName);
    const fair = 1 / to;
    const minShareOfFair = Math.round((Math.min(...shares.map((s) => s.share)) / fair) * 100) / 100;
    const allAnsweredMs = firstAnswer.size === to - FROM_REPLICAS ? Math.max(...firstAnswer.values()) : Number.NaN;
    const pass =
      allAnsweredMs <= ANSWER_BOUND_MS && shares.length === to && minShareOfFair >= MIN_SHARE_OF_FAIR && report.failed === 0;

    const figures: ExperimentOutcome['figures'] = {
      fromReplicas: FROM_REPLICAS,
      toReplicas: to,
      ratePerS: RATE_PER_S,
      scaleCallMs,
      newReplicasAnswered: firstAnswer.size,
      allNewAnsweredMs: allAnsweredMs,
      windowS,
      windowCalls: windowTotal,
      minShareOfFair,
      sent: report.sent,
      failed: report.failed,
    };
    for (const { name, ms } of answers) figures[`firstAnsweredMs.${name}`] = ms;
    for (const { name, share } of shares) figures[`sharePct.${name}`] = pct(share);

    const charts: BarChart[] = [
      {
        title: 'First answered call after the scale call, per new replica',
        unit: 'ms',
        bars: answers.map(({ name, ms }) => ({ label: name, value: ms })),
      },
      {
        title: `Share of calls per replica, last ${windowS} s`,
        unit: '%',
        bars: shares.map(({ name, share }) => ({ label: name, value: pct(share) })),
      },
    ];
    const answered = answers.map(({ name, ms }) => `${name} ${ms} ms`).join(', ');
    return {
      done:
        `Under ${RATE_PER_S} calls/s of open-loop load through Envoy, the system was scaled from ${FROM_REPLICAS} to ` +
        `${to} replicas; Envoy's per-host counters showed when each new replica answered its first call and how the calls were shared afterwards.`,
      expected:
        `Every new replica answers calls within ${ANSWER_BOUND_MS / 1000} s of the scale call; in the last ${windowS} s ` +
        `every one of the ${to} replicas gets at least ${MIN_SHARE_OF_FAIR * 100}% of its fair share (${pct(fair)}%); no call fails.`,
      measured: [
        `The scale call returned after ${scaleCallMs} ms.`,
        Number.isNaN(allAnsweredMs)
          ? `Only ${firstAnswer.size} of ${to - FROM_REPLICAS} new replicas answered within ${(ANSWER_BOUND_MS + 5000) / 1000} s (${answers.map(({ name }) => name).join(', ') || 'none'}).`
          : `Every new replica answered within ${allAnsweredMs} ms of the scale call: ${answered}.`,
        `Last ${windowS} s (${windowTotal} calls): ${shares.map(({ name, share }) => `${name} ${pct(share)}%`).join(', ')}; ` +
          `the smallest share is ${minShareOfFair}x the fair one.`,
        `${report.sent} calls sent, ${report.failed} failed.`,
      ],
      pass,
      figures,
      charts,
    };
  },
};
