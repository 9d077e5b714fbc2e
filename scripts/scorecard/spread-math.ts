// The arithmetic of the score, kept pure so it can be checked without a system: how evenly calls spread over the
// replicas (Jain's fairness index, max/min), over a whole run and over its worst one-second window, and when a run's
// calls first reached a replica or were fair again.
import type { CallEvent } from './caller.js';

/**
 * Jain's fairness index of per-replica call counts: (Σx)² / (n·Σx²). 1 when every replica got the same share, 1/n
 * when one got everything; undefined without calls.
 */
export function jainIndex(counts: readonly number[]): number | undefined {
  const sum = counts.reduce((a, b) => a + b, 0);
  const squares = counts.reduce((a, b) => a + b * b, 0);
  return counts.length === 0 || squares === 0 ? undefined : (sum * sum) / (counts.length * squares);
}

/** The busiest replica's count over the idlest one's: Infinity when one got none, undefined without calls. */
export function maxOverMin(counts: readonly number[]): number | undefined {
  if (counts.length === 0 || counts.every((n) => n === 0)) return undefined;
  const min = Math.min(...counts);
  return min === 0 ? Infinity : Math.max(...counts) / min;
}

/** Calls answered per replica (every name in `replicas`, 0 when it answered none). */
export function countsFor(calls: readonly CallEvent[], replicas: readonly string[]): number[] {
  const counts = new Map(replicas.map((name) => [name, 0]));
  for (const call of calls) if (call.host !== undefined && counts.has(call.host)) counts.set(call.host, (counts.get(call.host) ?? 0) + 1);
  return replicas.map((name) => counts.get(name) ?? 0);
}

/** The lowest Jain's index over the run's consecutive `windowMs` windows (whole windows with calls only). */
export function worstWindowJain(calls: readonly CallEvent[], replicas: readonly string[], windowMs: number): number | undefined {
  if (calls.length === 0) return undefined;
  const start = Math.min(...calls.map((c) => c.startedAt));
  const end = Math.max(...calls.map((c) => c.startedAt));
  let worst: number | undefined;
  for (let from = start; from + windowMs <= end; from += windowMs) {
    const index = jainIndex(countsFor(calls.filter((c) => c.startedAt >= from && c.startedAt < from + windowMs), replicas));
    if (index !== undefined) worst = worst === undefined ? index : Math.min(worst, index);
  }
  return worst;
}

/** ms from `fromMs` (epoch) to the start of the first call `host` answered at or after it; undefined if none. */
export function firstCallAfter(calls: readonly CallEvent[], host: string, fromMs: number): number | undefined {
  const first = calls.filter((c) => c.host === host && c.startedAt >= fromMs).map((c) => c.startedAt);
  return first.length === 0 ? undefined : Math.min(...first) - fromMs;
}

/**
 * ms from `fromMs` to the end of the first window of `windowMs` (sliding in `stepMs` steps, starting at `fromMs`)
 * in which the calls spread fairly over `replicas` (Jain's index at least `threshold`, with at least `minCalls`
 * calls); undefined if no window did.
 */
export function fairAfter(
  calls: readonly CallEvent[],
  replicas: readonly string[],
  fromMs: number,
  { windowMs, stepMs, threshold, minCalls }: { windowMs: number; stepMs: number; threshold: number; minCalls: number },
): number | undefined {
  const last = Math.max(fromMs, ...calls.map((c) => c.startedAt));
  for (let from = fromMs; from + windowMs <= last; from += stepMs) {
    const inside = calls.filter((c) => c.startedAt >= from && c.startedAt < from + windowMs);
    if (inside.length < minCalls) continue;
    if ((jainIndex(countsFor(inside, replicas)) ?? 0) >= threshold) return from + windowMs - fromMs;
  }
  return undefined;
}

/**
 * When a replica was last answering after `fromMs`: ms from `fromMs` to its last answered call, or undefined when it
 * still answered in the final `quietMs` before `endMs` (it never left rotation within the run).
 */
export function outOfRotationAfter(calls: readonly CallEvent[], host: string, fromMs: number, endMs: number, quietMs: number): number | undefined {
  const answered = calls.filter((c) => c.host === host && c.startedAt >= fromMs).map((c) => c.startedAt);
  const last = answered.length === 0 ? fromMs : Math.max(...answered);
  return last > endMs - quietMs ? undefined : last - fromMs;
}
