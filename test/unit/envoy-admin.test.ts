// The admin-API reader against /clusters and /stats output captured from the pinned Envoy (1.40.0): one
// healthy host, one failing its active health check, one ejected by outlier detection.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { clusterHosts, stats } from '../../scripts/envoy/admin.js';

const fixtures = new URL('../fixtures/envoy-1.40.0/', import.meta.url);
let server: http.Server;
let adminUrl: string;

beforeAll(async () => {
  // A stand-in admin that serves the captured answers byte for byte.
  server = http.createServer((request, response) => {
    const file = request.url?.startsWith('/clusters') ? 'clusters.json' : request.url?.startsWith('/stats') ? 'stats-grpc_server.json' : undefined;
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(new URL(file, fixtures)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  adminUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

test('reads each host with its health flags and per-host counters', async () => {
  const hosts = await clusterHosts(adminUrl, 'grpc_server');
  expect(hosts.map((h) => [h.address, h.healthy, h.healthFlags])).toEqual([
    ['127.186.24.2:45051', true, ['healthy']],
    ['127.186.24.3:45051', false, ['failed_active_hc']],
    ['127.186.24.4:45051', false, ['failed_outlier_check']],
  ]);
  expect(hosts[0]?.stats.rq_total).toBe(53);
  expect(hosts[2]?.ejectedByOutlierDetection).toBe(true);
  expect(hosts[1]?.failedActiveHealthCheck).toBe(true);
  // A stat Envoy omits because it is zero reads as 0, not undefined.
  expect(hosts[0]?.stats.cx_connect_fail).toBe(0);
});

test('an unknown cluster is an error, not an empty list', async () => {
  await expect(clusterHosts(adminUrl, 'no_such_cluster')).rejects.toThrow('Envoy has no cluster named no_such_cluster');
});

test('reads counters and gauges from /stats and skips histograms', async () => {
  const values = await stats(adminUrl, '^cluster\\.grpc_server\\.');
  expect(values.get('cluster.grpc_server.membership_total')).toBe(3);
  expect(values.get('cluster.grpc_server.outlier_detection.ejections_enforced_total')).toBeGreaterThanOrEqual(1);
  for (const [name, value] of values) expect(Number.isFinite(value), name).toBe(true);
});

test('an unreachable admin is an error', async () => {
  await expect(clusterHosts('http://127.0.0.1:1', 'grpc_server', 500)).rejects.toThrow();
});
