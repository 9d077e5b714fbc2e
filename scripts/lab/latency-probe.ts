// The lab's own light probe: a few calls a second through Envoy, so a live view can show each replica's latency
// (Envoy keeps no per-host latency histogram). Latencies are kept over a sliding window, and only that window.
import { callGreeter, createGreeterClient } from '../../client/src/index.js';
import { percentile } from './watch-frame.js';

/** p50 and p99 of one replica's probe calls in the window (ms), or undefined when none landed there. */
export interface ProbeLatency {
  p50Ms: number | undefined;
  p99Ms: number | undefined;
  calls: number;
}

export class LatencyProbe {
  private readonly latencies = new Map<string, { at: number; ms: number }[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly client;
  /** Probe calls that failed since the start. */
  failed = 0;

  /** Starts `rate` calls a second to `target` (0: none; every latency stays undefined). */
  constructor(
    target: string,
    readonly rate: number,
    /** How far back p50 and p99 look. */
    readonly windowMs: number,
  ) {
    this.client = rate > 0 ? createGreeterClient(target) : undefined;
    const client = this.client;
    if (!client) return;
    this.timer = setInterval(() => {
      const call = callGreeter(client, 'probe', 2000).then((result) => {
        if (!result.ok) {
          this.failed += 1;
          return;
        }
        const list = this.latencies.get(result.hostname) ?? [];
        list.push({ at: Date.now(), ms: result.latencyMs });
        this.latencies.set(result.hostname, list);
      });
      this.inFlight.add(call);
      void call.finally(() => this.inFlight.delete(call));
    }, 1000 / rate);
  }

  /** One replica's latency over the window; older calls are dropped as they leave it. */
  latency(replica: string): ProbeLatency {
    const cutoff = Date.now() - this.windowMs;
    const recent = (this.latencies.get(replica) ?? []).filter((l) => l.at >= cutoff);
    this.latencies.set(replica, recent);
    const values = recent.map((l) => l.ms);
    return { p50Ms: percentile(values, 50), p99Ms: percentile(values, 99), calls: values.length };
  }

  /** Stops probing; resolves once every call in flight has settled. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
    this.client?.close();
  }
}
