// One real Swarm stack of this repository per test file: deploy/swarm/stack.yml under a stack name of its own, its
// images built from the repo's Dockerfile under tags of their own, a free port for Envoy and a fresh folder for its
// admin socket. remove() takes away everything it made, and leaves the Swarm only if it made it and nothing else
// runs on it.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { CLUSTER_NAME, clusterHosts, projectRoot, type UpstreamHost } from '../../scripts/envoy/index.js';
import { freePort, pollUntil } from '../../scripts/stack/index.js';
import { docker } from './docker-cli.js';
import { forwardLoopbackToUnixSocket, type LoopbackForwarder } from './unix-socket-forwarder.js';

/** The uid of the Envoy image's user: the admin socket's folder belongs to it. */
const ENVOY_UID = 101;
const ENVOY_IMAGE = 'envoyproxy/envoy:v1.40.0';
const STACK_FILE = path.join(projectRoot, 'deploy', 'swarm', 'stack.yml');
/** The label `docker stack rm` removes by: services and configs made beside the stack go with it. */
const NAMESPACE_LABEL = 'com.docker.stack.namespace';

/** One running task of a service, as its container shows it. */
export interface SwarmTask {
  /** The container name, <stack>_<service>.<slot>.<task id>: what a replica answers with (REPLICA_NAME). */
  name: string;
  /** Its address on the stack's overlay network. */
  ip: string;
  containerId: string;
}

/** An Envoy beside the stack (docker service create), for the virtual-IP contrast. */
export interface ExtraEnvoy {
  service: string;
  target: string;
  adminUrl: string;
}

export class SwarmStack {
  readonly #docker = new Docker();
  /** Each admin URL handed out, with the socket behind it and the forwarder that offers it on 127.0.0.1. */
  readonly #admins = new Map<string, { socket: string; forwarder: LoopbackForwarder }>();
  readonly #folders: string[] = [];
  #madeSwarm = false;

  private constructor(
    /** The stack name: every service is <name>_<service>, every task <name>_<service>.<slot>.<id>. */
    readonly name: string,
    /** Envoy's gRPC port on this host (host-mode publishing). */
    readonly envoyPort: number,
    readonly images: { server: string; client: string },
  ) {}

  /** A stack name, a port and image tags; nothing runs until deploy(). */
  static async create(): Promise<SwarmStack> {
    // The admin socket opens to uid 101 and root only, as the docs tell users to set it up.
    if (process.getuid?.() !== 0) throw new Error("the Swarm test reads Envoy's admin socket (uid 101 and root only): run it as root");
    const name = `gel-swarm-${randomBytes(3).toString('hex')}`;
    return new SwarmStack(name, await freePort(), { server: `${name}/grpc-server:test`, client: `${name}/grpc-client:test` });
  }

  get target(): string {
    return `127.0.0.1:${this.envoyPort}`;
  }

  /** The full name of one of the stack's services. */
  service(short: string): string {
    return `${this.name}_${short}`;
  }

  get network(): string {
    return `${this.name}_default`;
  }

  /** `docker swarm init --advertise-addr 127.0.0.1` unless this engine already is a manager. */
  async joinOrMakeSwarm(): Promise<void> {
    const state = async () => (await docker(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'])).trim();
    const before = await state();
    if (before === 'active true') return;
    if (!before.startsWith('inactive')) throw new Error(`this engine's Swarm state is "${before}"; the test needs a manager or no Swarm`);
    try {
      await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
      this.#madeSwarm = true;
    } catch (error) {
      // Another run on this engine may have made one a moment ago: use it, and leave it to that run.
      if ((await state()) !== 'active true') throw error;
    }
  }

  /** Builds the server and client images from the repo's Dockerfile under this stack's tags. */
  async buildImages(): Promise<void> {
    for (const [target, tag] of [['server', this.images.server], ['client', this.images.client]] as const) {
      await docker(['build', '--quiet', '--target', target, '--tag', tag, '.'], { cwd: projectRoot, timeoutMs: 10 * 60_000 });
    }
  }

  /** `docker stack deploy` of deploy/swarm/stack.yml; resolves with the admin URL once the admin socket answers. */
  async deploy(): Promise<string> {
    const adminDir = this.#adminFolder();
    const env = {
      ...process.env,
      ENVOY_PORT: String(this.envoyPort),
      ENVOY_ADMIN_DIR: adminDir,
      SERVER_IMAGE: this.images.server,
      CLIENT_IMAGE: this.images.client,
    };
    // --resolve-image never: the images exist on this node only, and no registry is asked for a digest.
    await docker(['stack', 'deploy', '--resolve-image', 'never', '--compose-file', STACK_FILE, this.name], { env });
    return this.#openAdmin(adminDir);
  }

  /** The socket file Envoy of the stack serves its admin on, in the folder bind-mounted from this host. */
  adminSocketOf(adminUrl: string): string {
    const admin = this.#admins.get(adminUrl);
    if (!admin) throw new Error(`no admin socket behind ${adminUrl}`);
    return admin.socket;
  }

  /** The tasks Swarm means to run (desired state running) that do run, as Swarm lists them; oldest slot first. */
  async tasks(short: string): Promise<SwarmTask[]> {
    const service = (await this.#docker.getService(this.service(short)).inspect()) as { ID: string };
    const tasks = (await this.#docker.listTasks({
      filters: { service: [service.ID], 'desired-state': ['running'] },
    })) as {
      ID: string;
      ServiceID: string;
      Slot?: number;
      NodeID?: string;
      Status?: { State?: string; ContainerStatus?: { ContainerID?: string } };
      NetworksAttachments?: { Network?: { Spec?: { Name?: string } }; Addresses?: string[] }[];
    }[];
    return tasks
      .filter((task) => task.ServiceID === service.ID && task.Status?.State === 'running')
      .map((task) => ({
        // The container's name, and so the replica's REPLICA_NAME: <service>.<slot>.<task id> (a global service
        // would use the node id in place of the slot; none here is global).
        name: `${this.service(short)}.${task.Slot ?? task.NodeID}.${task.ID}`,
        ip:
          task.NetworksAttachments?.find((attachment) => attachment.Network?.Spec?.Name === this.network)?.Addresses?.[0]?.split('/')[0] ??
          '',
        containerId: task.Status?.ContainerStatus?.ContainerID ?? '',
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Waits until Envoy routes to exactly the grpc-server tasks Swarm runs, `count` of them, all healthy. On a
   * timeout the error says what each side last showed.
   */
  async waitForEnvoy(adminUrl: string, count: number, timeoutMs = 90_000): Promise<UpstreamHost[]> {
    let last = 'nothing read yet';
    try {
      return await pollUntil(
        `Envoy to route to exactly the ${count} grpc-server tasks Swarm runs, all healthy`,
        async () => {
          const [hosts, tasks] = await Promise.all([clusterHosts(adminUrl, CLUSTER_NAME), this.tasks('grpc-server')]);
          const running = tasks.map((task) => `${task.ip}:8080`).sort();
          const routed = hosts.map((host) => host.address).sort();
          last = `Swarm runs ${running.join(' ') || 'none'}; Envoy has ${hosts.map((h) => `${h.address}(${h.healthFlags.join(',')})`).join(' ') || 'none'}`;
          const same = running.length === count && JSON.stringify(routed) === JSON.stringify(running);
          return same && hosts.every((host) => host.healthy) ? hosts : undefined;
        },
        { timeoutMs, intervalMs: 250 },
      );
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; last seen: ${last}`);
    }
  }

  /** `docker service scale`, returning at once: the caller waits on Envoy's view. */
  async scale(short: string, replicas: number): Promise<void> {
    await docker(['service', 'scale', '--detach', `${this.service(short)}=${replicas}`]);
  }

  /** `docker service update --force`: every task replaced per update_config; resolves once Swarm says completed. */
  async forceUpdate(short: string, timeoutMs = 150_000): Promise<void> {
    const service = this.service(short);
    const before = await this.#updateStatus(service);
    await docker(['service', 'update', '--force', '--detach', service]);
    await pollUntil(
      `the rolling update of ${service} to complete`,
      async () => {
        const status = await this.#updateStatus(service);
        if (status.startedAt === before.startedAt) return undefined;
        if (status.state.startsWith('rollback') || status.state === 'paused') {
          throw new Error(`the update of ${service} ended ${status.state}: ${status.message}`);
        }
        return status.state === 'completed';
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** SIGKILL, as a crash: Swarm's restart policy replaces the task. */
  async kill(task: SwarmTask): Promise<void> {
    await this.#docker.getContainer(task.containerId).kill({ signal: 'SIGKILL' });
  }

  /** Runs a command in a task's container and resolves with its stdout. */
  exec(task: SwarmTask, command: string[]): Promise<string> {
    return docker(['exec', task.containerId, ...command], { timeoutMs: 20_000 });
  }

  /** The virtual IP of a service on the stack's network (the one address its bare name resolves to). */
  async virtualIp(short: string): Promise<string> {
    const [service, network] = await Promise.all([
      this.#docker.getService(this.service(short)).inspect() as Promise<{
        Endpoint?: { VirtualIPs?: { NetworkID?: string; Addr?: string }[] };
      }>,
      this.#docker.getNetwork(this.network).inspect() as Promise<{ Id: string }>,
    ]);
    const vip = service.Endpoint?.VirtualIPs?.find((entry) => entry.NetworkID === network.Id)?.Addr?.split('/')[0];
    if (!vip) throw new Error(`${this.service(short)} has no virtual IP on ${this.network}`);
    return vip;
  }

  /** What `docker service inspect` says of a service's endpoint: its mode and its published ports. */
  async endpointOf(short: string): Promise<{ mode: string; ports: { target: number; publishMode: string }[] }> {
    const info = (await this.#docker.getService(this.service(short)).inspect()) as {
      Spec?: { EndpointSpec?: { Mode?: string; Ports?: { TargetPort?: number; PublishMode?: string }[] } };
    };
    const spec = info.Spec?.EndpointSpec;
    return {
      mode: spec?.Mode ?? 'vip',
      ports: (spec?.Ports ?? []).map((port) => ({ target: port.TargetPort ?? 0, publishMode: port.PublishMode ?? '' })),
    };
  }

  /**
   * An Envoy beside the stack, on its network under `short`, running `config` as the stack's Envoy runs its own
   * (same image, user, flags and hardening), published on a free port, with an admin socket of its own.
   */
  async addEnvoy(short: string, config: string): Promise<ExtraEnvoy> {
    const configName = await this.#addConfig(short, config);
    const adminDir = this.#adminFolder();
    const port = await freePort();
    await this.#createService(short, [
      '--publish', `mode=host,target=5000,published=${port}`,
      '--mount', `type=bind,source=${adminDir},target=/run/envoy-admin`,
      '--config', `source=${configName},target=/etc/envoy/envoy.yaml,mode=0444`,
      ENVOY_IMAGE, 'envoy', '-c', '/etc/envoy/envoy.yaml', '--log-level', 'warning', '--concurrency', '2',
    ]);
    return { service: this.service(short), target: `127.0.0.1:${port}`, adminUrl: await this.#openAdmin(adminDir) };
  }

  /** A per-connection TCP balancer (Envoy's tcp_proxy, test/fixtures/swarm/l4-balancer.yaml) on the network as `short`. */
  async addL4Balancer(short: string, config: string): Promise<void> {
    const configName = await this.#addConfig(short, config);
    await this.#createService(short, [
      '--config', `source=${configName},target=/etc/envoy/envoy.yaml,mode=0444`,
      ENVOY_IMAGE, 'envoy', '-c', '/etc/envoy/envoy.yaml', '--log-level', 'warning', '--concurrency', '1',
    ]);
  }

  /** The last lines a service printed, for a failure message or a check of its log. */
  async logs(short: string, tail = 200): Promise<string[]> {
    const out = await docker(['service', 'logs', '--raw', '--no-trunc', '--tail', String(tail), this.service(short)]);
    return out.split('\n').filter((line) => line !== '');
  }

  /** Removes the stack and all it made: services, tasks, network, configs, image tags, folders; the Swarm if made here. */
  async remove(): Promise<void> {
    for (const { forwarder } of this.#admins.values()) await forwarder.close();
    this.#admins.clear();
    await docker(['stack', 'rm', this.name]).catch(() => undefined);
    const label = `${NAMESPACE_LABEL}=${this.name}`;
    await pollUntil(
      `the containers of stack ${this.name} to be gone`,
      async () => (await this.#docker.listContainers({ all: true, filters: { label: [label] } })).length === 0,
      { timeoutMs: 60_000, intervalMs: 500 },
    ).catch(() => undefined);
    // stack rm gives up on a network whose last endpoint is still detaching; try again until it is gone.
    await pollUntil(
      `network ${this.network} to be gone`,
      async () => {
        const networks = await this.#docker.listNetworks({ filters: { name: [this.network] } });
        if (!networks.some((network) => network.Name === this.network)) return true;
        await docker(['network', 'rm', this.network]).catch(() => undefined);
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    ).catch(() => undefined);
    for (const image of [this.images.server, this.images.client]) await docker(['image', 'rm', image]).catch(() => undefined);
    for (const folder of this.#folders.splice(0)) rmSync(folder, { recursive: true, force: true });
    // Leave the Swarm only if this run made it and no one else's service has joined it since.
    if (this.#madeSwarm && (await this.#docker.listServices()).length === 0) {
      await docker(['swarm', 'leave', '--force']).catch(() => undefined);
      // The bridge Swarm made for its tasks' outside traffic outlives the Swarm; nothing else uses it.
      await docker(['network', 'rm', 'docker_gwbridge']).catch(() => undefined);
    }
  }

  /** A folder for an admin socket, as the docs say to make one: owned by Envoy's uid, closed to everyone else. */
  #adminFolder(): string {
    const folder = mkdtempSync(path.join(tmpdir(), 'swarm-admin-'));
    chownSync(folder, ENVOY_UID, ENVOY_UID);
    chmodSync(folder, 0o700);
    this.#folders.push(folder);
    return folder;
  }

  /** Waits for Envoy's admin socket in `folder`, and offers it on 127.0.0.1 (as socat would) for the admin reader. */
  async #openAdmin(folder: string): Promise<string> {
    const socket = path.join(folder, 'admin.sock');
    await pollUntil(`Envoy's admin socket ${socket}`, () => existsSync(socket), { timeoutMs: 60_000, intervalMs: 250 });
    const forwarder = await forwardLoopbackToUnixSocket(socket);
    this.#admins.set(forwarder.url, { socket, forwarder });
    return forwarder.url;
  }

  async #addConfig(short: string, content: string): Promise<string> {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'swarm-config-')), 'envoy.yaml');
    writeFileSync(file, content);
    const name = `${this.service(short)}_config`;
    try {
      await docker(['config', 'create', '--label', `${NAMESPACE_LABEL}=${this.name}`, name, file]);
    } finally {
      rmSync(path.dirname(file), { recursive: true, force: true });
    }
    return name;
  }

  /** docker service create on the stack's network, labelled as the stack's, with the stack's Envoy hardening. */
  async #createService(short: string, rest: string[]): Promise<void> {
    await docker([
      'service', 'create', '--detach', '--quiet', '--no-resolve-image',
      '--name', this.service(short),
      '--label', `${NAMESPACE_LABEL}=${this.name}`,
      '--network', `name=${this.network},alias=${short}`,
      '--endpoint-mode', 'dnsrr',
      '--user', '101:101', '--read-only', '--cap-drop', 'ALL', '--init',
      ...rest,
    ]);
  }

  async #updateStatus(service: string): Promise<{ state: string; startedAt: string; message: string }> {
    const info = (await this.#docker.getService(service).inspect()) as {
      UpdateStatus?: { State?: string; StartedAt?: string; Message?: string };
    };
    return {
      state: info.UpdateStatus?.State ?? 'none',
      startedAt: info.UpdateStatus?.StartedAt ?? '',
      message: info.UpdateStatus?.Message ?? '',
    };
  }
}
