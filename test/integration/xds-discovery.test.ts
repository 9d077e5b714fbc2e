// Push discovery through a real Envoy: the local stack's control plane (scripts/xds) serves cluster grpc_server over
// CDS/EDS and the routes over RDS, fed by the stack's own process events. Proven from Envoy's admin and from calls:
// balancing over EDS, no failed call across scale-up, SIGKILL and drain (DRAINING sent before the replica stops), a
// policy switch through CDS with no restart, a NACK that leaves Envoy on its last good config, a control plane
// restart that Envoy rides out and reconnects from, and a proxyless grpc-js client balancing on the same endpoints.
import { expect, test } from 'vitest';
import { runLoad } from '../../client/src/index.js';
import { clusterHosts, runningPolicy, serverInfo } from '../../scripts/envoy/index.js';
import { pollUntil } from '../../scripts/stack/index.js';
import { grpcBootstrap, XDS_TYPE, type ControlPlaneStatus } from '../../scripts/xds/index.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

const lab = useLocalStack({ replicas: 3, discovery: 'xds' });

function envoyNode(status: ControlPlaneStatus) {
  const node = status.nodes.find((n) => n.kind === 'envoy');
  if (!node) throw new Error(`no Envoy connected to the control plane: ${JSON.stringify(status.nodes)}`);
  return node;
}

test('Envoy takes grpc_server over EDS: it ACKs CDS, EDS and RDS, and calls balance over the 3 replicas', async () => {
  const { stack } = lab;
  const node = envoyNode(stack.xdsStatus());
  for (const type of [XDS_TYPE.cluster, XDS_TYPE.endpoint, XDS_TYPE.route]) {
    expect(node.types[type]?.ackedVersion, `${type}\n${lab.recentLines()}`).toBe(node.types[type]?.sentVersion);
  }
  const dump = (await (await fetch(`${stack.adminUrl}/config_dump`)).json()) as { configs: { '@type': string; dynamic_active_clusters?: { cluster: { name: string; type: string } }[] }[] };
  const dynamic = dump.configs.find((c) => c['@type'].endsWith('ClustersConfigDump'))?.dynamic_active_clusters ?? [];
  expect(dynamic.map((c) => [c.cluster.name, c.cluster.type])).toEqual([['grpc_server', 'EDS']]);
  const report = await runLoad({ target: stack.envoyTarget, rate: 60, durationS: 1.5, concurrency: 20 });
  expect(report.failed, lab.recentLines()).toBe(0);
  expect(report.hosts.map((h) => h.hostname).sort()).toEqual(['grpc-server-1', 'grpc-server-2', 'grpc-server-3']);
}, 30_000);

test('no failed call across scale-up, SIGKILL and a drain sent as DRAINING before the replica stops', async () => {
  const { stack } = lab;
  const abort = new AbortController();
  const load = runLoad({ target: stack.envoyTarget, rate: 100, untilStopped: true, concurrency: 50 }, { signal: abort.signal });
  try {
    await stack.scale(4);
    await stack.waitForHealthy(4);
    await stack.signalReplica('grpc-server-2', 'SIGKILL');
    // SIGTERM: the stack pushes DRAINING first; Envoy must show it while the replica still drains (3 s).
    const draining = stack.upstreamAddress('grpc-server-3');
    const stopped = stack.signalReplica('grpc-server-3', 'SIGTERM');
    const flags = await pollUntil(
      'Envoy to show grpc-server-3 as DRAINING',
      async () => (await stack.hosts()).find((h) => h.address === draining && h.healthFlags.includes('eds_status_draining'))?.healthFlags,
      { timeoutMs: 2_000, intervalMs: 20 },
    );
    expect(flags).toContain('eds_status_draining');
    await stopped;
    await stack.waitForHealthy(2);
  } finally {
    abort.abort();
  }
  const report = await load;
  expect(report.failed, `${JSON.stringify(report.failedByCode)}\n${lab.recentLines()}`).toBe(0);
  expect(report.ok).toBeGreaterThan(100);
  await stack.scale(3);
  await stack.waitForHealthy(3);
}, 60_000);

test('a policy switch goes through CDS: no Envoy restart, no failed call', async () => {
  const { stack } = lab;
  const abort = new AbortController();
  const load = runLoad({ target: stack.envoyTarget, rate: 80, untilStopped: true, concurrency: 40 }, { signal: abort.signal });
  try {
    await stack.setPolicy({ policy: 'LEAST_REQUEST' });
    expect(await runningPolicy(stack.adminUrl)).toEqual({ policy: 'LEAST_REQUEST' });
    await stack.setPolicy({ policy: 'ROUND_ROBIN', perTryTimeoutMs: 500 });
    expect(await runningPolicy(stack.adminUrl)).toEqual({ policy: 'ROUND_ROBIN', perTryTimeoutMs: 500 });
  } finally {
    abort.abort();
  }
  expect((await serverInfo(stack.adminUrl)).restartEpoch).toBe(0);
  expect((await load).failed).toBe(0);
  await stack.setPolicy({ policy: 'ROUND_ROBIN' });
}, 60_000);

test('Envoy NACKs a cluster it refuses and keeps serving its last good one', async () => {
  const { stack } = lab;
  const plane = stack.controlPlane;
  const good = plane.currentConfig();
  const ackedBefore = envoyNode(plane.status()).types[XDS_TYPE.cluster]?.ackedVersion;
  // connect_timeout must be above 0 (Envoy's own validation): the control plane can encode it, Envoy refuses it.
  plane.setConfig({ ...good, cluster: { ...good.cluster, connect_timeout: '0s' } });
  await expect(plane.waitForEnvoyAck(10_000)).rejects.toThrow(/NACK[\s\S]*ConnectTimeout: value must be greater than 0s/);
  const node = envoyNode(plane.status());
  expect(node.types[XDS_TYPE.cluster]?.ackedVersion).toBe(ackedBefore);
  expect(plane.status().nacks).toBeGreaterThan(0);
  const during = await runLoad({ target: stack.envoyTarget, rate: 50, durationS: 1, concurrency: 20 });
  expect(during.failed).toBe(0);
  expect((await clusterHosts(stack.adminUrl, 'grpc_server')).every((h) => h.healthy)).toBe(true);
  plane.setConfig(good);
  await plane.waitForEnvoyAck(10_000);
}, 30_000);

test('a control plane restart: Envoy serves its last good config meanwhile, reconnects, and takes pushes again', async () => {
  const { stack } = lab;
  const abort = new AbortController();
  const load = runLoad({ target: stack.envoyTarget, rate: 50, untilStopped: true, concurrency: 20 }, { signal: abort.signal });
  try {
    await stack.restartControlPlane(1500);
    const reconnected = await stack.controlPlane.waitFor(
      'Envoy to reconnect and ACK EDS',
      (status) => {
        const state = status.nodes.find((n) => n.kind === 'envoy')?.types[XDS_TYPE.endpoint];
        return state?.ackedVersion !== undefined && state.ackedVersion === state.sentVersion ? state : undefined;
      },
      15_000,
    );
    expect(reconnected.ackedVersion).toBeDefined();
    await stack.scale(4);
    await stack.waitForHealthy(4);
  } finally {
    abort.abort();
  }
  expect((await load).failed, lab.recentLines()).toBe(0);
  await stack.scale(3);
  await stack.waitForHealthy(3);
}, 60_000);

test('a proxyless grpc-js client (xds:///grpc-server) balances over the replicas through the same control plane', async () => {
  const { stack } = lab;
  const report = await runLoad({
    target: 'xds:///grpc-server',
    xdsBootstrap: grpcBootstrap(stack.xdsAddress, 'proxyless-test'),
    rate: 90,
    durationS: 2,
    concurrency: 20,
  });
  expect(report.failed, JSON.stringify(report.failedByCode)).toBe(0);
  expect(report.hosts).toHaveLength(3);
  for (const host of report.hosts) expect(host.share, JSON.stringify(report.hosts)).toBeGreaterThan(0.2);
  const grpcNode = stack.xdsStatus().nodes.find((n) => n.id === 'proxyless-test');
  expect(grpcNode?.kind).toBe('grpc');
}, 30_000);
