/**
 * The counts of a run, kept in one place so they always add up: each started call settles exactly once, so
 * sent == ok + failed + inFlight at every moment and sent == ok + failed once the run is over. Per-host and per-key
 * maps and latency histograms go with the counts, in a form that crosses a thread boundary and merges across shards.
 */
import type { CallResult } from '../greeter-call.js';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeHistograms,
  recordLatencyMs,
  type Histogram,
} from './load-histogram.js';

/** Counters of a load run (or of one worker's share); sent == ok + failed + inFlight always holds. */
export interface TallyData {
  sent: number;
  ok: number;
  failed: number;
  inFlight: number;
  /** Open loop: scheduled calls not started because `concurrency` calls were already in flight. Never sent. */
  skippedAtCap: number;
  /** Failed calls per grpc status name, e.g. { UNAVAILABLE: 2 }. */
  failedByCode: Record<string, number>;
  /** The last failure as `CODE: details`, so a run where nothing got through can say why. */
  lastFailure?: string;
  /** OK calls per hostname that answered. */
  byHost: Record<string, number>;
  /** With a key header: every key sent, mapped to the hosts that answered it OK and how often ({} = none did). */
  hostsByKey: Record<string, Record<string, number>>;
  /** Latencies (µs) of OK calls, and of every settled call. */
  okLatency: Histogram;
  allLatency: Histogram;
}

/** TallyData as plain JSON-safe values, to post from a worker thread. */
export type WireTally = Omit<TallyData, 'okLatency' | 'allLatency'> & { okLatency: string; allLatency: string };

/**
 * Counts calls: each call is started once and settled once, so once none is in flight sent == ok + failed.
 * Settling a call that was never started is a bug and throws rather than break that equation silently.
 */
export class LoadTally {
  #sent = 0;
  #ok = 0;
  #failed = 0;
  #skippedAtCap = 0;
  readonly #failedByCode = new Map<string, number>();
  #lastFailure: string | undefined;
  readonly #byHost = new Map<string, number>();
  readonly #hostsByKey = new Map<string, Map<string, number>>();
  readonly #okLatency = createLatencyHistogram();
  readonly #allLatency = createLatencyHistogram();

  /** Records a call that was just started. */
  start(): void {
    this.#sent++;
  }

  /** Records how a started call ended; `key` is the key header value it carried, if any. */
  settle(result: CallResult, key?: string): void {
    if (this.inFlight <= 0) throw new Error('a call was settled that was never started');
    recordLatencyMs(this.#allLatency, result.latencyMs);
    let hosts: Map<string, number> | undefined;
    if (key !== undefined) {
      hosts = this.#hostsByKey.get(key) ?? new Map<string, number>();
      this.#hostsByKey.set(key, hosts);
    }
    if (result.ok) {
      this.#ok++;
      recordLatencyMs(this.#okLatency, result.latencyMs);
      increment(this.#byHost, result.hostname);
      if (hosts) increment(hosts, result.hostname);
    } else {
      this.#failed++;
      increment(this.#failedByCode, result.codeName);
      this.#lastFailure = `${result.codeName}: ${result.details}`;
    }
  }

  /** Records a scheduled call that was not started because the concurrency cap was reached. */
  skipAtCap(): void {
    this.#skippedAtCap++;
  }

  get sent(): number {
    return this.#sent;
  }

  /** Calls started and not yet settled. */
  get inFlight(): number {
    return this.#sent - this.#ok - this.#failed;
  }

  /** The counters now, names sorted; the histograms are the live ones (copy before changing them). */
  snapshot(): TallyData {
    return {
      sent: this.#sent,
      ok: this.#ok,
      failed: this.#failed,
      inFlight: this.inFlight,
      skippedAtCap: this.#skippedAtCap,
      failedByCode: sortedRecord(this.#failedByCode),
      ...(this.#lastFailure === undefined ? {} : { lastFailure: this.#lastFailure }),
      byHost: sortedRecord(this.#byHost),
      hostsByKey: Object.fromEntries(
        [...this.#hostsByKey.keys()].sort(byName).map((key) => [key, sortedRecord(this.#hostsByKey.get(key) ?? new Map())]),
      ),
      okLatency: this.#okLatency,
      allLatency: this.#allLatency,
    };
  }
}

/** The sum of several shards' counters: counts add, per-name maps add per name, histograms merge. */
export function mergeTallies(parts: readonly TallyData[]): TallyData {
  const failedByCode = new Map<string, number>();
  const byHost = new Map<string, number>();
  const hostsByKey = new Map<string, Map<string, number>>();
  for (const part of parts) {
    addRecord(failedByCode, part.failedByCode);
    addRecord(byHost, part.byHost);
    for (const [key, hosts] of Object.entries(part.hostsByKey)) {
      const merged = hostsByKey.get(key) ?? new Map<string, number>();
      addRecord(merged, hosts);
      hostsByKey.set(key, merged);
    }
  }
  const sum = (pick: (part: TallyData) => number): number => parts.reduce((total, part) => total + pick(part), 0);
  const lastFailure = parts.findLast((part) => part.lastFailure !== undefined)?.lastFailure;
  return {
    sent: sum((part) => part.sent),
    ok: sum((part) => part.ok),
    failed: sum((part) => part.failed),
    inFlight: sum((part) => part.inFlight),
    skippedAtCap: sum((part) => part.skippedAtCap),
    failedByCode: sortedRecord(failedByCode),
    ...(lastFailure === undefined ? {} : { lastFailure }),
    byHost: sortedRecord(byHost),
    hostsByKey: Object.fromEntries(
      [...hostsByKey.keys()].sort(byName).map((key) => [key, sortedRecord(hostsByKey.get(key) ?? new Map())]),
    ),
    okLatency: mergeHistograms(parts.map((part) => part.okLatency)),
    allLatency: mergeHistograms(parts.map((part) => part.allLatency)),
  };
}

/** TallyData in its postable form. */
export function toWire(data: TallyData): WireTally {
  return { ...data, okLatency: encodeHistogram(data.okLatency), allLatency: encodeHistogram(data.allLatency) };
}

/** The inverse of toWire. */
export function fromWire(wire: WireTally): TallyData {
  return { ...wire, okLatency: decodeHistogram(wire.okLatency), allLatency: decodeHistogram(wire.allLatency) };
}

function increment(counts: Map<string, number>, name: string, by = 1): void {
  counts.set(name, (counts.get(name) ?? 0) + by);
}

function addRecord(into: Map<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [name, count] of Object.entries(from)) increment(into, name, count);
}

// Natural order, so key-2 comes before key-10 and grpc-server-2 before grpc-server-10.
const byName = new Intl.Collator('en', { numeric: true }).compare;

function sortedRecord(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts.keys()].sort(byName).map((name) => [name, counts.get(name) ?? 0]));
}
