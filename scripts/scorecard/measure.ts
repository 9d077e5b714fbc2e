// The measurements, one function per line of the score, each on a fresh balancer (its health state and connections
// its own) and from the baseline: three healthy replicas. Every call is the caller's (caller.ts), on one channel, so
// "one long-lived connection" is literal for every proxy.
import { setTimeout as delay } from 'node:timers/promises';
import type { LoadOptions, LoadReport } from '../../client/src/index.js';
import { stats } from '../envoy/index.js';
import type { LabDriver } from '../drivers/index.js';
import { pollUntil } from '../stack/index.js';
import type { Caller, CallEvent } from './caller.js';
import type { Contender } from './contenders.js';
import type { FaultKind, FaultScore, ScaleScore, SpeedScore, SpreadScore } from './score.js';
import { countsFor, fairAfter, firstCallAfter, jainIndex, maxOverMin, outOfRotationAfter, worstWindowJain } from './spread-math.js';
import type { BalancerSite, RunningBalancer } from './site.js';

/** Everything a measurement works with. */
export interface Arena {
  driver: LabDriver;
  site: BalancerSite;
  caller: Caller;
  quick: boolean;
  log: (line: string) => void;
}

/** The rates and windows of the score: the quick variant (tests, CI) or the full one (the docs page). */
export function plan(quick: boolean) {
  return {
    spread: { rate: 100, seconds: quick ? 1.5 : 10 },
    latency: { rate: 200, seconds: quick ? 1.5 : 10 },
    throughput: { concurrency: 16, seconds: quick ? 1.5 : 10 },
    faults: { rate: 200, warmS: quick ? 0.5 : 2, windowS: quick ? 2 : 6, kinds: (quick ? ['kill', 'not-serving'] : ['kill', 'drain', 'not-serving', 'pause']) as FaultKind[] },
    scale: { rate: 100, limitS: quick ? 4 : 12 },
  };
}

/** Every call's deadline: what a caller would wait at most. */
const DEADLINE_MS = 2000;
/** A window in which a replica answered nothing counts it out of rotation (10 of its calls at a fair share). */
const QUIET_MS = 300;

/** A contender ready to take calls: its target, its balancer if it has one. */
interface Entrant {
  target: string;
  balancing: Contender['balancing'];
  balancer?: RunningBalancer;
}

/** Starts the contender's balancer (if any) and waits until calls through it succeed. */
async function enter(arena: Arena, contender: Contender): Promise<Entrant> {
  const balancer = contender.balancer ? await arena.site.start(contender.balancer) : undefined;
  const target = balancer?.target ?? (await arena.site.clientSideTarget()).target;
  const entrant = { target, balancing: contender.balancing, ...(balancer ? { balancer } : {}) };
  const replicas = await runningNames(arena.driver);
  // A proxy that balances calls must reach every replica before it is measured (its first health checks passed);
  // one that pins a connection reaches one, by design.
  const pins = contender.balancer === 'envoy-l4';
  try {
    await pollUntil(
      `${contender.name} to answer`,
      async () => {
        const report = await arena.caller.run({ ...shape(entrant), count: 9, concurrency: 1 }).report;
        return report.failed === 0 && (pins || replicas.every((name) => report.hosts.some((h) => h.hostname === name)));
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  } catch (error) {
    await balancer?.stop();
    throw error;
  }
  return entrant;
}

function shape(entrant: Entrant): LoadOptions {
  return { target: entrant.target, balancing: entrant.balancing, deadlineMs: DEADLINE_MS, name: 'scorecard' };
}

async function runningNames(driver: LabDriver): Promise<string[]> {
  return (await driver.replicas()).filter((r) => r.state === 'running').map((r) => r.name);
}

/** Spread on one connection, then added latency at a fixed rate, then throughput and CPU at a fixed concurrency. */
export async function measureSpeed(arena: Arena, contender: Contender): Promise<{ spread: SpreadScore; speed: SpeedScore }> {
  const { spread: s, latency: l, throughput: t } = plan(arena.quick);
  const entrant = await enter(arena, contender);
  try {
    const replicas = await runningNames(arena.driver);
    arena.log(`${contender.name}: ${s.rate} calls/s for ${s.seconds} s on one channel (spread)`);
    const connectionsBefore = await connections(entrant, contender);
    const run = arena.caller.run({ ...shape(entrant), rate: s.rate, durationS: s.seconds, concurrency: 100 }, { events: true });
    const report = await run.report;
    const connectionsAfter = await connections(entrant, contender);
    const counts = countsFor(run.calls, replicas);
    const spread: SpreadScore = {
      calls: report.sent,
      failed: report.failed,
      counts: Object.fromEntries(replicas.map((name, i) => [name, counts[i] ?? 0])),
      jain: jainIndex(counts),
      maxOverMin: maxOverMin(counts),
      worstSecondJain: worstWindowJain(run.calls, replicas, 1000),
      busiestShare: report.ok > 0 ? Math.max(...counts) / report.ok : undefined,
      reconnects: connectionsBefore === undefined || connectionsAfter === undefined ? undefined : connectionsAfter - connectionsBefore - 1,
    };
    arena.log(`${contender.name}: ${l.rate} calls/s for ${l.seconds} s (latency), then ${t.concurrency} calls in flight for ${t.seconds} s (throughput, CPU)`);
    return { spread, speed: await speedOf(arena, entrant, contender.name) };
  } finally {
    await entrant.balancer?.stop();
  }
}

/** The direct path: no balancer, the caller straight to the replicas with round_robin; what latency is added to. */
export async function measureDirect(arena: Arena): Promise<SpeedScore> {
  const direct: Entrant = { target: await arena.site.directTarget(), balancing: 'round_robin' };
  arena.log('direct path (no balancer): a warm-up, then latency and throughput, the reference');
  // The caller's first calls pay for its JIT and its first connections; the reference must not.
  await arena.caller.run({ ...shape(direct), rate: 200, durationS: 2, concurrency: 100 }).report;
  return speedOf(arena, direct, 'direct');
}

async function speedOf(arena: Arena, entrant: Entrant, name: string): Promise<SpeedScore> {
  const { latency: l, throughput: t } = plan(arena.quick);
  const latency = await arena.caller.run({ ...shape(entrant), rate: l.rate, durationS: l.seconds, concurrency: 100 }).report;
  const cpuBefore = await entrant.balancer?.cpuSeconds();
  const throughput = await arena.caller.run({ ...shape(entrant), concurrency: t.concurrency, durationS: t.seconds }).report;
  const cpuAfter = await entrant.balancer?.cpuSeconds();
  const cpuUsPerCall = cpuBefore === undefined || cpuAfter === undefined || throughput.ok === 0 ? undefined : ((cpuAfter - cpuBefore) * 1e6) / throughput.ok;
  failIfBroken(name, [latency, throughput]);
  return {
    p50Ms: latency.latencyMs.ok?.p50,
    p99Ms: latency.latencyMs.ok?.p99,
    failed: latency.failed + throughput.failed,
    throughputPerS: throughput.throughput.okPerS,
    cpuUsPerCall,
  };
}

/** A speed run in which most calls failed measures the failure, not the speed: say so in one line. */
function failIfBroken(name: string, reports: LoadReport[]): void {
  for (const report of reports) {
    if (report.sent > 0 && report.failed > report.sent / 10) {
      throw new Error(`${name}: ${report.failed} of ${report.sent} calls failed in a speed run (${JSON.stringify(report.failedByCode)})`);
    }
  }
}

/** Client connections the L4 Envoy counted so far (its admin), or undefined for the others. */
async function connections(entrant: Entrant, contender: Contender): Promise<number | undefined> {
  if (!contender.connectionCounter || !entrant.balancer?.adminUrl) return undefined;
  const name = contender.connectionCounter;
  return (await stats(entrant.balancer.adminUrl, `^${name.replaceAll('.', '\\.')}$`)).get(name) ?? 0;
}

/** The replica the run's calls went to most (the one a pinned connection uses); the first on a tie. */
function busiest(calls: readonly CallEvent[], replicas: string[]): string {
  const counts = countsFor(calls, replicas);
  const most = Math.max(...counts);
  return replicas[counts.indexOf(most)] ?? replicas[0] ?? '';
}

/**
 * One fault at a steady rate on one channel: the busiest replica of the warm-up (for a pinned connection, the one
 * it is pinned to) is killed, drained, set NOT_SERVING or paused; every call of the run counts.
 */
export async function measureFault(arena: Arena, contender: Contender, fault: FaultKind): Promise<FaultScore> {
  const { rate, warmS, windowS } = plan(arena.quick).faults;
  const entrant = await enter(arena, contender);
  try {
    const replicas = await runningNames(arena.driver);
    const run = arena.caller.run({ ...shape(entrant), rate, untilStopped: true, concurrency: rate * 2 }, { events: true });
    await delay(warmS * 1000);
    const victim = busiest(run.calls, replicas);
    arena.log(`${contender.name}: ${fault} ${victim} at ${rate} calls/s`);
    const faultAt = Date.now();
    const action = applyFault(arena.driver, fault, victim);
    // At least the window; and past the fault's own end (a drain takes its delay), by a second.
    await Promise.all([delay(windowS * 1000), action.then(() => delay(1000))]);
    const endAt = Date.now();
    const report = await run.stop();
    return {
      fault,
      victim,
      sent: report.sent,
      failed: report.failed,
      failedByCode: report.failedByCode,
      seconds: Math.round((endAt - faultAt) / 100) / 10,
      // A killed or paused replica answers nothing after the fault: only a drain or NOT_SERVING says when it left.
      outOfRotationMs: fault === 'drain' || fault === 'not-serving' ? outOfRotationAfter(run.calls, victim, faultAt, endAt, QUIET_MS) : undefined,
    };
  } finally {
    await entrant.balancer?.stop();
  }
}

function applyFault(driver: LabDriver, fault: FaultKind, victim: string): Promise<unknown> {
  switch (fault) {
    case 'kill':
      return driver.kill(victim);
    case 'drain':
      return driver.stop(victim);
    case 'not-serving':
      return driver.setFaults(victim, { health: 'NOT_SERVING' });
    case 'pause':
      return driver.pause(victim);
  }
}

/**
 * Scale from three replicas to four under a steady rate on one channel: when did the new replica answer its first
 * call, and when was the spread over all four fair again, both from the moment it was listening.
 */
export async function measureScale(arena: Arena, contender: Contender): Promise<ScaleScore> {
  const { rate, limitS } = plan(arena.quick).scale;
  const entrant = await enter(arena, contender);
  try {
    const before = await runningNames(arena.driver);
    const run = arena.caller.run({ ...shape(entrant), rate, untilStopped: true, concurrency: rate }, { events: true });
    // A second of calls first: the channel has resolved and connected before the new replica exists (a client that
    // resolves while it is being added would find it by luck, not by design).
    await pollUntil('the first second of calls', () => run.calls.length >= rate, { timeoutMs: 10_000, intervalMs: 50 });
    arena.log(`${contender.name}: scaling to ${before.length + 1} replicas under ${rate} calls/s`);
    await arena.driver.scale(before.length + 1);
    const all = await runningNames(arena.driver);
    const added = all.find((name) => !before.includes(name)) ?? '';
    const readyAt = (await arena.driver.readyAt(added)) ?? Date.now();
    const fairness = { windowMs: 1000, stepMs: 100, threshold: 0.95, minCalls: rate / 2 };
    const settled = (): boolean => firstCallAfter(run.calls, added, readyAt) !== undefined && fairAfter(run.calls, all, readyAt, fairness) !== undefined;
    await pollUntil('the new replica to get its fair share', settled, { timeoutMs: Math.max(0, readyAt + limitS * 1000 - Date.now()), intervalMs: 250 }).catch(
      () => undefined, // Never within the limit: that is the finding, reported as such.
    );
    await run.stop();
    return {
      added,
      limitMs: limitS * 1000,
      firstCallMs: firstCallAfter(run.calls, added, readyAt),
      fairMs: fairAfter(run.calls, all, readyAt, fairness),
    };
  } finally {
    await entrant.balancer?.stop();
  }
}
