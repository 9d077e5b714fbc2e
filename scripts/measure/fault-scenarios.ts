// The fault scenarios, each measured against a running local stack under steady load. The integration tests run
// them once and assert their stated bounds; `npm run bench` runs them many times and reports the spread. One
// implementation, so the numbers in the README are the ones the tests hold the system to.
import { clusterStat } from '../envoy/envoy-admin.js';
import { CLUSTER_NAME } from '../local/envoy-config.js';
import type { LocalStack } from '../local/local-stack.js';
import { pollUntil } from '../local/poll-until.js';
import type { CallLoop } from './call-loop.js';

/** A running stack and the steady load flowing through it. */
export interface ScenarioContext {
  stack: LocalStack;
  loop: CallLoop;
}

async function hostOf(stack: LocalStack, address: string) {
  return (await stack.hosts()).find((h) => h.address === address);
}

function clusterCounter(stack: LocalStack, name: string): Promise<number> {
  return clusterStat(stack.adminUrl, CLUSTER_NAME, name);
}

/** Lets the load run for `ms` more (measured on the loop's clock). */
async function keepLoad(loop: CallLoop, ms: number): Promise<void> {
  const until = loop.now() + ms;
  await pollUntil(`${ms} ms more of load`, () => loop.now() >= until, { timeoutMs: ms + 2000, intervalMs: 20 });
}

/** Scale-up: time from starting the new replicas until every one of them has answered a call. */
export async function scaleOut(
  { stack, loop }: ScenarioContext,
  to: number,
  timeoutMs = 15_000,
): Promise<{ discoveryMs: number; newReplicas: string[] }> {
  const before = new Set(stack.replicas().map((r) => r.name));
  const startedAt = loop.now();
  await stack.scale(to);
  const newReplicas = stack.replicas().map((r) => r.name).filter((name) => !before.has(name));
  const firstAnswers = await pollUntil(
    `${newReplicas.join(', ')} to answer calls`,
    () => {
      const times = newReplicas.map((name) => loop.firstAnsweredBy(name, startedAt));
      return times.every((t) => t !== undefined) ? (times as number[]) : undefined;
    },
    { timeoutMs, intervalMs: 20 },
  );
  return { discoveryMs: Math.max(...firstAnswers) - startedAt, newReplicas };
}

/** Scale-down (graceful, highest numbers first): time until Envoy's /clusters has only the survivors. */
export async function scaleIn(
  { stack, loop }: ScenarioContext,
  to: number,
): Promise<{ removalMs: number; answeringAfter: string[] }> {
  const startedAt = loop.now();
  await stack.scale(to);
  await pollUntil(`Envoy to see ${to} hosts`, async () => (await stack.hosts()).length === to, { timeoutMs: 10_000, intervalMs: 50 });
  const removedAt = loop.now();
  await keepLoad(loop, 1000);
  return { removalMs: removedAt - startedAt, answeringAfter: [...loop.countsByHost(removedAt).keys()].sort() };
}

/** SIGKILL: time until the dead host is gone from /clusters, and who answers afterwards. */
export async function killReplica(
  { stack, loop }: ScenarioContext,
  name: string,
): Promise<{ removalMs: number; answeringAfter: string[]; retries: number }> {
  const address = stack.upstreamAddress(name);
  await pollUntil(`calls to reach ${name}`, () => loop.firstAnsweredBy(name) !== undefined, { timeoutMs: 5000 });
  const retriesBefore = await clusterCounter(stack, 'upstream_rq_retry');
  const killedAt = loop.now();
  await stack.signalReplica(name, 'SIGKILL');
  await pollUntil(`${name} to leave /clusters`, async () => !(await hostOf(stack, address)), { timeoutMs: 10_000, intervalMs: 50 });
  const removedAt = loop.now();
  await keepLoad(loop, 1000);
  return {
    removalMs: removedAt - killedAt,
    answeringAfter: [...loop.countsByHost(removedAt).keys()].sort(),
    retries: (await clusterCounter(stack, 'upstream_rq_retry')) - retriesBefore,
  };
}

/** NOT_SERVING and back: time until Envoy marks it unhealthy, calls it got meanwhile, time until it serves again. */
export async function flipHealth(
  { stack, loop }: ScenarioContext,
  name: string,
): Promise<{ unhealthyMs: number; callsWhileUnhealthy: number; callsToOthersWhileUnhealthy: number; healthyAgainMs: number }> {
  const address = stack.upstreamAddress(name);
  const flippedAt = loop.now();
  await stack.control(name).update({ health: 'NOT_SERVING' });
  await pollUntil(`Envoy to mark ${name} failed_active_hc`, async () => (await hostOf(stack, address))?.failedActiveHealthCheck, {
    timeoutMs: 10_000,
    intervalMs: 20,
  });
  const unhealthyMs = loop.now() - flippedAt;
  // Calls that were already on their way when the flag flipped may still land; count from a little later.
  const outFrom = loop.now() + 100;
  await keepLoad(loop, 1600);
  const whileOut = loop.countsByHost(outFrom);
  const callsWhileUnhealthy = whileOut.get(name) ?? 0;
  const callsToOthersWhileUnhealthy = [...whileOut.values()].reduce((a, b) => a + b, 0) - callsWhileUnhealthy;
  const restoredAt = loop.now();
  await stack.control(name).update({ health: 'SERVING' });
  const back = await pollUntil(`${name} to answer calls again`, () => loop.firstAnsweredBy(name, restoredAt), {
    timeoutMs: 10_000,
    intervalMs: 20,
  });
  return { unhealthyMs, callsWhileUnhealthy, callsToOthersWhileUnhealthy, healthyAgainMs: back - restoredAt };
}

/** A replica failing `failRate` of its calls with UNAVAILABLE: time to ejection, and what Envoy did about it. */
export async function ejectFlakyReplica(
  { stack, loop }: ScenarioContext,
  name: string,
  failRate: number,
): Promise<{
  ejectionMs: number;
  activeHealthCheckFailed: boolean;
  ejectionsEnforced: number;
  retries: number;
  requestsWhileEjected: number;
}> {
  const address = stack.upstreamAddress(name);
  const retriesBefore = await clusterCounter(stack, 'upstream_rq_retry');
  const brokenAt = loop.now();
  await stack.control(name).update({ failRate, failCode: 'UNAVAILABLE' });
  try {
    await pollUntil(`Envoy to eject ${name}`, async () => (await hostOf(stack, address))?.ejectedByOutlierDetection, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    const ejectionMs = loop.now() - brokenAt;
    const ejected = await hostOf(stack, address);
    const activeHealthCheckFailed = ejected?.failedActiveHealthCheck ?? false;
    await keepLoad(loop, 1000);
    const later = await hostOf(stack, address);
    return {
      ejectionMs,
      activeHealthCheckFailed,
      // Envoy's own count of calls sent to the host in the second after the ejection.
      requestsWhileEjected: (later?.stats.rq_total ?? 0) - (ejected?.stats.rq_total ?? 0),
      ejectionsEnforced: await clusterCounter(stack, 'outlier_detection.ejections_enforced_total'),
      retries: (await clusterCounter(stack, 'upstream_rq_retry')) - retriesBefore,
    };
  } finally {
    await stack.control(name).reset();
  }
}

/** SIGTERM under load: exit code and time to exit, and how long after SIGTERM it still answered calls. */
export async function drainReplica(
  { stack, loop }: ScenarioContext,
  name: string,
  graceMs: number,
): Promise<{ exitCode: number | NodeJS.Signals; exitMs: number; lastAnsweredAfterMs: number }> {
  const address = stack.upstreamAddress(name);
  await pollUntil(`calls to reach ${name}`, () => loop.firstAnsweredBy(name) !== undefined, { timeoutMs: 5000 });
  const termAt = loop.now();
  const exitCode = await stack.signalReplica(name, 'SIGTERM', graceMs);
  const exitMs = loop.now() - termAt;
  await pollUntil(`${name} to leave /clusters`, async () => !(await hostOf(stack, address)), { timeoutMs: 5000, intervalMs: 50 });
  const last = [...loop.calls].reverse().find((c) => c.result.ok && c.result.hostname === name);
  return { exitCode, exitMs, lastAnsweredAfterMs: (last?.startedAtMs ?? termAt) - termAt };
}

/**
 * SIGSTOP (a hung replica: connections open, no answers): calls to it wait for the 1 s per-try timeout and are
 * retried on another replica; its health checks time out and outlier detection counts the timeouts, so it is
 * taken out of rotation. Resumed with SIGCONT afterwards.
 */
export async function hangReplica(
  { stack, loop }: ScenarioContext,
  name: string,
): Promise<{ outOfRotationMs: number; flags: string[]; slowestCallMs: number; perTryTimeouts: number }> {
  const address = stack.upstreamAddress(name);
  await pollUntil(`calls to reach ${name}`, () => loop.firstAnsweredBy(name) !== undefined, { timeoutMs: 5000 });
  const timeoutsBefore = await clusterCounter(stack, 'upstream_rq_per_try_timeout');
  const pausedAt = loop.now();
  await stack.signalReplica(name, 'SIGSTOP');
  try {
    const host = await pollUntil(`Envoy to take ${name} out of rotation`, async () => {
      const found = await hostOf(stack, address);
      return found && !found.healthy ? found : undefined;
    }, { timeoutMs: 10_000, intervalMs: 20 });
    const outAt = loop.now();
    await keepLoad(loop, 1500);
    const slowestCallMs = Math.max(...loop.calls.filter((c) => c.startedAtMs >= pausedAt).map((c) => c.result.latencyMs));
    return {
      outOfRotationMs: outAt - pausedAt,
      flags: host.healthFlags,
      slowestCallMs,
      perTryTimeouts: (await clusterCounter(stack, 'upstream_rq_per_try_timeout')) - timeoutsBefore,
    };
  } finally {
    await stack.signalReplica(name, 'SIGCONT');
  }
}
