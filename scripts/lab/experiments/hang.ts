// A hung replica: frozen (SIGSTOP / docker pause), its connections stay open and nothing answers, so nothing
// fails fast either. What saves the callers is the route's 1 s per-try timeout: a call stuck on the frozen
// replica is abandoned after a second and retried on another one. Those timeouts also count as gateway failures
// for outlier detection, and the health checks time out, so Envoy soon stops sending it anything. The same freeze
// is then repeated with the per-try timeout switched off, to show what it saved.
import { setTimeout as delay } from 'node:timers/promises';
import type { LatencySummary } from '../../../client/src/load/latency-histogram.js';
import type { LoadOptions } from '../../../client/src/load/load-options.js';
import type { LoadReport } from '../../../client/src/load/load-report.js';
import { runLoad } from '../../../client/src/load/run-load.js';
import { startSteadyLoad, type SteadyLoad } from './steady-load.js';
import { clusterHosts, clusterStat, type UpstreamHost } from '../../envoy/envoy-admin.js';
import { CLUSTER_NAME } from '../../local/envoy-config.js';
import { pollUntil } from '../../local/poll-until.js';
import type { LabDriver } from '../lab-driver.js';
import { ENVOY_YAML_PER_TRY_TIMEOUT_MS } from '../envoy-policy.js';
import type { BarChart, Experiment, ExperimentOutcome } from './experiment.js';

const HUNG_REPLICA = 'grpc-server-2';
const RATE_PER_S = 50;
/** The worker client's default deadline: what a stuck call would wait for without the per-try timeout. */
const DEADLINE_MS = 2000;
const POLL_MS = 50;
/** envoy.yaml's route retry_policy.per_try_timeout (the second freeze runs with none). */
const PER_TRY_TIMEOUT_MS = ENVOY_YAML_PER_TRY_TIMEOUT_MS;

// The bounds judged. Measured here: out of rotation ~1.2 s after the freeze (three per-try timeouts in a row eject
// it; two health-check timeouts would take ~2 s), slowest call ~1.03 s (the per-try timeout, then a retry).
// 4.5 s and 2 s leave room for a busy machine; 0.9 s from below shows calls really waited for the timeout.
const OUT_OF_ROTATION_BOUND_MS = 4500;
const SLOWEST_CALL_MIN_MS = 900;
const SLOWEST_CALL_MAX_MS = DEADLINE_MS;
// After the resume, how long to wait for Envoy to route to it again (an outlier ejection lasts 5 s or more).
const BACK_WAIT_MS = 30_000;

/** The open-loop load of every phase; concurrency leaves room for a second of calls stuck on the frozen replica. */
function loadOptions(target: string, durationS: number): LoadOptions {
  return { target, rate: RATE_PER_S, concurrency: 100, durationS, deadlineMs: DEADLINE_MS, name: 'lab-hang' };
}

function steadyLoad(target: string): SteadyLoad {
  return startSteadyLoad({ ...loadOptions(target, 300), target, rate: RATE_PER_S });
}

const clusterCounter = (adminUrl: string, name: string): Promise<number> => clusterStat(adminUrl, CLUSTER_NAME, name);

async function hostAt(adminUrl: string, address: string): Promise<UpstreamHost | undefined> {
  return (await clusterHosts(adminUrl, CLUSTER_NAME)).find((h) => h.address === address);
}

/** p50, p99 and max in ms, one decimal; throws when no call settled (nothing to judge). */
function tail(phase: string, report: LoadReport): Pick<LatencySummary, 'p50' | 'p99' | 'max'> {
  const all = report.latencyMs.all;
  if (!all) throw new Error(`no call settled ${phase}`);
  const r = (ms: number): number => Math.round(ms * 10) / 10;
  return { p50: r(all.p50), p99: r(all.p99), max: r(all.max) };
}

interface FreezeResult {
  during: LoadReport;
  outOfRotationMs: number;
  flags: string[];
  backInRotationMs: number;
  perTryTimeouts: number;
  retries: number;
}

/** Freezes HUNG_REPLICA under steady load until Envoy takes it out, holds `holdS`, resumes it, waits for it back. */
async function freeze(
  driver: LabDriver,
  adminUrl: string,
  target: string,
  address: string,
  holdS: number,
  log: (line: string) => void,
): Promise<FreezeResult> {
  const timeoutsBefore = await clusterCounter(adminUrl, 'upstream_rq_per_try_timeout');
  const retriesBefore = await clusterCounter(adminUrl, 'upstream_rq_retry');
  const load = steadyLoad(target);
  let during: LoadReport;
  let outOfRotationMs: number;
  let flags: string[];
  let backInRotationMs: number;
  try {
    const routedBefore = (await hostAt(adminUrl, address))?.stats.rq_total ?? 0;
    await pollUntil(
      `calls to reach ${HUNG_REPLICA}`,
      async () => ((await hostAt(adminUrl, address))?.stats.rq_total ?? 0) > routedBefore,
      { timeoutMs: 5000, intervalMs: POLL_MS },
    );
    log(`freezing ${HUNG_REPLICA} under load`);
    const pausedAt = performance.now();
    await driver.pause(HUNG_REPLICA);
    try {
      const out = await pollUntil(
        `Envoy to take ${HUNG_REPLICA} out of rotation`,
        async () => {
          const host = await hostAt(adminUrl, address);
          return host && !host.healthy ? host : undefined;
        },
        { timeoutMs: OUT_OF_ROTATION_BOUND_MS + 10_000, intervalMs: POLL_MS },
      );
      outOfRotationMs = Math.round(performance.now() - pausedAt);
      flags = out.healthFlags;
      log(`out of rotation after ${outOfRotationMs} ms (${flags.join(', ')}); ${holdS} s more load`);
      // A measurement window of steady load without the frozen replica, not a wait for a condition.
      await delay(holdS * 1000);
      during = await load.stop();
    } finally {
      await load.stop().catch(() => undefined);
      await driver.resume(HUNG_REPLICA);
    }
    const resumedAt = performance.now();
    await pollUntil(`Envoy to route to ${HUNG_REPLICA} again`, async () => (await hostAt(adminUrl, address))?.healthy, {
      timeoutMs: BACK_WAIT_MS,
      intervalMs: POLL_MS,
    });
    backInRotationMs = Math.round(performance.now() - resumedAt);
  } finally {
    await load.stop().catch(() => undefined);
  }

  return {
    during,
    outOfRotationMs,
    flags,
    backInRotationMs,
    perTryTimeouts: (await clusterCounter(adminUrl, 'upstream_rq_per_try_timeout')) - timeoutsBefore,
    retries: (await clusterCounter(adminUrl, 'upstream_rq_retry')) - retriesBefore,
  };
}

export const hangExperiment: Experiment = {
  name: 'hang',
  title: 'A hung replica: the per-try timeout turns stuck calls into slow ones',
  teaches:
    'A frozen replica keeps its connections open and answers nothing, so calls to it do not fail: they wait. ' +
    "Envoy's 1 s per-try timeout abandons such a call and retries it on another replica, so the caller sees one " +
    'slow call instead of a deadline error, and the timeouts (with the failing health checks) take the replica out of rotation.',
  async run({ driver, quick, log }): Promise<ExperimentOutcome> {
    const beforeS = quick ? 1 : 3;
    const holdS = quick ? 1 : 3;
    const adminUrl = await driver.adminUrl();
    const target = await driver.envoyTarget();
    const replica = (await driver.replicas()).find((r) => r.name === HUNG_REPLICA);
    if (!replica) throw new Error(`${HUNG_REPLICA} is not running`);
    const address = (await clusterHosts(adminUrl, CLUSTER_NAME)).find((h) => h.address.startsWith(`${replica.address}:`))?.address;
    if (!address) throw new Error(`Envoy has no host for ${HUNG_REPLICA} at ${replica.address}`);

    log(`${beforeS} s of ${RATE_PER_S} calls/s through Envoy with every replica answering`);
    const before = await runLoad(loadOptions(target, beforeS));

    const withTimeout = await freeze(driver, adminUrl, target, address, holdS, log);
    log('the same freeze with the per-try timeout switched off');
    await driver.setPolicy({ policy: 'ROUND_ROBIN', perTryTimeoutMs: 0 });
    await pollUntil('every replica healthy in the restarted Envoy', async () => (await clusterHosts(adminUrl, CLUSTER_NAME)).every((h) => h.healthy), {
      timeoutMs: 15_000,
      intervalMs: POLL_MS,
    });
    const withoutTimeout = await freeze(driver, adminUrl, target, address, holdS, log);
    const { during, outOfRotationMs, flags, backInRotationMs, perTryTimeouts, retries } = withTimeout;
    const bare = withoutTimeout.during;
    const bareDeadlineErrors = bare.failedByCode.DEADLINE_EXCEEDED ?? 0;
    const bareTail = tail('during the freeze without a per-try timeout', bare);
    const calm = tail('before the freeze', before);
    const hung = tail('during the freeze', during);
    const failed = before.failed + during.failed;
    // Without the per-try timeout a stuck call waits for the caller's whole deadline and fails with it.
    const passWith =
      failed === 0 &&
      perTryTimeouts >= 1 &&
      hung.max >= SLOWEST_CALL_MIN_MS &&
      hung.max < SLOWEST_CALL_MAX_MS &&
      outOfRotationMs <= OUT_OF_ROTATION_BOUND_MS;
    const passWithout = bareDeadlineErrors >= 1 && bareTail.max >= DEADLINE_MS * 0.95 && withoutTimeout.perTryTimeouts === 0;
    const pass = passWith && passWithout;

    const figures: ExperimentOutcome['figures'] = {
      hungReplica: HUNG_REPLICA,
      ratePerS: RATE_PER_S,
      deadlineMs: DEADLINE_MS,
      perTryTimeoutMs: PER_TRY_TIMEOUT_MS,
      beforeS,
      'before.sent': before.sent,
      'before.failed': before.failed,
      'before.p50Ms': calm.p50,
      'before.p99Ms': calm.p99,
      'before.maxMs': calm.max,
      'during.sent': during.sent,
      'during.failed': during.failed,
      'during.p50Ms': hung.p50,
      'during.p99Ms': hung.p99,
      'during.maxMs': hung.max,
      failed,
      outOfRotationMs,
      outOfRotationFlags: flags.join(','),
      perTryTimeouts,
      retries,
      backInRotationMs,
      'without.sent': bare.sent,
      'without.failed': bare.failed,
      'without.deadlineExceeded': bareDeadlineErrors,
      'without.p99Ms': bareTail.p99,
      'without.maxMs': bareTail.max,
      'without.perTryTimeouts': withoutTimeout.perTryTimeouts,
      'without.outOfRotationMs': withoutTimeout.outOfRotationMs,
      'without.outOfRotationFlags': withoutTimeout.flags.join(','),
    };
    const charts: BarChart[] = [
      {
        title: 'Latency of every call, before and during the freeze',
        unit: 'ms',
        bars: [
          { label: 'before p50', value: calm.p50 },
          { label: 'before p99', value: calm.p99 },
          { label: 'before max', value: calm.max },
          { label: 'during p50', value: hung.p50 },
          { label: 'during p99', value: hung.p99 },
          { label: 'during max', value: hung.max },
          { label: 'no per-try timeout: p99', value: bareTail.p99 },
          { label: 'no per-try timeout: max', value: bareTail.max },
        ],
      },
      {
        title: 'Failed calls during the freeze',
        unit: 'calls',
        bars: [
          { label: `per-try timeout ${PER_TRY_TIMEOUT_MS / 1000} s`, value: during.failed },
          { label: 'no per-try timeout', value: bare.failed },
        ],
      },
      {
        title: `${HUNG_REPLICA} frozen and resumed`,
        unit: 'ms',
        bars: [
          { label: 'out of rotation after the freeze', value: outOfRotationMs },
          { label: 'back in rotation after the resume', value: backInRotationMs },
        ],
      },
    ];
    return {
      done:
        `Under ${RATE_PER_S} calls/s of open-loop load through Envoy (${DEADLINE_MS} ms deadline), ${HUNG_REPLICA} was frozen ` +
        `until Envoy took it out of rotation and ${holdS} s longer, then resumed; then the same again with Envoy's per-try timeout switched off.`,
      expected:
        `No call fails; the calls caught on the frozen replica are slow, not failed: the slowest takes about the ` +
        `${PER_TRY_TIMEOUT_MS / 1000} s per-try timeout plus a retry (${SLOWEST_CALL_MIN_MS}-${SLOWEST_CALL_MAX_MS} ms); ` +
        `Envoy counts per-try timeouts and takes the replica out of rotation within ${OUT_OF_ROTATION_BOUND_MS / 1000} s. ` +
        `Without a per-try timeout, the calls caught on it wait for the whole ${DEADLINE_MS} ms deadline and fail (DEADLINE_EXCEEDED).`,
      measured: [
        `Before the freeze: ${before.sent} calls, p50 ${calm.p50} ms, p99 ${calm.p99} ms, max ${calm.max} ms, ${before.failed} failed.`,
        `During the freeze: ${during.sent} calls, p50 ${hung.p50} ms, p99 ${hung.p99} ms, max ${hung.max} ms, ${during.failed} failed.`,
        `Envoy: ${perTryTimeouts} per-try timeouts and ${retries} retries; ${HUNG_REPLICA} out of rotation ` +
          `${outOfRotationMs} ms after the freeze (${flags.join(', ')}), back ${backInRotationMs} ms after the resume.`,
        `Without a per-try timeout (the same freeze, Envoy restarted with none): ${bare.sent} calls, ${bare.failed} failed ` +
          `(${bareDeadlineErrors} DEADLINE_EXCEEDED), p99 ${bareTail.p99} ms, max ${bareTail.max} ms; ` +
          `${withoutTimeout.perTryTimeouts} per-try timeouts; out of rotation after ${withoutTimeout.outOfRotationMs} ms (${withoutTimeout.flags.join(', ')}).`,
      ],
      pass,
      figures,
      charts,
    };
  },
};
