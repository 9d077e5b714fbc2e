// `lab watch`: a view refreshed every second. Envoy's admin API gives each replica's health flags, requests and
// errors per second and share; a light probe client (the watch's own calls through Envoy) gives per-replica
// latency, since Envoy keeps no per-host latency histogram.
import { clusterHosts, clusterStat, type UpstreamHost, CLUSTER_NAME } from '../envoy/index.js';
import type { LabDriver } from '../drivers/index.js';
import { formatWatchFrame, type WatchFrame } from './watch-frame.js';
import { LatencyProbe } from './latency-probe.js';

/** Probe latencies older than this leave the p50/p99 window (said in every frame's header). */
const LATENCY_WINDOW_MS = 5000;

export interface WatchOptions {
  /** Probe calls per second through Envoy (0: none, latency columns stay empty). */
  probeRate: number;
  /** Stop after this many frames (0: until `signal` aborts). */
  frames: number;
  intervalMs: number;
  signal: AbortSignal;
  /** Receives each rendered frame. */
  render: (frame: string) => void;
}

/** Runs the view until `frames` are drawn or `signal` aborts; every probe call is settled before it returns. */
export async function watch(driver: LabDriver, options: WatchOptions): Promise<void> {
  const adminUrl = await driver.adminUrl();
  const probe = new LatencyProbe(await driver.envoyTarget(), options.probeRate, LATENCY_WINDOW_MS);

  let previous = await clusterHosts(adminUrl, CLUSTER_NAME);
  let previousRetries = await retries(adminUrl);
  let previousAt = performance.now();
  try {
    for (let frame = 0; options.frames === 0 || frame < options.frames; frame += 1) {
      await sleep(options.intervalMs, options.signal);
      if (options.signal.aborted) break;
      const [hosts, replicas, policy, retryCount] = await Promise.all([
        clusterHosts(adminUrl, CLUSTER_NAME),
        driver.replicas(),
        driver.policy(),
        retries(adminUrl),
      ]);
      const now = performance.now();
      const seconds = (now - previousAt) / 1000;
      const delta = (host: UpstreamHost, stat: string): number =>
        Math.max(0, (host.stats[stat] ?? 0) - (previous.find((p) => p.address === host.address)?.stats[stat] ?? 0));
      const total = hosts.reduce((sum, h) => sum + delta(h, 'rq_total'), 0);
      const rows = replicas.map((replica) => {
        const host = hosts.find((h) => h.address.split(':')[0] === replica.address);
        const latency = probe.latency(replica.name);
        return {
          name: replica.name,
          state: replica.state,
          envoy: host ? host.healthFlags.join(',') : 'not in Envoy',
          requestsPerSecond: host ? delta(host, 'rq_total') / seconds : 0,
          errorsPerSecond: host ? delta(host, 'rq_error') / seconds : 0,
          share: host && total > 0 ? delta(host, 'rq_total') / total : 0,
          p50Ms: latency.p50Ms,
          p99Ms: latency.p99Ms,
        };
      });
      const view: WatchFrame = {
        time: new Date(),
        driver: driver.kind,
        policy: policy.policy,
        rows,
        probeRate: options.probeRate,
        probeFailed: probe.failed,
        latencyWindowS: LATENCY_WINDOW_MS / 1000,
        retriesPerSecond: Math.max(0, retryCount - previousRetries) / seconds,
      };
      options.render(formatWatchFrame(view));
      previous = hosts;
      previousRetries = retryCount;
      previousAt = now;
    }
  } finally {
    await probe.close();
  }
}

function retries(adminUrl: string): Promise<number> {
  return clusterStat(adminUrl, CLUSTER_NAME, 'upstream_rq_retry');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
