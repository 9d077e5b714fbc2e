// `lab ps` and `lab envoy`: the replicas as the driver sees them joined with Envoy's own view (health flags,
// active requests, traffic share over a short sample), and Envoy's cluster counters, in a form a person reads.
import { clusterHosts, stats, type UpstreamHost, CLUSTER_NAME, type PolicyChoice } from '../envoy/index.js';
import type { LabReplica } from '../drivers/index.js';

/** One line of `lab ps`. */
export interface ReplicaRow {
  name: string;
  /** ip:port as Envoy knows it, or the bare ip when Envoy does not list it. */
  address: string;
  state: LabReplica['state'];
  /** Envoy's health flags (healthy, failed_active_hc, failed_outlier_check, ...), or "not in Envoy". */
  envoy: string;
  active: number;
  requestsPerSecond: number;
  errorsPerSecond: number;
  /** Share of the requests Envoy sent during the sample, 0-1. */
  share: number;
}

/** Samples Envoy's per-host counters twice, `sampleMs` apart, and joins them to the driver's replicas. */
export async function sampleReplicaRows(replicas: LabReplica[], adminUrl: string, sampleMs = 1000): Promise<ReplicaRow[]> {
  const before = await clusterHosts(adminUrl, CLUSTER_NAME);
  const startedAt = performance.now();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const after = await clusterHosts(adminUrl, CLUSTER_NAME);
  const seconds = (performance.now() - startedAt) / 1000;
  const delta = (host: UpstreamHost, stat: string): number =>
    (host.stats[stat] ?? 0) - (before.find((b) => b.address === host.address)?.stats[stat] ?? 0);
  const total = after.reduce((sum, host) => sum + Math.max(0, delta(host, 'rq_total')), 0);
  return replicas.map((replica) => {
    const host = after.find((h) => h.address.split(':')[0] === replica.address);
    if (!host) {
      return { ...replica, envoy: 'not in Envoy', active: 0, requestsPerSecond: 0, errorsPerSecond: 0, share: 0 };
    }
    const requests = Math.max(0, delta(host, 'rq_total'));
    return {
      name: replica.name,
      address: host.address,
      state: replica.state,
      envoy: host.healthFlags.join(','),
      active: host.stats.rq_active ?? 0,
      requestsPerSecond: requests / seconds,
      errorsPerSecond: Math.max(0, delta(host, 'rq_error')) / seconds,
      share: total > 0 ? requests / total : 0,
    };
  });
}

const BAR_WIDTH = 10;

function bar(share: number): string {
  const filled = Math.round(share * BAR_WIDTH);
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
}

/** The `lab ps` table. */
export function formatReplicaTable(rows: ReplicaRow[], policy: PolicyChoice, sampleMs: number): string {
  const policyText =
    (policy.policy === 'RING_HASH' || policy.policy === 'MAGLEV' ? `${policy.policy} on ${policy.hashHeader ?? 'x-lab-key'}` : policy.policy) +
    (policy.panicThresholdPercent !== undefined ? `, panic threshold ${policy.panicThresholdPercent} %` : '') +
    (policy.perTryTimeoutMs !== undefined ? `, per-try timeout ${policy.perTryTimeoutMs || 'none'}${policy.perTryTimeoutMs ? ' ms' : ''}` : '');
  const header = ['NAME', 'ADDRESS', 'STATE', 'ENVOY', 'ACTIVE', 'RQ/S', 'ERR/S', `SHARE (last ${sampleMs / 1000}s)`];
  const body = rows.map((r) => [
    r.name,
    r.address,
    r.state,
    r.envoy,
    String(r.active),
    r.requestsPerSecond.toFixed(1),
    r.errorsPerSecond.toFixed(1),
    `${bar(r.share)} ${(r.share * 100).toFixed(0).padStart(3)}%`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [`policy ${policyText}`, line(header), ...body.map(line)].join('\n');
}

/** Cluster counters worth reading when something happened, in the order a person asks about them. */
const CLUSTER_STATS: [string, string][] = [
  ['membership_total', 'hosts known (DNS)'],
  ['membership_healthy', 'hosts healthy'],
  ['upstream_rq_total', 'requests'],
  ['upstream_rq_retry', 'retries'],
  ['upstream_rq_retry_success', 'retries that succeeded'],
  ['upstream_rq_per_try_timeout', 'per-try timeouts'],
  ['upstream_cx_connect_fail', 'connect failures'],
  ['health_check.failure', 'health-check failures'],
  ['outlier_detection.ejections_active', 'ejected now'],
  ['outlier_detection.ejections_enforced_total', 'ejections'],
  ['upstream_rq_active_overflow', 'circuit-breaker overflows (requests)'],
  ['upstream_rq_pending_overflow', 'circuit-breaker overflows (pending)'],
  ['upstream_cx_overflow', 'circuit-breaker overflows (connections)'],
  ['lb_healthy_panic', 'panic-mode requests'],
];

/** `lab envoy`: per-host flags and counters from /clusters, then the cluster's counters from /stats. */
export async function formatEnvoyView(adminUrl: string): Promise<string> {
  const hosts = await clusterHosts(adminUrl, CLUSTER_NAME);
  const values = await stats(adminUrl, `^cluster\\.${CLUSTER_NAME}\\.`);
  const lines = [`cluster ${CLUSTER_NAME} (${adminUrl}/clusters)`];
  for (const host of hosts) {
    const s = host.stats;
    lines.push(
      `  ${host.address.padEnd(21)} ${host.healthFlags.join(',').padEnd(22)} rq_total=${s.rq_total ?? 0} rq_error=${s.rq_error ?? 0} ` +
        `rq_active=${s.rq_active ?? 0} cx_active=${s.cx_active ?? 0}`,
    );
  }
  if (hosts.length === 0) lines.push('  (no hosts: DNS returned none)');
  lines.push(`stats (${adminUrl}/stats?filter=cluster.${CLUSTER_NAME}.)`);
  for (const [stat, meaning] of CLUSTER_STATS) {
    lines.push(`  ${meaning.padEnd(40)} ${String(values.get(`cluster.${CLUSTER_NAME}.${stat}`) ?? 0).padStart(8)}   ${stat}`);
  }
  return lines.join('\n');
}
