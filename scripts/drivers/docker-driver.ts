// The lab over this checkout's Compose project: replicas are its grpc-server containers, found by Compose's labels
// through the Engine API (dockerode); what Compose itself must do (up, scale, down) goes through the `docker compose`
// CLI, so the project name, the ports and the .env file are resolved exactly as a user's own `docker compose` does.
// Faults go through the control CLI inside each container (the control API listens on the container's loopback
// only); a policy switch hands Envoy a derived config and a SIGHUP (scripts/envoy/hot-restart.sh).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { messageOf } from '../cli/command-line.js';
import {
  CLUSTER_NAME,
  clusterHosts,
  derivePolicyConfig,
  deriveXdsEnvoyConfig,
  envoyYamlPath,
  runningStaticResources,
  XDS_CLUSTER,
  PolicyChoiceError,
  projectRoot,
  runningPolicy,
  serverInfo,
  type PolicyChoice,
} from '../envoy/index.js';
import { MAX_REPLICAS, pollUntil, type Discovery } from '../stack/index.js';
import { grpcBootstrap, HOST_GATEWAY_NAME } from '../xds/index.js';
import { ComposeControlPlane } from './compose-control-plane.js';
import { composeErrorLine, createComposeRunner, type ComposeRunner } from './compose-cli.js';
import { demultiplex, readMultiplexed } from './docker-stream-demux.js';
import { LabError, type XdsCost, type EnvoyProcess, type LabDriver, type LabReplica, type UpPorts } from './driver.js';
import { FaultPatchError, parseFaultPatch, type FaultPatch, type FaultStateView } from '../../server/src/index.js';

const SERVICE = 'grpc-server';
const ENVOY_SERVICE = 'envoy';
const LABEL_PROJECT = 'com.docker.compose.project';
const LABEL_SERVICE = 'com.docker.compose.service';
const LABEL_NUMBER = 'com.docker.compose.container-number';
const LABEL_ONEOFF = 'com.docker.compose.oneoff';
/** Ports inside the containers (envoy.yaml, docker-compose.yml); the host side is whatever Compose published. */
const REPLICA_GRPC_PORT = 8080;
const ENVOY_GRPC_PORT = 5000;
const ENVOY_ADMIN_PORT = 9902; // envoy.yaml's admin_readonly listener: the admin's GET pages, the lab reads no more
/** The control CLI, on PATH in the server image. */
const CONTROL_CLI = 'greeterctl';
/** Where hot-restart.sh reads the next config (its ENVOY_NEXT_CONFIG default, on the container's tmpfs). */
const NEXT_ENVOY_CONFIG = '/tmp/envoy-next.yaml';
/** Above the control client's own 5 s request timeout, so its one-line error wins over ours. */
const EXEC_TIMEOUT_MS = 10_000;
/** Compose's stop_grace_period for grpc-server: the drain (3 s + 5 s) always fits. */
const STOP_GRACE_S = 10;
/** A hot restart: the new Envoy initialises (DNS, first health checks), then the old one drains for 4 s and exits. */
const HOT_RESTART_TIMEOUT_MS = 30_000;

/** The fields of a container listing the driver reads; dockerode's ContainerInfo has them. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Labels: Record<string, string>;
  State: string;
  Ports: { PrivatePort: number; PublicPort?: number; IP?: string; Type: string }[];
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
}

/** The container operations the driver calls; dockerode's Container has them. */
export interface DockerContainerApi {
  kill(options: { signal: string }): Promise<unknown>;
  stop(options: { t: number }): Promise<unknown>;
  pause(): Promise<unknown>;
  unpause(): Promise<unknown>;
  inspect(): Promise<{ State: { Status: string; Restarting: boolean }; RestartCount: number }>;
  exec(options: Docker.ExecCreateOptions): Promise<DockerExecApi>;
  logs(options: { stdout: true; stderr: boolean; follow: false; tail: number }): Promise<Buffer>;
}

/** The exec operations the driver calls; dockerode's Exec has them. */
export interface DockerExecApi {
  start(options: Docker.ExecStartOptions): Promise<NodeJS.ReadableStream>;
  inspect(): Promise<{ Running: boolean; ExitCode: number | null }>;
}

/** The narrow slice of dockerode the driver depends on. */
export interface DockerApi {
  listContainers(options: Docker.ContainerListOptions): Promise<ContainerSummary[]>;
  getContainer(id: string): DockerContainerApi;
  ping(options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Everything the docker driver needs. */
export interface DockerDriverOptions {
  docker: DockerApi;
  runCompose: ComposeRunner;
  /** The Envoy config for a policy, derived from envoy.yaml. */
  renderPolicyConfig: (choice: PolicyChoice) => string;
}

/** A replica container of the project. */
interface ReplicaContainer extends LabReplica {
  id: string;
  number: number;
}

/** Drives this checkout's Compose project (its name as Compose resolves it) through a Docker engine. */
export class DockerDriver implements LabDriver {
  readonly kind = 'docker' as const;
  private projectName: Promise<string> | undefined;
  /** The project's control plane on the host (`npm run xds`), started when xDS is first asked for. */
  private readonly controlPlane = new ComposeControlPlane(() => this.project());

  constructor(private readonly options: DockerDriverOptions) {}

  /** The Compose project this driver acts on: `name:` in docker-compose.yml, unless COMPOSE_PROJECT_NAME or .env say otherwise. */
  project(): Promise<string> {
    this.projectName ??= (async () => {
      const result = await this.options.runCompose(['config', '--format', 'json']);
      if (result.code !== 0) throw new LabError(`docker compose config failed: ${composeErrorLine(result.stderr)}`);
      const name = (JSON.parse(result.stdout) as { name?: unknown }).name;
      if (typeof name !== 'string' || name === '') throw new LabError('docker compose config printed no project name');
      return name;
    })();
    return this.projectName;
  }

  async describe(): Promise<string> {
    return `Compose project ${await this.project()}`;
  }

  async up(replicas: number, ports: UpPorts = {}): Promise<void> {
    if (ports.server !== undefined) {
      throw new LabError('--server-port is for local processes: each Compose replica listens on 8080 at its own address', 2);
    }
    // Exactly what `PORT_PROXY=... PORT_ADMIN=... docker compose up` would publish.
    const env = {
      ...(ports.proxy === undefined ? {} : { PORT_PROXY: String(ports.proxy) }),
      ...(ports.admin === undefined ? {} : { PORT_ADMIN: String(ports.admin) }),
    };
    await this.compose(['up', '-d', '--build', '--scale', `${SERVICE}=${replicaCount(replicas, 1)}`], env);
  }

  async down(): Promise<string> {
    await this.compose(['down']);
    const controlPlane = await this.controlPlane.stop();
    return `down: Compose project ${await this.project()} removed${controlPlane ? `; ${controlPlane}` : ''}`;
  }

  async scale(replicas: number): Promise<void> {
    const before = new Set((await this.containers()).filter((r) => r.state === 'running').map((r) => r.address));
    // --no-recreate: the replicas that stay keep running (and keep their faults); exited ones are started again.
    // --no-deps and the service alone: Envoy's depends_on (healthy replicas) is not asked again, so a replica a user
    // set NOT_SERVING (unhealthy to Docker too) cannot make the scale fail.
    await this.compose(['up', '-d', '--no-deps', '--no-recreate', '--scale', `${SERVICE}=${replicaCount(replicas, 0)}`, SERVICE]);
    // Compose returns once the containers run; Envoy finds them at its next DNS refresh and first health check.
    const added = (await this.containers()).filter((r) => r.state === 'running' && !before.has(r.address));
    const adminUrl = await this.adminUrl();
    await pollUntil(
      `Envoy to see ${replicas} replicas, the new ones healthy`,
      async () => {
        const hosts = await clusterHosts(adminUrl, CLUSTER_NAME);
        return hosts.length === replicas && added.every((r) => hosts.find((h) => h.address === `${r.address}:${r.port}`)?.healthy);
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    ).catch((error: unknown) => {
      throw new LabError(messageOf(error));
    });
  }

  async replicas(): Promise<LabReplica[]> {
    return (await this.containers()).map(({ name, address, port, state }) => ({ name, address, port, state }));
  }

  async kill(name: string): Promise<void> {
    const replica = await this.find(name);
    await this.dockerCall(`kill ${replica.name}`, () => this.container(replica).kill({ signal: 'SIGKILL' }));
  }

  async stop(name: string): Promise<void> {
    const replica = await this.find(name);
    // The Engine answers once the container has exited: SIGTERM, the server drains, or SIGKILL after the grace.
    await this.dockerCall(`stop ${replica.name}`, () =>
      this.container(replica)
        .stop({ t: STOP_GRACE_S })
        .catch((error: unknown) => {
          // 304 Not Modified: it had already exited, which is all stop asks for.
          if ((error as { statusCode?: unknown } | undefined)?.statusCode !== 304) throw error;
        }),
    );
  }

  async pause(name: string): Promise<void> {
    const replica = await this.find(name);
    await this.dockerCall(`pause ${replica.name}`, () => this.container(replica).pause());
  }

  async resume(name: string): Promise<void> {
    const replica = await this.find(name);
    await this.dockerCall(`resume ${replica.name}`, () => this.container(replica).unpause());
  }

  async readyAt(name: string): Promise<number | undefined> {
    const replica = await this.find(name);
    // Its own start-up line says when it listened, on the container's clock (the host's: one kernel).
    const raw = await this.dockerCall(`read the log of ${replica.name}`, () =>
      this.container(replica).logs({ stdout: true, stderr: false, follow: false, tail: 500 }),
    );
    for (const line of demultiplex(raw).stdout.split('\n')) {
      const time = listeningTime(line);
      if (time !== undefined) return time;
    }
    return undefined;
  }

  async setFaults(name: string, patch: FaultPatch): Promise<FaultStateView> {
    let valid: FaultPatch;
    try {
      // Checked up front, so a bad field fails before any change is made rather than half-way through.
      valid = parseFaultPatch(patch);
    } catch (error) {
      if (error instanceof FaultPatchError) throw new LabError(error.message, 2);
      throw error;
    }
    const replica = await this.find(name);
    if (replica.state !== 'running') throw new LabError(`${replica.name} is ${replica.state}: its control API cannot answer`);
    let state: FaultStateView | undefined;
    if (valid.health !== undefined) {
      state = await this.control(replica, ['health', valid.health === 'SERVING' ? 'serving' : 'not-serving']);
    }
    if (valid.failRate !== undefined || valid.failCode !== undefined) {
      // The control CLI sets the code only together with a rate: keep the current rate when only the code changes.
      const rate = valid.failRate ?? (state ?? (await this.control(replica, ['status']))).failRate;
      const code = valid.failCode === undefined ? [] : ['--code', valid.failCode];
      state = await this.control(replica, ['fail', String(rate), ...code]);
    }
    if (valid.latencyMs !== undefined) state = await this.control(replica, ['latency', String(valid.latencyMs)]);
    return state ?? (await this.control(replica, ['status']));
  }

  async setPolicy(choice: PolicyChoice): Promise<void> {
    // Derived before anything changes: a choice that cannot be derived leaves Envoy alone.
    const config = this.derive(choice);
    if ((await this.discovery()) === 'xds') {
      // Under xDS the cluster and routes are the control plane's: a CDS/RDS push, Envoy keeps running.
      const adminUrl = await this.adminUrl();
      const passing = new Set((await clusterHosts(adminUrl, CLUSTER_NAME)).filter((h) => h.healthy).map((h) => h.address));
      await this.controlPlane.setPolicy(choice);
      await this.waitChecked(adminUrl, passing);
      return;
    }
    await this.hotRestart(config);
  }

  async discovery(): Promise<Discovery> {
    const running = await runningStaticResources(await this.adminUrl());
    return running.static_resources.clusters.some((c) => (c as { name?: unknown }).name === XDS_CLUSTER) ? 'xds' : 'dns';
  }

  async setDiscovery(discovery: Discovery): Promise<void> {
    if ((await this.discovery()) === discovery) return;
    const policy = await this.policy();
    const dnsConfig = this.derive(policy);
    if (discovery === 'dns') {
      await this.hotRestart(dnsConfig);
      return;
    }
    const controlPlane = await this.controlPlane.ensure();
    await this.controlPlane.setPolicy(policy).catch(() => undefined); // No Envoy on it yet: nothing to ACK.
    const port = Number(controlPlane.ads.split(':').at(-1));
    const nodeId = `envoy-${await this.project()}`;
    await this.hotRestart(deriveXdsEnvoyConfig(dnsConfig, { controlPlaneAddress: HOST_GATEWAY_NAME, controlPlanePort: port, nodeId }));
  }

  async xdsBootstrap(nodeId: string): Promise<string> {
    return grpcBootstrap((await this.controlPlane.ensure()).ads, nodeId);
  }

  async xdsCost(): Promise<XdsCost> {
    const { responses, pushes, nacks, cpuMs, busyMs } = await this.controlPlane.status();
    return { responses, pushes, nacks, cpuMs, busyMs };
  }

  /** Hands Envoy `config` by a hot restart (scripts/envoy/hot-restart.sh): no call lost, the old epoch drains. */
  private async hotRestart(config: string): Promise<void> {
    const envoy = await this.envoyContainer();
    const adminUrl = await this.adminUrl();
    const before = await serverInfo(adminUrl);
    const passing = new Set((await clusterHosts(adminUrl, CLUSTER_NAME)).filter((h) => h.healthy).map((h) => h.address));
    // Written inside the container (its tmpfs), as Envoy's own user: nothing on the host changes.
    await this.exec(envoy, ['sh', '-c', `printf '%s' "$1" > ${NEXT_ENVOY_CONFIG}`, 'sh', config], 'write the new Envoy config');
    await this.dockerCall('signal Envoy', () => this.container(envoy).kill({ signal: 'SIGHUP' }));
    const epoch = before.restartEpoch + 1;
    await pollUntil(
      `Envoy restart epoch ${epoch} to be live (if it never is, \`docker compose logs envoy\` says why)`,
      async () => {
        const info = await serverInfo(adminUrl, 1000);
        return info.restartEpoch === epoch && info.state === 'LIVE';
      },
      { timeoutMs: HOT_RESTART_TIMEOUT_MS, intervalMs: 100 },
    ).catch((error: unknown) => {
      throw new LabError(messageOf(error));
    });
    // Health is each Envoy process's own memory: what passed the old one's checks must pass the new one's.
    await this.waitChecked(adminUrl, passing);
    // The old epoch exits by itself once drained; a second switch must not overlap it.
    await pollUntil(
      'the previous Envoy to drain and exit',
      async () => (await this.exec(envoy, ['sh', '-c', 'grep -lx envoy /proc/[0-9]*/comm | wc -l'], 'count Envoy processes')).trim() === '1',
      { timeoutMs: HOT_RESTART_TIMEOUT_MS, intervalMs: 250 },
    );
  }

  /** Waits until Envoy has checked every host and sees each one that passed before (`passing`) healthy again. */
  private async waitChecked(adminUrl: string, passing: Set<string>): Promise<void> {
    await pollUntil(
      'Envoy to health-check every replica again',
      async () => {
        const hosts = await clusterHosts(adminUrl, CLUSTER_NAME).catch(() => undefined);
        return hosts !== undefined && hosts.length >= passing.size && hosts.every((h) => !h.pendingActiveHealthCheck && (h.healthy || !passing.has(h.address)));
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  }

  async setReplicaEnv(env: Record<string, string>): Promise<void> {
    const running = (await this.containers()).filter((r) => r.state !== 'exited').length;
    // A container's environment is fixed when it is created: every replica is recreated, with an override file that
    // adds `env` for this one `up` ({}: docker-compose.yml alone, so the replicas are as Compose defines them again).
    const dir = mkdtempSync(path.join(tmpdir(), 'grpc-envoy-lab-replica-env-'));
    try {
      const overrides: string[] = [];
      if (Object.keys(env).length > 0) {
        const file = path.join(dir, 'replica-env.yml');
        // JSON strings are YAML strings: every value stays a string, whatever it looks like.
        const lines = Object.entries(env).map(([name, value]) => `      ${name}: ${JSON.stringify(value)}`);
        writeFileSync(file, ['services:', `  ${SERVICE}:`, '    environment:', ...lines, ''].join('\n'));
        overrides.push(file);
      }
      const args = ['up', '-d', '--no-deps', '--force-recreate', '--scale', `${SERVICE}=${replicaCount(running, 1)}`, SERVICE];
      const result = await this.options.runCompose(args, { overrides });
      if (result.code !== 0) throw new LabError(`docker compose up failed: ${composeErrorLine(result.stderr)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const replicas = (await this.containers()).filter((r) => r.state === 'running').map((r) => `${r.address}:${r.port}`);
    const adminUrl = await this.adminUrl();
    await pollUntil(
      `Envoy to see the ${running} recreated replicas healthy`,
      async () => {
        const hosts = await clusterHosts(adminUrl, CLUSTER_NAME);
        return hosts.length === running && replicas.every((address) => hosts.find((h) => h.address === address)?.healthy);
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    ).catch((error: unknown) => {
      throw new LabError(messageOf(error));
    });
  }

  async policy(): Promise<PolicyChoice> {
    return runningPolicy(await this.adminUrl());
  }

  async envoyProcess(): Promise<EnvoyProcess> {
    const [envoy] = await this.serviceContainers(ENVOY_SERVICE);
    if (!envoy) throw new LabError(`Compose project ${await this.project()} has no Envoy container (start it with \`lab up\`)`);
    const inspected = await this.dockerCall(`inspect ${envoy.name}`, () => this.container({ id: envoy.summary.Id }).inspect());
    // The engine restarts it (restart: on-failure in docker-compose.yml); RestartCount says how often it had to.
    return { state: inspected.State.Restarting ? 'restarting' : inspected.State.Status, restarts: inspected.RestartCount };
  }

  async adminUrl(): Promise<string> {
    return `http://127.0.0.1:${await this.publishedPort(ENVOY_ADMIN_PORT)}`;
  }

  async envoyTarget(): Promise<string> {
    return `127.0.0.1:${await this.publishedPort(ENVOY_GRPC_PORT)}`;
  }

  /** The containers of one service of this project (exited ones too), sorted by Compose's container number. */
  private async serviceContainers(service: string): Promise<Array<{ summary: ContainerSummary; number: number; name: string }>> {
    const project = await this.project();
    const listed = await this.dockerCall('list containers', () =>
      this.options.docker.listContainers({
        all: true, // exited replicas are replicas too: they show, and can be named
        filters: { label: [`${LABEL_PROJECT}=${project}`, `${LABEL_SERVICE}=${service}`] },
      }),
    );
    const found = [];
    for (const summary of listed) {
      const labels = summary.Labels;
      // Checked again here: the labels are the contract, whatever the engine's filtering did.
      if (labels[LABEL_PROJECT] !== project || labels[LABEL_SERVICE] !== service) continue;
      if (labels[LABEL_ONEOFF] === 'True') continue; // `docker compose run` containers are not replicas
      const number = Number(labels[LABEL_NUMBER]);
      if (!Number.isInteger(number) || number < 1) continue;
      // The container name, as `docker compose ps` shows it and as the replica answers with (REPLICA_NAME_FROM).
      const name = summary.Names[0]?.replace(/^\//, '') ?? `${project}-${service}-${number}`;
      found.push({ summary, number, name });
    }
    return found.sort((a, b) => a.number - b.number);
  }

  private async containers(): Promise<ReplicaContainer[]> {
    const project = await this.project();
    return (await this.serviceContainers(SERVICE)).map(({ summary, number, name }) => ({
      id: summary.Id,
      number,
      name,
      address: projectAddress(summary, project),
      port: REPLICA_GRPC_PORT,
      state: summary.State === 'running' || summary.State === 'paused' ? summary.State : 'exited',
    }));
  }

  /** A replica by its container name, or by the short form grpc-server-2 that Compose's --index numbers. */
  private async find(name: string): Promise<ReplicaContainer> {
    const all = await this.containers();
    const found = all.find((replica) => replica.name === name || `${SERVICE}-${replica.number}` === name);
    if (!found) {
      const live = all.length === 0 ? 'none' : all.map((replica) => replica.name).join(', ');
      throw new LabError(`no replica named ${name} (replicas: ${live})`, 2);
    }
    return found;
  }

  private async envoyContainer(): Promise<{ id: string; name: string; summary: ContainerSummary }> {
    const running = (await this.serviceContainers(ENVOY_SERVICE)).find((c) => c.summary.State === 'running');
    if (!running) throw new LabError(`Envoy of Compose project ${await this.project()} is not running (start it with \`lab up\`)`);
    return { id: running.summary.Id, name: running.name, summary: running.summary };
  }

  /** The host port Compose published an Envoy port on: the running container's truth, whatever the env says now. */
  private async publishedPort(containerPort: number): Promise<number> {
    const envoy = await this.envoyContainer();
    const binding = envoy.summary.Ports.find((p) => p.PrivatePort === containerPort && p.PublicPort !== undefined);
    if (binding?.PublicPort === undefined) throw new LabError(`${envoy.name} publishes no host port for ${containerPort}`);
    return binding.PublicPort;
  }

  private container(target: { id: string }): DockerContainerApi {
    return this.options.docker.getContainer(target.id);
  }

  /** Runs a command in a container; resolves with its stdout, or throws its last stderr line. */
  private async exec(target: { id: string; name: string }, cmd: string[], what: string): Promise<string> {
    const { stdout, stderr, exitCode } = await this.dockerCall(`${what} in ${target.name}`, async () => {
      const exec = await this.container(target).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
      // Tty off keeps stdout and stderr apart (multiplexed); the stream ends when the command exits.
      const output = await readMultiplexed(await exec.start({ Detach: false, Tty: false }), EXEC_TIMEOUT_MS);
      // The engine may record the exit code a moment after the output ends.
      const exited = await pollUntil(
        `the exit code of ${cmd[0]} in ${target.name}`,
        async () => {
          const info = await exec.inspect();
          return info.Running ? undefined : { code: info.ExitCode };
        },
        { timeoutMs: 2_000, intervalMs: 20 },
      );
      return { ...output, exitCode: exited.code };
    });
    if (exitCode !== 0) {
      const line = lastLine(stderr) ?? `${cmd[0]} exited with code ${exitCode}`;
      throw new LabError(`${target.name}: ${line}`, exitCode === 2 ? 2 : 1);
    }
    return stdout;
  }

  /** Runs the control CLI in the replica's container and returns the state it printed. */
  private async control(replica: ReplicaContainer, verb: string[]): Promise<FaultStateView> {
    return parseState(replica.name, await this.exec(replica, [CONTROL_CLI, '--json', ...verb], 'run the control CLI'));
  }

  private async compose(args: string[], env?: Record<string, string>): Promise<void> {
    const result = await this.options.runCompose(args, env === undefined ? {} : { env });
    if (result.code !== 0) throw new LabError(`docker compose ${args[0]} failed: ${composeErrorLine(result.stderr)}`);
  }

  /** An Engine API call; its failure becomes one LabError line naming what was attempted. */
  private async dockerCall<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof LabError) throw error;
      throw new LabError(`cannot ${action}: ${dockerErrorLine(error)}`);
    }
  }

  private derive(choice: PolicyChoice): string {
    try {
      return this.options.renderPolicyConfig(choice);
    } catch (error) {
      if (error instanceof PolicyChoiceError) throw new LabError(error.message, 2);
      throw new LabError(`cannot derive the Envoy config for ${choice.policy}: ${messageOf(error)}`);
    }
  }
}

/** True when a Docker engine answers a ping within timeoutMs (false on any error, never hangs). */
export async function dockerAvailable(docker: Pick<DockerApi, 'ping'>, timeoutMs: number): Promise<boolean> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // Both the abort and the race: the signal frees the socket, the race bounds a ping that ignores the signal.
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve(false);
    }, timeoutMs);
  });
  const answered = docker.ping({ abortSignal: abort.signal }).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([answered, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** How createDockerDriver may be adjusted; everything defaults to the real engine and this repository. */
export interface CreateDockerDriverOptions {
  /** An existing dockerode client (e.g. the one that answered dockerAvailable). */
  docker?: DockerApi;
  /** Compose's progress lines (a first `up --build` takes minutes). */
  onComposeLine?: (line: string) => void;
  /** The environment Compose resolves the project name and ports from; default this process's. */
  env?: NodeJS.ProcessEnv;
}

/** The docker driver over the real engine, the real `docker compose` CLI and this repository's files. */
export function createDockerDriver(options: CreateDockerDriverOptions = {}): DockerDriver {
  return new DockerDriver({
    docker: options.docker ?? new Docker(),
    runCompose: createComposeRunner({
      composeFile: path.join(projectRoot, 'docker-compose.yml'),
      onLine: options.onComposeLine,
      env: options.env,
    }),
    renderPolicyConfig: (choice) => derivePolicyConfig(readFileSync(envoyYamlPath, 'utf8'), choice),
  });
}

function replicaCount(replicas: number, min: number): number {
  if (!Number.isInteger(replicas) || replicas < min || replicas > MAX_REPLICAS) {
    throw new LabError(`replicas must be an integer ${min}-${MAX_REPLICAS}, got ${replicas}`, 2);
  }
  return replicas;
}

/** The container's IPv4 on the project's default network (what Envoy resolves grpc-server to); '' once exited. */
function projectAddress(container: ContainerSummary, project: string): string {
  const networks = container.NetworkSettings?.Networks ?? {};
  const own = networks[`${project}_default`] ?? Object.values(networks)[0];
  return own?.IPAddress ?? '';
}

/** The time of a replica's start-up line, text (`<ISO time> <name> listening ...`) or JSON (event "listening"). */
export function listeningTime(line: string): number | undefined {
  const text = /^(\S+Z) \S+ listening /.exec(line)?.[1];
  if (text !== undefined) return Date.parse(text);
  if (!line.startsWith('{')) return undefined;
  try {
    const event = JSON.parse(line) as { time?: unknown; event?: unknown };
    return event.event === 'listening' && typeof event.time === 'string' ? Date.parse(event.time) : undefined;
  } catch {
    return undefined;
  }
}

/** The fault state the control CLI printed as its last line (--json). */
export function parseState(replica: string, stdout: string): FaultStateView {
  const line = lastLine(stdout);
  let state: unknown;
  try {
    state = JSON.parse(line ?? '');
  } catch {
    throw new LabError(`${replica}: the control CLI printed no JSON state (got ${JSON.stringify(line ?? '')})`);
  }
  const view = state as Partial<Record<keyof FaultStateView, unknown>>;
  if (
    typeof view !== 'object' ||
    view === null ||
    typeof view.replica !== 'string' ||
    (view.health !== 'SERVING' && view.health !== 'NOT_SERVING') ||
    typeof view.failRate !== 'number' ||
    typeof view.failCode !== 'string' ||
    typeof view.latencyMs !== 'number'
  ) {
    throw new LabError(`${replica}: the control CLI printed an unexpected state: ${line}`);
  }
  return state as FaultStateView;
}

function lastLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .at(-1);
}

/** dockerode errors carry the engine's own message in json.message; connection errors only in message. */
function dockerErrorLine(error: unknown): string {
  const engine = (error as { json?: { message?: unknown } } | undefined)?.json?.message;
  if (typeof engine === 'string' && engine !== '') return engine.trim();
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED') return `no Docker engine answers (${messageOf(error)})`;
  return lastLine(messageOf(error)) ?? 'unknown error';
}

