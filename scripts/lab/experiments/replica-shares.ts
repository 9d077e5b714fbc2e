// Who answered, as experiments report it: calls per replica name (a reply carries the same name the driver
// lists, under Compose the container name), shares per replica, and Envoy's retry counter.
import type { LoadReport } from '../../../client/src/load/load-report.js';
import { clusterStat } from '../../envoy/envoy-admin.js';
import { CLUSTER_NAME } from '../../local/envoy-config.js';

/** Calls answered per replica name in one phase's report; replicas that answered none count 0. */
export function answeredBy(report: LoadReport, replicas: string[]): Map<string, number> {
  const counts = new Map(replicas.map((name) => [name, 0]));
  for (const host of report.hosts) counts.set(host.hostname, (counts.get(host.hostname) ?? 0) + host.count);
  return counts;
}

/** Each replica's share of the calls, rounded to 0.1 %. */
export function shares(counts: Map<string, number>): Map<string, number> {
  const total = [...counts.values()].reduce((a, b) => a + b, 0) || 1;
  return new Map([...counts].map(([name, count]) => [name, Math.round((count / total) * 1000) / 1000]));
}

export const percent = (share: number): string => `${Math.round(share * 100)}%`;

/** "grpc-server-1 33%, grpc-server-2 33%, ..." */
export const listShares = (byName: Map<string, number>): string => [...byName].map(([name, s]) => `${name} ${percent(s)}`).join(', ');

/** Envoy's count of retries to the greeter cluster so far. */
export function retryCount(adminUrl: string): Promise<number> {
  return clusterStat(adminUrl, CLUSTER_NAME, 'upstream_rq_retry');
}
