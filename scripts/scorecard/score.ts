// What the scorecard leaves behind: a score per contender, the direct path as the reference, and the lessons that
// must hold on any machine, judged. The terminal table, the JSON and the HTML page all read this one shape.
import type { Feature } from './balancer-configs.js';

export type FaultKind = 'kill' | 'drain' | 'not-serving' | 'pause';

/** How the calls of one connection spread over the replicas. */
export interface SpreadScore {
  calls: number;
  failed: number;
  /** Calls answered per replica. */
  counts: Record<string, number>;
  /** Jain's fairness index over the run: 1 = even, 1/3 = all on one of three. */
  jain?: number;
  /** Busiest over idlest replica; Infinity when one got none (JSON: null). */
  maxOverMin?: number;
  /** The lowest Jain's index of any one-second window: how uneven it is at a moment, not on average. */
  worstSecondJain?: number;
  /** The busiest replica's share of the answered calls. */
  busiestShare?: number;
  /** Times the client connected again during the run (L4 contenders, from Envoy's counter). */
  reconnects?: number;
}

export interface SpeedScore {
  /** Latency of OK calls at a fixed rate. */
  p50Ms?: number;
  p99Ms?: number;
  /** Calls that failed in the speed runs (a healthy system: none). */
  failed: number;
  /** OK calls per second with a fixed number in flight. */
  throughputPerS: number;
  /** CPU of the balancer's processes (or container) per call in that run, in µs; none for client-side balancing. */
  cpuUsPerCall?: number;
}

export interface FaultScore {
  fault: FaultKind;
  /** The replica it was done to: the busiest of the warm-up (a pinned connection's). */
  victim: string;
  sent: number;
  failed: number;
  failedByCode: Record<string, number>;
  /** Length of the run from the fault on. */
  seconds: number;
  /** ms from the fault to the last call the replica answered; undefined when it still answered at the end. */
  outOfRotationMs?: number;
}

export interface ScaleScore {
  added: string;
  /** How long after the new replica was listening the scorecard waited. */
  limitMs: number;
  /** ms from its listening line to its first call through the contender; undefined: none within the limit. */
  firstCallMs?: number;
  /** ms from its listening line to the end of the first fair second over all four; undefined: not within the limit. */
  fairMs?: number;
}

export interface ContenderScore {
  name: string;
  title: string;
  how: string;
  features: Feature[];
  spread: SpreadScore;
  speed: SpeedScore;
  /** Latency added over the direct path, in ms. */
  addedP50Ms?: number;
  addedP99Ms?: number;
  faults: FaultScore[];
  scale: ScaleScore;
}

/** A lesson that must hold on any machine, judged on this run. */
export interface Lesson {
  lesson: string;
  /** The figure it was judged on, as a sentence. */
  evidence: string;
  pass: boolean;
}

export interface ScorecardReport {
  driver: 'docker' | 'local';
  /** Which system, in the driver's words. */
  system: string;
  quick: boolean;
  startedAt: string;
  durationS: number;
  /** The machine, in a few words (cores, CPU model, OS). */
  machine: string;
  /** How the client-side contender found the replicas on this driver. */
  clientSide: string;
  direct: SpeedScore;
  contenders: ContenderScore[];
  lessons: Lesson[];
  /** Every lesson held. */
  pass: boolean;
}

/** Thresholds of the lessons; round robin on one connection is exact for a proxy, near-exact client-side. */
const PINNED_SHARE = 0.99;
const SPREAD_JAIN = 0.95;

/** The lessons the tests assert, judged on a report's contenders (each needs its contender in the run). */
export function judgeLessons(contenders: readonly ContenderScore[]): Lesson[] {
  const find = (name: string): ContenderScore | undefined => contenders.find((c) => c.name === name);
  const lessons: Lesson[] = [];
  const l4 = find('envoy-l4');
  if (l4) {
    const share = l4.spread.busiestShare;
    lessons.push({
      lesson: 'L4 pins one connection to one replica',
      evidence: `Envoy at L4: the busiest replica answered ${percent(share)} of one connection's calls (≥ ${percent(PINNED_SHARE)})`,
      pass: share !== undefined && share >= PINNED_SHARE,
    });
  }
  for (const [name, label] of [['envoy-l7', 'Envoy at L7'], ['grpc-js-rr', 'client-side round robin']] as const) {
    const contender = find(name);
    if (!contender) continue;
    const jain = contender.spread.jain;
    lessons.push({
      lesson: `${label} spreads one connection's calls over every replica`,
      evidence: `${label}: Jain's index ${fixed(jain, 3)} (≥ ${SPREAD_JAIN})`,
      pass: jain !== undefined && jain >= SPREAD_JAIN,
    });
  }
  const kill = find('envoy-l7')?.faults.find((f) => f.fault === 'kill');
  if (kill) {
    lessons.push({
      lesson: 'with health checks and retries, Envoy loses no call on a SIGKILL',
      evidence: `Envoy at L7: ${kill.failed} of ${kill.sent} calls failed across the kill of ${kill.victim}`,
      pass: kill.failed === 0,
    });
  }
  return lessons;
}

export function percent(share: number | undefined): string {
  return share === undefined ? '-' : `${Math.round(share * 1000) / 10}%`;
}

export function fixed(value: number | undefined, digits: number): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (!Number.isFinite(value)) return '∞';
  return value.toFixed(digits);
}
