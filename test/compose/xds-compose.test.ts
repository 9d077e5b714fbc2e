// Push discovery under Compose, for real: `lab discovery xds` starts the control plane on the host (`npm run xds`,
// fed by Docker's event stream through dockerode; no container gets the Docker socket) and hot-restarts the Envoy
// container onto the EDS config derived from envoy.yaml, which reaches the control plane as host.docker.internal.
// Then, under steady load: scale-up, SIGKILL and a drain (Docker's SIGTERM → DRAINING) with no failed call, and a
// proxyless grpc-js client on the host balancing over the containers through the same control plane.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runLoad, type LoadReport } from '../../client/src/index.js';
import type { DockerDriver } from '../../scripts/drivers/index.js';
import { clusterHosts, serverInfo } from '../../scripts/envoy/index.js';
import { pollUntil } from '../../scripts/stack/index.js';
import { ComposeProject } from '../helpers/compose-project.js';

let project: ComposeProject;
let driver: DockerDriver;

beforeAll(async () => {
  project = await ComposeProject.create();
  await project.up(3);
  driver = project.driver();
  await driver.setDiscovery('xds');
}, 10 * 60_000);

afterAll(async () => {
  await project?.down();
  await driver?.down(); // Compose has nothing left; this stops the project's control plane.
}, 2 * 60_000);

async function underLoad(rate: number, during: () => Promise<void>): Promise<LoadReport> {
  const stop = new AbortController();
  const load = runLoad({ target: project.target, rate, concurrency: 50, untilStopped: true, deadlineMs: 2000 }, { signal: stop.signal });
  try {
    await during();
  } finally {
    stop.abort();
  }
  return load;
}

test('Envoy runs on EDS from the host control plane: 3 hosts by their container addresses, calls balance', async () => {
  expect(await driver.discovery()).toBe('xds');
  expect((await serverInfo(project.adminUrl)).restartEpoch).toBe(1);
  const hosts = await project.waitForHealthy(3);
  const replicas = await driver.replicas();
  expect(hosts.map((h) => h.address).sort()).toEqual(replicas.map((r) => `${r.address}:8080`).sort());
  const report = await runLoad({ target: project.target, rate: 60, durationS: 1.5, concurrency: 20 });
  expect(report.failed).toBe(0);
  expect(report.hosts).toHaveLength(3);
}, 60_000);

test('no failed call across scale-up, SIGKILL and a drain that Envoy sees as DRAINING', async () => {
  const report = await underLoad(100, async () => {
    await driver.scale(4);
    const [first, second] = await driver.replicas();
    if (!first || !second) throw new Error('expected 4 replicas');
    await driver.kill(first.name);
    const draining = `${second.address}:${second.port}`;
    const stopped = driver.stop(second.name);
    await pollUntil(
      'Envoy to show the stopping replica as DRAINING',
      async () => (await clusterHosts(project.adminUrl, 'grpc_server')).find((h) => h.address === draining)?.healthFlags.includes('eds_status_draining'),
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    await stopped;
    await project.waitForHealthy(2);
  });
  expect(report.failed, `${JSON.stringify(report.failedByCode)}\n${await project.recentLogs()}`).toBe(0);
  expect(report.ok).toBeGreaterThan(100);
  await driver.scale(3);
}, 3 * 60_000);

test('a proxyless grpc-js client on the host balances over the containers through the same control plane', async () => {
  await project.waitForHealthy(3);
  const report = await runLoad({ target: 'xds:///grpc-server', xdsBootstrap: await driver.xdsBootstrap('compose-proxyless-test'), rate: 60, durationS: 2, concurrency: 20 });
  expect(report.failed, JSON.stringify(report.failedByCode)).toBe(0);
  expect(report.hosts).toHaveLength(3);
  for (const host of report.hosts) expect(host.hostname.startsWith(`${project.name}-grpc-server-`)).toBe(true);
}, 60_000);

test('a policy switch under xDS goes to the control plane (CDS): Envoy is not restarted', async () => {
  const epoch = (await serverInfo(project.adminUrl)).restartEpoch;
  await driver.setPolicy({ policy: 'LEAST_REQUEST' });
  expect(await driver.policy()).toEqual({ policy: 'LEAST_REQUEST' });
  await driver.setPolicy({ policy: 'ROUND_ROBIN' });
  expect(await driver.policy()).toEqual({ policy: 'ROUND_ROBIN' });
  expect((await serverInfo(project.adminUrl)).restartEpoch).toBe(epoch);
}, 60_000);

test('back to DNS: a hot restart onto envoy.yaml as is', async () => {
  await driver.setDiscovery('dns');
  expect(await driver.discovery()).toBe('dns');
  await project.waitForHealthy(3);
}, 60_000);
