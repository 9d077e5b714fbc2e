// The Compose profile `observability` on a real Docker engine: its Prometheus (the official image, or where no registry
// answers the stand-in `npm run setup:observability` builds under the same tag) finds every replica through Docker's
// DNS as Envoy does, follows a scale, and reads Envoy through the read-only stats listener. Grafana is not started:
// no image of it can be had here (docs/observability.md).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Docker from 'dockerode';
import { composePrometheusImage, ensurePrometheusStandin } from '../../scripts/observability/index.js';
import { pollUntil } from '../../scripts/stack/poll-until.js';
import { ComposeProject } from '../helpers/compose-project.js';

interface Target {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: string;
  lastError: string;
}

let project: ComposeProject;

async function targets(): Promise<Target[]> {
  const response = await fetch(`http://127.0.0.1:${project.prometheusPort}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(5000) });
  return ((await response.json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
}

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const url = `http://127.0.0.1:${project.prometheusPort}/api/v1/query?${new URLSearchParams({ query: expr }).toString()}`;
  return ((await (await fetch(url, { signal: AbortSignal.timeout(5000) })).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
}

/** Resolves once Prometheus scrapes exactly `count` replicas and Envoy, every one of them up. */
function allUp(count: number): Promise<Target[]> {
  return pollUntil(
    `Prometheus of ${project.name} to scrape ${count} replicas and Envoy, all up`,
    async () => {
      const active = await targets();
      const replicas = active.filter((t) => t.labels.job === 'grpc-server');
      const envoy = active.filter((t) => t.labels.job === 'envoy');
      return replicas.length === count && envoy.length === 1 && active.every((t) => t.health === 'up') ? active : undefined;
    },
    { timeoutMs: 45_000, intervalMs: 500 },
  );
}

beforeAll(async () => {
  await ensurePrometheusStandin(composePrometheusImage(), (line) => console.log(line));
  project = await ComposeProject.create();
  await project.up(3);
  // Naming a service of a profile starts it without the rest of the profile (Grafana has no image here).
  await project.compose('up', '-d', '--no-deps', 'prometheus');
}, 10 * 60_000);

afterAll(async () => {
  await project?.down();
}, 2 * 60_000);

describe('docker compose --profile observability: Prometheus', () => {
  test('scrapes every replica found by DNS, each series labelled with the name `docker compose ps` shows, and Envoy', async () => {
    await allUp(3);
    const labelled = await pollUntil(
      'a call counted by every replica',
      async () => {
        const result = await query('sum by (replica) (grpc_server_handled_total)');
        return result.length === 3 && result.every((s) => Number(s.value[1]) > 0) ? result : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(labelled.map((s) => s.metric.replica).sort()).toEqual([1, 2, 3].map((n) => `${project.name}-grpc-server-${n}`));
    const [healthy] = await query('envoy_cluster_membership_healthy{envoy_cluster_name="grpc_server"}');
    expect(Number(healthy?.value[1])).toBe(3);
  }, 90_000);

  test('follows a scale: a fourth replica is scraped once DNS lists it', async () => {
    await project.compose('up', '-d', '--no-deps', '--scale', 'grpc-server=4', 'grpc-server');
    await project.waitForHealthy(4);
    const active = await allUp(4);
    expect(active.filter((t) => t.labels.job === 'grpc-server').every((t) => t.scrapeUrl.endsWith(':9464/metrics'))).toBe(true);
  }, 90_000);

  test('is published on 127.0.0.1 only, runs as nobody, and scrapes Envoy through the admin read-only mirror, which refuses every POST', async () => {
    const docker = new Docker();
    const [container] = await docker.listContainers({
      filters: { label: [`com.docker.compose.project=${project.name}`, 'com.docker.compose.service=prometheus'] },
    });
    const published = (container?.Ports ?? []).filter((p) => p.PublicPort !== undefined);
    expect(published.map((p) => [p.IP, p.PrivatePort])).toEqual([['127.0.0.1', 9090]]);
    const inspected = await docker.getContainer(container!.Id).inspect();
    expect(inspected.Config.User).toBe('65534:65534');
    // From a replica, over the Compose network: the mirror answers read-only pages and refuses the mutating
    // endpoints (quitquitquit) and any other POST with 405.
    const probe = [
      "const ask = (path, method = 'GET') => fetch('http://envoy:9902' + path, { method }).then((r) => r.status);",
      "Promise.all([ask('/stats/prometheus'), ask('/clusters'), ask('/quitquitquit', 'POST'), ask('/stats/prometheus', 'POST')])",
      '.then((codes) => console.log(codes.join(" ")));',
    ].join('');
    const { stdout } = await project.compose('exec', '-T', 'grpc-server', 'node', '-e', probe);
    expect(stdout.trim()).toBe('200 200 405 405');
  }, 60_000);
});
