// Envoy's view of the greeter cluster over time: /clusters polled every 50 ms from the moment the watch starts,
// every sample kept with its time. Experiments ask it when something first happened to a host (out of rotation,
// ejected, gone, healthy again, its first answered call, its last routed call), in ms after the watch started:
// one poller for every experiment, and timestamps that all mean the same thing.
import { setTimeout as delay } from 'node:timers/promises';
import { clusterHosts, type UpstreamHost, CLUSTER_NAME } from '../envoy/index.js';

/** How often /clusters is read: the precision of every time the watch reports. */
export const WATCH_POLL_MS = 50;

/** One reading of /clusters: hosts by address, and when the answer arrived (ms after the watch started). */
interface Sample {
  ms: number;
  hosts: Map<string, UpstreamHost>;
}

/** When a host left rotation, and why (Envoy's flags, or "gone from /clusters"). */
export interface OutOfRotation {
  ms: number;
  by: string;
}

export class EnvoyWatch {
  private readonly samples: Sample[] = [];
  private readonly startedAt = performance.now();
  private stopped = false;
  private readonly waiters = new Set<() => void>();
  private readonly polling: Promise<void>;

  constructor(private readonly adminUrl: string) {
    this.polling = this.poll();
  }

  /** ms since the watch started: the clock every answer is on. */
  now(): number {
    return performance.now() - this.startedAt;
  }

  /** A time of this watch (ms after its start) as wall-clock epoch ms, to compare with a log line's timestamp. */
  epochMs(ms: number): number {
    return performance.timeOrigin + this.startedAt + ms;
  }

  /**
   * Waits for the first sample (taken after `fromMs`) for which `check` answers something, and resolves with
   * that; undefined when `limitMs` has passed since `fromMs` first (or the watch stopped).
   */
  async until<T>(check: (sample: Sample) => T | undefined, limitMs: number, fromMs = 0): Promise<T | undefined> {
    let seen = 0;
    for (;;) {
      for (; seen < this.samples.length; seen += 1) {
        const sample = this.samples[seen] as Sample;
        if (sample.ms < fromMs) continue;
        const answer = check(sample);
        if (answer !== undefined) return answer;
      }
      if (this.stopped || this.now() - fromMs > limitMs) return undefined;
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  /** When `address` first left rotation: unhealthy (with Envoy's flags) or gone from /clusters. */
  outOfRotation(address: string, limitMs: number, fromMs = 0): Promise<OutOfRotation | undefined> {
    return this.until((sample) => {
      const host = sample.hosts.get(address);
      if (!host) return { ms: sample.ms, by: 'gone from /clusters' };
      return host.healthy ? undefined : { ms: sample.ms, by: host.healthFlags.join(', ') };
    }, limitMs, fromMs);
  }

  /** When `address` was first ejected by outlier detection. */
  ejected(address: string, limitMs: number, fromMs = 0): Promise<number | undefined> {
    return this.until((sample) => (sample.hosts.get(address)?.ejectedByOutlierDetection ? sample.ms : undefined), limitMs, fromMs);
  }

  /** When `address` was first missing from /clusters (DNS no longer lists it). */
  gone(address: string, limitMs: number, fromMs = 0): Promise<number | undefined> {
    return this.until((sample) => (sample.hosts.has(address) ? undefined : sample.ms), limitMs, fromMs);
  }

  /** When `address` was first listed and healthy (back in rotation, or new and checked). */
  healthy(address: string, limitMs: number, fromMs = 0): Promise<number | undefined> {
    return this.until((sample) => (sample.hosts.get(address)?.healthy ? sample.ms : undefined), limitMs, fromMs);
  }

  /** When a host not listed at the watch's start had first answered a call (Envoy's rq_success above 0). */
  firstAnswered(address: string, limitMs: number, fromMs = 0): Promise<number | undefined> {
    return this.until((sample) => ((sample.hosts.get(address)?.stats.rq_success ?? 0) > 0 ? sample.ms : undefined), limitMs, fromMs);
  }

  /**
   * When Envoy routed its last call to `address`: the time of the last sample at which its request count grew,
   * once it has then stood still for `quietMs` (/clusters shows the main thread's view; the worker threads that
   * route calls may follow a moment later). Undefined if it still grew `limitMs` after `fromMs`.
   */
  lastRouted(address: string, quietMs: number, limitMs: number, fromMs = 0): Promise<number | undefined> {
    let total: number | undefined;
    let grewAt = fromMs;
    return this.until((sample) => {
      const now = sample.hosts.get(address)?.stats.rq_total;
      if (now !== undefined && total !== undefined && now > total) grewAt = sample.ms;
      if (now !== undefined) total = now;
      return sample.ms - grewAt >= quietMs ? grewAt : undefined;
    }, limitMs, fromMs);
  }

  /** The hosts of the latest sample (waits for a first one). */
  async latest(): Promise<Map<string, UpstreamHost>> {
    const sample = await this.until((s) => s, 10_000);
    return this.samples.at(-1)?.hosts ?? sample?.hosts ?? new Map();
  }

  /** Stops polling; pending waits answer undefined. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.polling;
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      // An admin hiccup is one missed sample, not a failed experiment.
      const hosts = await clusterHosts(this.adminUrl, CLUSTER_NAME).catch(() => undefined);
      // Taken when the answer arrived: an upper bound on when Envoy's view changed.
      if (hosts) this.samples.push({ ms: this.now(), hosts: new Map(hosts.map((h) => [h.address, h])) });
      this.wake();
      await delay(WATCH_POLL_MS);
    }
  }

  private wake(): void {
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
  }
}
