/**
 * The report of a finished run as data: what was asked, what was sent and how it ended, throughput, latency
 * percentiles, which hosts answered and, with a key header, which hosts answered each key. Building it checks the
 * accounting, so a report whose numbers do not add up is never handed out.
 */
import { summarizeLatency, type LatencySummary } from './load-histogram.js';
import type { LoadPlan } from './load-options.js';
import type { TallyData } from './load-tally.js';

/** One hostname's share of the OK calls. */
export interface HostShare {
  hostname: string;
  count: number;
  /** count / ok, from 0 to 1. */
  share: number;
}

/** The key header section of a report: how sticky each key was. */
export interface KeyReport {
  header: string;
  /** Distinct keys the run could send (--keys). */
  keys: number;
  /** Every key sent, mapped to the hosts that answered it OK and how often ({} = no OK answer). */
  hostsByKey: Record<string, Record<string, number>>;
  /** Keys answered by exactly one host, by two or more, and by none. */
  oneHost: number;
  severalHosts: number;
  noHost: number;
}

/** The outcome of a load run. Once the run is over sent == ok + failed, always (interrupted or not). */
export interface LoadReport {
  target: string;
  /** closed: each lane sends its next call when the previous settles; open: calls start on the rate schedule. */
  mode: 'closed' | 'open';
  concurrency: number;
  /** Calls per second asked for (open loop); null in a closed loop. */
  rate: number | null;
  /** The limit the run had: seconds of sending, or a total call count (the other is null); both null = until stopped. */
  plannedDurationS: number | null;
  plannedCount: number | null;
  deadlineMs: number;
  workers: number;
  /** Stopped early (signal or abort): the counts cover only what was sent until then. Never for a run until stopped. */
  interrupted: boolean;
  /** From the first call's start to the last call's end, in seconds. */
  durationS: number;
  sent: number;
  ok: number;
  failed: number;
  failedByCode: Record<string, number>;
  /** The last failed call as `CODE: details` (null when none failed): why, when nothing got through. */
  lastFailure: string | null;
  /** Open loop: calls due while `concurrency` calls were in flight, skipped (not sent). 0 in a closed loop. */
  skippedAtCap: number;
  /** OK calls and all calls per second over durationS. */
  throughput: { okPerS: number; allPerS: number };
  /** Latency percentiles in ms of OK calls and of every call (null when there were none). */
  latencyMs: { ok: LatencySummary | null; all: LatencySummary | null };
  /** Hosts that answered OK calls, in natural name order. */
  hosts: HostShare[];
  keys: KeyReport | null;
}

/** When the run's shards started and ended (epoch ms) and whether any was stopped early. */
export interface RunTiming {
  startedAtMs: number;
  endedAtMs: number;
  interrupted: boolean;
}

/** Builds the report of a finished run from its merged counters; throws if the accounting does not add up (a bug). */
export function buildLoadReport(plan: LoadPlan, tally: TallyData, timing: RunTiming): LoadReport {
  if (tally.inFlight !== 0 || tally.sent !== tally.ok + tally.failed) {
    throw new Error(`load accounting broken: sent=${tally.sent} ok=${tally.ok} failed=${tally.failed} in-flight=${tally.inFlight}`);
  }
  const durationS = Math.max(0, timing.endedAtMs - timing.startedAtMs) / 1000;
  const perS = (calls: number): number => (durationS > 0 ? round(calls / durationS, 1) : 0);
  return {
    target: plan.target,
    mode: plan.rate === null ? 'closed' : 'open',
    concurrency: plan.concurrency,
    rate: plan.rate,
    plannedDurationS: plan.limit.kind === 'duration' ? plan.limit.ms / 1000 : null,
    plannedCount: plan.limit.kind === 'count' ? plan.limit.calls : null,
    deadlineMs: plan.deadlineMs,
    workers: plan.workers,
    interrupted: timing.interrupted,
    durationS: round(durationS, 3),
    sent: tally.sent,
    ok: tally.ok,
    failed: tally.failed,
    failedByCode: tally.failedByCode,
    lastFailure: tally.lastFailure ?? null,
    skippedAtCap: tally.skippedAtCap,
    throughput: { okPerS: perS(tally.ok), allPerS: perS(tally.sent) },
    latencyMs: { ok: summarizeLatency(tally.okLatency), all: summarizeLatency(tally.allLatency) },
    hosts: Object.entries(tally.byHost).map(([hostname, count]) => ({ hostname, count, share: round(count / tally.ok, 4) })),
    keys: plan.keys && keyReport(plan.keys, tally.hostsByKey),
  };
}

function keyReport(keys: NonNullable<LoadPlan['keys']>, hostsByKey: TallyData['hostsByKey']): KeyReport {
  const hostCounts = Object.values(hostsByKey).map((hosts) => Object.keys(hosts).length);
  return {
    header: keys.header,
    keys: keys.count,
    hostsByKey,
    oneHost: hostCounts.filter((count) => count === 1).length,
    severalHosts: hostCounts.filter((count) => count > 1).length,
    noHost: hostCounts.filter((count) => count === 0).length,
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
