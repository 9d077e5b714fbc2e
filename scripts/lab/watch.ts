// `lab watch`: a view refreshed every second. Envoy's admin API gives each replica's health flags, requests and
// errors per second and share; a light probe client (the watch's own calls through Envoy) gives per-replica
// latency, since Envoy keeps no per-host latency histogram.
import { clusterHosts, clusterStat, type UpstreamHost, CLUSTER_NAME } from '../envoy/index.js';
import type { LabDriver } from '../drivers/index.js';
import { formatWatchFrame, percentile, type WatchFrame } from './watch-frame.js';
import { callGreeter, createGreeterClient } from '../../client/src/index.js';

/** Probe latencies older than this leave the p50/p99 window. */
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
  const client = options.probeRate > 0 ? createGreeterClient(await driver.envoyTarget()) : undefined;
  const latencies = new Map<string, { at: number; ms: number }[]>();
  const inFlight = new Set<Promise<void>>();
  let probeFailed = 0;
  const probe = client
    ? setInterval(() => {
        const call = callGreeter(client, 'watch', 2000).then((result) => {
          if (!result.ok) {
            probeFailed += 1;
            return;
          }
          const list = latencies.get(result.hostname) ?? [];
          list.push({ at: Date.now(), ms: result.latencyMs });
          latencies.set(result.hostname, list);
        });
        inFlight.add(call);
        void call.finally(() => inFlight.delete(call));
      }, 1000 / options.probeRate)
    : undefined;

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
      const cutoff = Date.now() - LATENCY_WINDOW_MS;
      const rows = replicas.map((replica) => {
        const host = hosts.find((h) => h.address.split(':')[0] === replica.address);
        const recent = (latencies.get(replica.name) ?? []).filter((l) => l.at >= cutoff);
        latencies.set(replica.name, recent);
        const values = recent.map((l) => l.ms);
        return {
          name: replica.name,
          state: replica.state,
          envoy: host ? host.healthFlags.join(',') : 'not in Envoy',
          requestsPerSecond: host ? delta(host, 'rq_total') / seconds : 0,
          errorsPerSecond: host ? delta(host, 'rq_error') / seconds : 0,
          share: host && total > 0 ? delta(host, 'rq_total') / total : 0,
          p50Ms: percentile(values, 50),
          p99Ms: percentile(values, 99),
        };
      });
      const view: WatchFrame = {
        time: new Date(),
        driver: driver.kind,
        policy: policy.policy,
        rows,
        probeRate: options.probeRate,
        probeFailed,
        retriesPerSecond: Math.max(0, retryCount - previousRetries) / seconds,
      };
      options.render(formatWatchFrame(view));
      previous = hosts;
      previousRetries = retryCount;
      previousAt = now;
    }
  } finally {
    clearInterval(probe);
    await Promise.all(inFlight);
    client?.close();
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
