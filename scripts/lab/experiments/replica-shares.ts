// Who answered, as experiments report it: load-report hostnames mapped back to replica names (under Compose a
// hostname is a container id), shares per replica, and Envoy's retry counter.
import type { LoadReport } from '../../../client/src/load/load-report.js';
import { clusterStat } from '../../envoy/envoy-admin.js';
import { CLUSTER_NAME } from '../../local/envoy-config.js';
import type { LabDriver, LabReplica } from '../lab-driver.js';

/** The hostname each replica puts in its answers (the replica name locally, the container's hostname in Docker). */
export async function replicaNamesByHostname(driver: LabDriver, replicas: LabReplica[]): Promise<Map<string, string>> {
  // An empty patch changes nothing and answers the replica's state, which names it as its answers do.
  const pairs = await Promise.all(replicas.map(async (r) => [(await driver.setFaults(r.name, {})).replica, r.name] as const));
  return new Map(pairs);
}

/** Calls answered per replica name in one phase's report; replicas that answered none count 0. */
export function answeredBy(report: LoadReport, names: Map<string, string>, replicas: string[]): Map<string, number> {
  const counts = new Map(replicas.map((name) => [name, 0]));
  for (const host of report.hosts) {
    const name = names.get(host.hostname) ?? host.hostname;
    counts.set(name, (counts.get(name) ?? 0) + host.count);
  }
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
