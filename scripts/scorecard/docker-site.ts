// The contenders as containers on the Compose project's own network, beside its replicas: official images at pinned
// tags (stand-ins built by `npm run setup:standins` where no registry answers), the configs in balancers/ mounted
// read-only as they are, so they find the replicas exactly as the project's Envoy does (Docker's DNS). Each runs as a
// non-root user, with every capability dropped, a read-only root file system and no Docker socket. The host calls
// each one at its container address, the path the direct calls take too; an Envoy's admin is published on
// 127.0.0.1 only. Every container carries the project's label, so `docker compose down --remove-orphans` also
// removes one a crashed run left behind.
import Docker from 'dockerode';
import { pinnedEnvoyVersion } from '../envoy/index.js';
import { LabError, type DockerDriver } from '../drivers/index.js';
import { messageOf } from '../cli/command-line.js';
import { pollUntil } from '../stack/index.js';
import { CONFIG_FILES } from './balancer-configs.js';
import type { BalancerKind, BalancerSite, RunningBalancer } from './site.js';
import { waitAccepting } from './tcp-ready.js';

/** The images, pinned; nginx and HAProxy at the versions Debian bookworm ships (setup-standins.sh builds the same tags). */
export const BALANCER_IMAGES: Record<BalancerKind, string> = {
  'envoy-l7': `envoyproxy/envoy:v${pinnedEnvoyVersion()}`,
  'envoy-l4': `envoyproxy/envoy:v${pinnedEnvoyVersion()}`,
  nginx: 'nginx:1.22.1',
  haproxy: 'haproxy:2.6.12',
};

/**
 * The port every contender listens on inside its container (as the Compose file's Envoy does), and where an Envoy's
 * admin can be read from outside it: the admin_readonly mirror (GET only), as Compose publishes it, because the admin
 * itself listens on the container's loopback.
 */
const LISTEN_PORT = 5000;
const ADMIN_PORT = 9902;
const CONFIG_DIR = '/etc/scorecard';

interface ContainerSpec {
  user: string;
  config: { file: string; mountedAs: string };
  cmd: string[];
  admin: boolean;
}

const SPECS: Record<BalancerKind, ContainerSpec> = {
  'envoy-l7': envoySpec(CONFIG_FILES['envoy-l7']),
  'envoy-l4': envoySpec(CONFIG_FILES['envoy-l4']),
  // The official image's nginx user; -e stderr: the default error log path is not writable there.
  nginx: { user: '101:101', config: { file: CONFIG_FILES.nginx, mountedAs: `${CONFIG_DIR}/nginx.conf` }, cmd: ['nginx', '-e', 'stderr', '-c', `${CONFIG_DIR}/nginx.conf`], admin: false },
  // The official image's haproxy user; -db: in the foreground.
  haproxy: { user: '99:99', config: { file: CONFIG_FILES.haproxy, mountedAs: `${CONFIG_DIR}/haproxy.cfg` }, cmd: ['haproxy', '-db', '-f', `${CONFIG_DIR}/haproxy.cfg`], admin: false },
};

function envoySpec(file: string): ContainerSpec {
  // The image's envoy user; hot restart off (no shared memory to share); two workers, as nginx and HAProxy get two.
  const cmd = ['envoy', '-c', `${CONFIG_DIR}/envoy.yaml`, '--disable-hot-restart', '--concurrency', '2', '--log-level', 'warning'];
  return { user: '101:101', config: { file, mountedAs: `${CONFIG_DIR}/envoy.yaml` }, cmd, admin: true };
}

export class DockerBalancerSite implements BalancerSite {
  readonly kind = 'docker' as const;
  private readonly running = new Set<RunningBalancer>();

  private constructor(
    private readonly driver: DockerDriver,
    private readonly docker: Docker,
    private readonly project: string,
  ) {}

  /** Checks every image first, so a missing one fails the scorecard before it starts anything. */
  static async open(driver: DockerDriver, docker: Docker = new Docker()): Promise<DockerBalancerSite> {
    for (const image of new Set(Object.values(BALANCER_IMAGES))) await ensureImage(docker, image);
    return new DockerBalancerSite(driver, docker, await driver.project());
  }

  async start(balancer: BalancerKind): Promise<RunningBalancer> {
    const spec = SPECS[balancer];
    const network = `${this.project}_default`;
    const container = await this.dockerCall(`create the ${balancer} container`, () =>
      this.docker.createContainer({
        name: `${this.project}-scorecard-${balancer}-${Date.now().toString(36)}`,
        Image: BALANCER_IMAGES[balancer],
        Cmd: spec.cmd,
        User: spec.user,
        Labels: { 'com.docker.compose.project': this.project, 'com.docker.compose.service': `scorecard-${balancer}` },
        ExposedPorts: spec.admin ? { [`${ADMIN_PORT}/tcp`]: {} } : {},
        HostConfig: {
          NetworkMode: network,
          Binds: [`${spec.config.file}:${spec.config.mountedAs}:ro`],
          // Loopback only, as Compose publishes it. HostPort '' = any free port.
          PortBindings: spec.admin ? { [`${ADMIN_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] } : {},
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges:true'],
          ReadonlyRootfs: true,
          Tmpfs: { '/tmp': '' },
          NanoCpus: 2_000_000_000, // Two cores, as the project's Envoy gets.
          Memory: 256 * 1024 * 1024,
          PidsLimit: 64,
          Init: true,
        },
      }),
    );
    const stop = async (): Promise<void> => {
      this.running.delete(running);
      await container.remove({ force: true }).catch(() => undefined);
    };
    const running: RunningBalancer = { target: '', cpuSeconds: async () => 0, stop };
    this.running.add(running);
    try {
      await this.dockerCall(`start the ${balancer} container`, () => container.start());
      const info = await container.inspect();
      const address = info.NetworkSettings.Networks[network]?.IPAddress;
      if (!address) throw new LabError(`the ${balancer} container has no address on ${network}`);
      const target = `${address}:${LISTEN_PORT}`;
      await waitAccepting(balancer, target, () => undefined).catch(async (error: unknown) => {
        throw new LabError(`${messageOf(error)} (its last lines: ${await lastLogLines(container)})`);
      });
      const adminPort = info.NetworkSettings.Ports[`${ADMIN_PORT}/tcp`]?.[0]?.HostPort;
      Object.assign(running, {
        target,
        ...(spec.admin && adminPort ? { adminUrl: `http://127.0.0.1:${adminPort}` } : {}),
        cpuSeconds: async () => {
          const stats = (await container.stats({ stream: false, 'one-shot': true } as { stream: false })) as { cpu_stats?: { cpu_usage?: { total_usage?: number } } };
          return (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e9;
        },
      });
      return running;
    } catch (error) {
      await stop();
      throw error;
    }
  }

  async clientSideTarget(): Promise<{ target: string; how: string }> {
    return {
      target: await this.directTarget(),
      how: "the replicas' container addresses as listed at the start (the host cannot ask Docker's DNS, which answers inside the network only): what a DNS name resolved once gives",
    };
  }

  async directTarget(): Promise<string> {
    const replicas = (await this.driver.replicas()).filter((r) => r.state === 'running');
    return `ipv4:${replicas.map((r) => `${r.address}:${r.port}`).join(',')}`;
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map((balancer) => balancer.stop()));
  }

  private async dockerCall<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const engine = (error as { json?: { message?: unknown } }).json?.message;
      throw new LabError(`cannot ${action}: ${typeof engine === 'string' ? engine.trim() : messageOf(error)}`);
    }
  }
}

/** The image exists, or is pulled; where neither works, one line says how to build a stand-in. */
async function ensureImage(docker: Docker, image: string): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch {
    // Not here yet: pull it below.
  }
  try {
    const stream = await docker.pull(image);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve())));
    await pollUntil(`image ${image}`, async () => docker.getImage(image).inspect(), { timeoutMs: 10_000 });
  } catch (error) {
    throw new LabError(`image ${image} is missing and cannot be pulled (${messageOf(error)}); where no registry answers, run \`npm run setup:standins\``);
  }
}

async function lastLogLines(container: Docker.Container): Promise<string> {
  const raw = await container.logs({ stdout: true, stderr: true, follow: false, tail: 5 }).catch(() => Buffer.from(''));
  // The multiplexed stream's 8-byte frame headers are not text: keep the printable part of each line.
  return raw.toString('latin1').replace(/[^\x20-\x7e\n]/g, '').trim().split('\n').slice(-3).join(' | ') || 'no output';
}
