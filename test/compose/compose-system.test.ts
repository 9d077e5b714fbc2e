// `docker compose up --build --scale grpc-server=3` for real, and what a user then sees and does: the client's
// lines rotating over the replicas by their Compose names, Envoy's /clusters, scaling, a kill, a graceful stop and
// runtime faults under steady load with no failed call, and the admin on 127.0.0.1 only.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Docker from 'dockerode';
import { runLoad, type LoadReport } from '../../client/src/index.js';
import { clusterHosts } from '../../scripts/envoy/admin.js';
import { CLUSTER_NAME } from '../../scripts/envoy/config.js';
import { pollUntil } from '../../scripts/stack/poll-until.js';
import { ComposeProject } from '../helpers/compose-project.js';

const docker = new Docker();
let project: ComposeProject;

beforeAll(async () => {
  project = await ComposeProject.create();
  await project.up(3);
}, 10 * 60_000);

afterAll(async () => {
  await project?.down();
}, 2 * 60_000);

/** Steady open-loop load from the host through Envoy's published port while `during` runs. */
async function underLoad(rate: number, during: () => Promise<void>): Promise<LoadReport> {
  const stop = new AbortController();
  const load = runLoad({ target: project.target, rate, concurrency: 50, durationS: 120, deadlineMs: 2000 }, { signal: stop.signal });
  try {
    await during();
  } finally {
    stop.abort();
  }
  return load;
}

/** The running grpc-server containers of the project, by Compose name. */
async function replicaContainers(): Promise<Docker.ContainerInfo[]> {
  const list = await docker.listContainers({
    filters: { label: [`com.docker.compose.project=${project.name}`, 'com.docker.compose.service=grpc-server'] },
  });
  return list.sort((a, b) => (a.Names[0] ?? '').localeCompare(b.Names[0] ?? ''));
}

describe('docker compose up --build --scale grpc-server=3', () => {
  test("the client's lines rotate over the 3 replicas, named as `docker compose ps` names them", async () => {
    const names = [1, 2, 3].map((n) => `${project.name}-grpc-server-${n}`);
    const lines = await pollUntil(
      'six calls in the client log',
      async () => {
        const calls = (await project.logs('grpc-client')).filter((line) => / #\d+ \S+ [\d.]+ms OK$/.test(line));
        return calls.length >= 6 ? calls : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    const answeredBy = lines.slice(0, 6).map((line) => line.split(' ')[2]);
    // Round robin on the client's one connection: any three consecutive calls meet all three replicas.
    expect(new Set(answeredBy.slice(0, 3))).toEqual(new Set(names));
    expect(new Set(answeredBy.slice(3, 6))).toEqual(new Set(names));
  });

  test('Envoy lists each replica container as a healthy host; each replica prints one start line', async () => {
    const hosts = await clusterHosts(project.adminUrl, CLUSTER_NAME);
    const containers = await replicaContainers();
    const addresses = containers.map((c) => `${Object.values(c.NetworkSettings.Networks)[0]?.IPAddress}:8080`);
    expect(hosts.map((h) => h.address).sort()).toEqual(addresses.sort());
    expect(hosts.every((h) => h.healthy)).toBe(true);

    const serverLines = await project.logs('grpc-server');
    const starts = serverLines.filter((line) => / listening grpc=0\.0\.0\.0:8080 /.test(line));
    expect(starts).toHaveLength(3);
    expect(starts.every((line) => line.includes(' name="reverse-dns '))).toBe(true);
  });

  test("Envoy's own log holds no start-up inventory: it runs at warning level", async () => {
    const envoyLines = await project.logs('envoy');
    expect(envoyLines.filter((line) => /\]\[info\]\[/.test(line))).toEqual([]);
    // Its access log does go there: one JSON line per call, naming the replica address.
    expect(envoyLines.some((line) => line.startsWith('{"attempts":'))).toBe(true);
  });

  test('every container runs as a non-root user, read-only, with no capabilities, no new privileges, limits and no Docker socket', async () => {
    const list = await docker.listContainers({ filters: { label: [`com.docker.compose.project=${project.name}`] } });
    expect(list.length).toBe(5);
    for (const summary of list) {
      const info = await docker.getContainer(summary.Id).inspect();
      const name = info.Name;
      expect(info.Config.User, `${name} user`).not.toMatch(/^(|0|root)(:|$)/);
      expect(info.HostConfig.ReadonlyRootfs, `${name} read-only`).toBe(true);
      expect(info.HostConfig.CapDrop, `${name} cap_drop`).toEqual(['ALL']);
      expect(info.HostConfig.CapAdd ?? [], `${name} cap_add`).toEqual([]);
      expect(info.HostConfig.Privileged, `${name} privileged`).toBe(false);
      expect(info.HostConfig.SecurityOpt, `${name} security_opt`).toContain('no-new-privileges:true');
      expect(info.HostConfig.Memory, `${name} memory limit`).toBeGreaterThan(0);
      expect(info.HostConfig.PidsLimit, `${name} pids limit`).toBeGreaterThan(0);
      expect(info.HostConfig.NanoCpus, `${name} cpu limit`).toBeGreaterThan(0);
      expect(info.Mounts.map((m) => m.Source).filter((source) => source.includes('docker.sock')), name).toEqual([]);
    }
  });

  test('each image holds only the packages its program imports: no lab tooling, no compiler', async () => {
    for (const service of ['grpc-server', 'grpc-client']) {
      const { stdout } = await project.compose('exec', '-T', service, 'ls', 'node_modules', 'node_modules/@grpc');
      const packages = stdout.split(/\s+/);
      for (const lab of ['dockerode', 'ssh2', 'dns-packet', 'yaml', 'typescript', 'tsx', 'vitest']) {
        expect(packages, `${service} ships ${lab}`).not.toContain(lab);
      }
      expect(packages).toContain('grpc-js');
    }
  });

  test("the admin answers on 127.0.0.1 only, read-only; gRPC also on the host's other addresses", async () => {
    const envoy = (await docker.listContainers({
      filters: { label: [`com.docker.compose.project=${project.name}`, 'com.docker.compose.service=envoy'] },
    }))[0];
    const bindings = envoy?.Ports.filter((p) => p.PublicPort !== undefined) ?? [];
    // What the host publishes is the admin's read-only mirror (9902); the admin itself is on the container's loopback.
    expect(bindings.find((p) => p.PrivatePort === 9902)?.IP).toBe('127.0.0.1');
    expect(bindings.some((p) => p.PrivatePort === 9901)).toBe(false);
    expect((await fetch(`${project.adminUrl}/quitquitquit`, { method: 'POST' })).status).toBe(405);
    // The project network's gateway is this host's address on that bridge: not loopback.
    const network = await docker.getNetwork(`${project.name}_default`).inspect();
    const gateway = (network.IPAM?.Config?.[0] as { Gateway?: string } | undefined)?.Gateway;
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    await expect(fetch(`http://${gateway}:${project.adminPort}/ready`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    expect(await (await fetch(`${project.adminUrl}/ready`)).text()).toBe('LIVE\n');
    const viaGateway = await runLoad({ target: `${gateway}:${project.proxyPort}`, count: 5, concurrency: 1 });
    expect(viaGateway.ok).toBe(5);
  });
});

describe('changing the system under 50 calls/s, with no failed call', () => {
  test('scale 3 -> 5 -> 2: the new replicas answer, the removed ones drain', async () => {
    const seen = new Set<string>();
    const report = await underLoad(50, async () => {
      await project.compose('up', '-d', '--no-recreate', '--scale', 'grpc-server=5');
      await project.waitForHealthy(5);
      await project.compose('up', '-d', '--no-recreate', '--scale', 'grpc-server=2');
      await project.waitForHealthy(2);
    });
    for (const host of report.hosts) seen.add(host.hostname);
    expect(report.failed, JSON.stringify(report.failedByCode)).toBe(0);
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5].map((n) => `${project.name}-grpc-server-${n}`));
    await project.compose('up', '-d', '--no-recreate', '--scale', 'grpc-server=3');
    await project.waitForHealthy(3);
  });

  test('docker kill of one replica, then docker compose stop of another', async () => {
    const report = await underLoad(50, async () => {
      const [, second, third] = await replicaContainers();
      await docker.getContainer(second!.Id).kill({ signal: 'SIGKILL' });
      await project.waitForHealthy(2);
      await docker.getContainer(third!.Id).stop({ t: 10 });
      await project.waitForHealthy(1);
    });
    expect(report.failed, JSON.stringify(report.failedByCode)).toBe(0);
    expect(report.sent).toBeGreaterThan(100);
    await project.compose('up', '-d', '--no-recreate', '--scale', 'grpc-server=3');
    await project.waitForHealthy(3);
  });

  test('greeterctl in a replica: NOT_SERVING takes it out of rotation, 90 % UNAVAILABLE gets it ejected', async () => {
    const replica = `${project.name}-grpc-server-2`;
    const flags = async (): Promise<string[]> => {
      const containers = await replicaContainers();
      const ip = Object.values(containers.find((c) => c.Names[0] === `/${replica}`)!.NetworkSettings.Networks)[0]?.IPAddress;
      return (await clusterHosts(project.adminUrl, CLUSTER_NAME)).find((h) => h.address === `${ip}:8080`)?.healthFlags ?? [];
    };
    const report = await underLoad(50, async () => {
      await project.compose('exec', '--index', '2', 'grpc-server', 'greeterctl', 'health', 'not-serving');
      await pollUntil('failed_active_hc', async () => (await flags()).includes('failed_active_hc'), { timeoutMs: 5000 });
      await project.compose('exec', '--index', '2', 'grpc-server', 'greeterctl', 'reset');
      await pollUntil('healthy again', async () => (await flags()).includes('healthy'), { timeoutMs: 5000 });
      await project.compose('exec', '--index', '2', 'grpc-server', 'greeterctl', 'fail', '0.9', '--code', 'UNAVAILABLE');
      await pollUntil('failed_outlier_check', async () => (await flags()).includes('failed_outlier_check'), { timeoutMs: 5000 });
      await project.compose('exec', '--index', '2', 'grpc-server', 'greeterctl', 'reset');
    });
    // Retries on another replica hide every injected failure from the client.
    expect(report.failed, JSON.stringify(report.failedByCode)).toBe(0);
  });
});
