// Runs the scorecard: every contender on the same replicas, the same faults and the same load, from the baseline
// (3 healthy replicas, no faults) and back to it after every fault, every scale and at the end, whatever happened.
import { cpus, release, totalmem } from 'node:os';
import { DockerDriver, LocalDriver, LabError, type LabDriver } from '../drivers/index.js';
import { restoreBaseline } from '../experiments/index.js';
import { messageOf } from '../cli/command-line.js';
import type { Feature } from './balancer-configs.js';
import { Caller } from './caller.js';
import { contenders as allContenders, type Contender } from './contenders.js';
import { DockerBalancerSite } from './docker-site.js';
import { LocalBalancerSite } from './local-site.js';
import { measureDirect, measureFault, measureScale, measureSpeed, plan, type Arena } from './measure.js';
import { judgeLessons, type ContenderScore, type ScorecardReport, type SpeedScore } from './score.js';
import type { BalancerSite } from './site.js';

export interface ScorecardOptions {
  /** Short windows and two faults (tests, CI), or the full variant (the docs page). */
  quick: boolean;
  /** Progress, one line per step. */
  log?: (line: string) => void;
  /** Only these contenders (by name); default every one. */
  only?: readonly string[];
}

/** Runs every contender's score on the driver's system and hands the system back at its baseline. */
export async function runScorecard(driver: LabDriver, options: ScorecardOptions): Promise<ScorecardReport> {
  const log = options.log ?? (() => {});
  const chosen = choose(allContenders(options.quick), options.only);
  const startedAt = new Date();
  const site = await openSite(driver);
  let caller: Caller | undefined;
  let failure: unknown;
  try {
    caller = await Caller.start();
    await restoreBaseline(driver);
    const arena: Arena = { driver, site, caller, quick: options.quick, log };
    const direct = await measureDirect(arena);
    const scores: ContenderScore[] = [];
    for (const contender of chosen) scores.push(await scoreContender(arena, contender, direct));
    const lessons = judgeLessons(scores);
    return {
      driver: driver.kind,
      system: await driver.describe(),
      quick: options.quick,
      startedAt: startedAt.toISOString(),
      durationS: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
      machine: describeMachine(),
      clientSide: (await site.clientSideTarget()).how,
      direct,
      contenders: scores,
      lessons,
      pass: lessons.every((l) => l.pass),
    };
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await caller?.close();
    await site.close();
    log('restoring the baseline (3 replicas, no faults, ROUND_ROBIN)');
    await settle(restoreBaseline(driver), failure, log);
  }
}

/** Awaits a clean-up; when an error is already on its way, a failing clean-up is logged instead of hiding it. */
async function settle(cleanUp: Promise<void>, failure: unknown, log: (line: string) => void): Promise<void> {
  try {
    await cleanUp;
  } catch (error) {
    if (failure === undefined) throw error;
    log(`could not restore the baseline: ${messageOf(error)}`);
  }
}

async function scoreContender(arena: Arena, contender: Contender, direct: SpeedScore): Promise<ContenderScore> {
  const features = contender.features(); // Read first: a config out of shape fails before anything is measured.
  if (contender.replicaEnv) {
    arena.log(`${contender.name}: restarting the replicas with ${Object.entries(contender.replicaEnv).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    await arena.driver.setReplicaEnv(contender.replicaEnv);
  }
  let failure: unknown;
  try {
    return await measureContender(arena, contender, features, direct);
  } catch (error) {
    // The system or a balancer did not behave: one line naming the contender (a LabError already is one).
    failure = error instanceof LabError ? error : new LabError(`${contender.name}: ${messageOf(error)}`);
    throw failure;
  } finally {
    if (contender.replicaEnv) {
      await settle(
        restoreBaseline(arena.driver).then(() => arena.driver.setReplicaEnv({})),
        failure,
        arena.log,
      );
    }
  }
}

/** Every line of one contender's score, each from the baseline and back to it. */
async function measureContender(arena: Arena, contender: Contender, features: Feature[], direct: SpeedScore): Promise<ContenderScore> {
  const { spread, speed } = await measureSpeed(arena, contender);
  const faults = [];
  for (const fault of plan(arena.quick).faults.kinds) {
    faults.push(await measureFault(arena, contender, fault));
    await restoreBaseline(arena.driver);
  }
  const scale = await measureScale(arena, contender);
  await restoreBaseline(arena.driver);
  return {
    name: contender.name,
    title: contender.title,
    how: contender.how,
    features,
    spread,
    speed,
    addedP50Ms: difference(speed.p50Ms, direct.p50Ms),
    addedP99Ms: difference(speed.p99Ms, direct.p99Ms),
    faults,
    scale,
  };
}

function choose(all: Contender[], only: readonly string[] | undefined): Contender[] {
  if (!only) return all;
  const unknown = only.filter((name) => !all.some((c) => c.name === name));
  if (unknown.length > 0) throw new LabError(`unknown contender ${unknown.join(', ')}; one of ${all.map((c) => c.name).join(', ')}`, 2);
  return all.filter((c) => only.includes(c.name));
}

async function openSite(driver: LabDriver): Promise<BalancerSite> {
  if (driver instanceof LocalDriver) return LocalBalancerSite.open(driver);
  if (driver instanceof DockerDriver) return DockerBalancerSite.open(driver);
  throw new LabError(`the scorecard runs on the local or the docker driver, not ${driver.kind}`);
}

function difference(value: number | undefined, reference: number | undefined): number | undefined {
  return value === undefined || reference === undefined ? undefined : Math.round((value - reference) * 1000) / 1000;
}

/** "2 cores (Intel Xeon ...), 24 GiB, Linux 6.1": the machine a run's figures belong to. */
export function describeMachine(): string {
  const model = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  return `${cpus().length} cores (${model}), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}`;
}
