// Samples the system once a second for the dashboard, through the lab driver and Envoy's admin only, so it works the
// same under both drivers: Envoy's health flags and per-host counters (share, calls/s, errors/s), the driver's replica
// states, the probe's latencies, and the faults each replica reports (read every few seconds: under Compose a read is
// a `docker exec`). A replica the driver stops listing stays on the page as "gone" (share 0 %) for a while.
import { clusterHosts, clusterStat, CLUSTER_NAME, type UpstreamHost } from '../../envoy/index.js';
import type { LabDriver } from '../../drivers/index.js';
import type { FaultStateView } from '../../../server/src/index.js';
import type { LatencyProbe } from '../latency-probe.js';
import type { ReplicaView } from './snapshot.js';

/** How often the faults of each replica are read again. */
const FAULTS_EVERY_MS = 5000;
/** How long a replica the driver no longer lists stays on the page. */
const GONE_KEPT_MS = 60_000;

/** The measured part of one second. */
export interface Sample {
  at: number;
  policy: string;
  retriesPerSecond: number;
  replicas: ReplicaView[];
}

export class DashboardSampler {
  private previous: { hosts: UpstreamHost[]; retries: number; at: number } | undefined;
  private readonly faults = new Map<string, { view: FaultStateView; at: number }>();
  private readonly reading = new Set<string>();
  /** When each replica was last listed by the driver, and the host Envoy knows it as. */
  private readonly lastSeen = new Map<string, { at: number; host: string }>();

  constructor(
    private readonly driver: LabDriver,
    private readonly adminUrl: string,
    private readonly probe: LatencyProbe,
  ) {}

  /** Remembers a state a verb just got back from a replica, so the page shows it at once. */
  noteFaults(view: FaultStateView): void {
    this.faults.set(view.replica, { view, at: Date.now() });
  }

  async sample(): Promise<Sample> {
    const [hosts, replicas, policy, retries] = await Promise.all([
      clusterHosts(this.adminUrl, CLUSTER_NAME),
      this.driver.replicas(),
      this.driver.policy(),
      clusterStat(this.adminUrl, CLUSTER_NAME, 'upstream_rq_retry'),
    ]);
    const at = Date.now();
    const previous = this.previous ?? { hosts, retries, at: at - 1000 };
    this.previous = { hosts, retries, at };
    const seconds = Math.max(0.001, (at - previous.at) / 1000);
    const delta = (host: UpstreamHost, stat: string): number =>
      Math.max(0, (host.stats[stat] ?? 0) - (previous.hosts.find((p) => p.address === host.address)?.stats[stat] ?? 0));
    const total = hosts.reduce((sum, host) => sum + delta(host, 'rq_total'), 0);

    // Envoy's view of one host: a replica the driver no longer lists may still get calls until Envoy drops it.
    const envoyView = (address: string) => {
      const host = hosts.find((h) => h.address === address);
      return {
        envoy: host ? host.healthFlags.join(',') : 'not in Envoy',
        share: host && total > 0 ? delta(host, 'rq_total') / total : 0,
        callsPerSecond: host ? delta(host, 'rq_total') / seconds : 0,
        errorsPerSecond: host ? delta(host, 'rq_error') / seconds : 0,
      };
    };
    const views: ReplicaView[] = replicas.map((replica) => {
      const address = `${replica.address}:${replica.port}`;
      // An exited container has no address any more: keep the one it had.
      this.lastSeen.set(replica.name, { at, host: replica.address ? address : (this.lastSeen.get(replica.name)?.host ?? '') });
      if (replica.state === 'running') this.readFaultsSoon(replica.name);
      const latency = this.probe.latency(replica.name);
      return {
        name: replica.name,
        state: replica.state,
        ...envoyView(this.lastSeen.get(replica.name)?.host ?? address),
        p50Ms: latency.p50Ms ?? null,
        p99Ms: latency.p99Ms ?? null,
        faults: this.faultsOf(replica.name),
      };
    });
    for (const [name, seen] of this.lastSeen) {
      if (views.some((v) => v.name === name)) continue;
      if (at - seen.at > GONE_KEPT_MS) {
        this.lastSeen.delete(name);
        this.faults.delete(name);
        continue;
      }
      views.push({ name, state: 'gone', ...envoyView(seen.host), p50Ms: null, p99Ms: null, faults: null });
    }
    views.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    return { at, policy: policy.policy, retriesPerSecond: Math.max(0, retries - previous.retries) / seconds, replicas: views };
  }

  private faultsOf(name: string): ReplicaView['faults'] {
    const known = this.faults.get(name)?.view;
    return known ? { health: known.health, failRate: known.failRate, failCode: known.failCode, latencyMs: known.latencyMs } : null;
  }

  /** Reads one replica's faults in the background when the last reading is old; an empty patch changes nothing. */
  private readFaultsSoon(name: string): void {
    const last = this.faults.get(name);
    if (this.reading.has(name) || (last && Date.now() - last.at < FAULTS_EVERY_MS)) return;
    this.reading.add(name);
    this.driver
      .setFaults(name, {})
      .then((view) => this.noteFaults(view))
      .catch(() => undefined) // A replica that cannot answer now is read again at the next turn.
      .finally(() => this.reading.delete(name));
  }
}
