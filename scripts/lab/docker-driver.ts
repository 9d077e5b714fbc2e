// The lab over the Compose project: replicas are the grpc-server containers, found by Compose's labels through
// the Engine API (dockerode); what Compose itself must do (up, scale, down, recreate Envoy) goes through the
// `docker compose` CLI. Faults go through the control CLI inside each container, because the control API listens
// on the container's loopback only.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { stringify } from 'yaml';
import { parseFaultPatch, FaultPatchError, type FaultPatch, type FaultStateView } from '../../server/src/fault-state.js';
import { envoyYamlPath, projectRoot } from '../envoy/project-paths.js';
import { pollUntil } from '../local/poll-until.js';
import { composeErrorLine, createComposeRunner, type ComposeRunner } from './compose-cli.js';
import { readMultiplexed } from './docker-stream-demux.js';
import { derivePolicyConfig, policyOf } from './envoy-policy.js';
import { LabError, type LabDriver, type LabReplica, type PolicyChoice } from './lab-driver.js';

/** docker-compose.yml's `name:`; every container, network and label of the lab carries it. */
export const COMPOSE_PROJECT = 'grpc-envoy-lab';
const SERVICE = 'grpc-server';
const LABEL_PROJECT = 'com.docker.compose.project';
const LABEL_SERVICE = 'com.docker.compose.service';
const LABEL_NUMBER = 'com.docker.compose.container-number';
const LABEL_ONEOFF = 'com.docker.compose.oneoff';
/** Relative to the image's WORKDIR (/app), as the Compose healthcheck runs the probe. */
const CONTROL_CLI = 'dist/server/src/control-cli.js';
/** Above the control client's own 5 s request timeout, so its one-line error wins over ours. */
const EXEC_TIMEOUT_MS = 10_000;
/** Compose's stop_grace_period for grpc-server: the drain (3 s + 5 s) always fits. */
const STOP_GRACE_S = 10;

/** The fields of a container listing the driver reads; dockerode's ContainerInfo has them. */
export interface ContainerSummary {
  Id: string;
  Labels: Record<string, string>;
  State: string;
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
}

/** The container operations the driver calls; dockerode's Container has them. */
export interface DockerContainerApi {
  kill(options: { signal: string }): Promise<unknown>;
  stop(options: { t: number }): Promise<unknown>;
  pause(): Promise<unknown>;
  unpause(): Promise<unknown>;
  exec(options: Docker.ExecCreateOptions): Promise<DockerExecApi>;
}

/** The exec operations the driver calls; dockerode's Exec has them. */
export interface DockerExecApi {
  start(options: Docker.ExecStartOptions): Promise<NodeJS.ReadableStream>;
  inspect(): Promise<{ Running: boolean; ExitCode: number | null }>;
}

/** The narrow slice of dockerode the driver depends on, so tests can hand in a fake engine. */
export interface DockerApi {
  listContainers(options: Docker.ContainerListOptions): Promise<ContainerSummary[]>;
  getContainer(id: string): DockerContainerApi;
  ping(options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Everything the docker driver needs, injectable for tests. */
export interface DockerDriverOptions {
  docker: DockerApi;
  runCompose: ComposeRunner;
  /** The Envoy config for a policy, derived from envoy.yaml. */
  renderPolicyConfig: (choice: PolicyChoice) => string;
  /** Reads the policy back out of a derived config. */
  policyOf: (yaml: string) => PolicyChoice;
  /** Where the derived Envoy config and the compose override live (git-ignored <repo>/.lab by default). */
  labDir: string;
  /** PORT_PROXY and PORT_ADMIN, as Compose reads them. */
  env: NodeJS.ProcessEnv;
}

/** Drives the Compose project grpc-envoy-lab through a Docker engine. */
export class DockerDriver implements LabDriver {
  readonly kind = 'docker' as const;
  private readonly overrideFile: string;
  private readonly activeConfigFile: string;

  constructor(private readonly options: DockerDriverOptions) {
    this.overrideFile = path.join(options.labDir, 'compose.policy.yml');
    this.activeConfigFile = path.join(options.labDir, 'envoy.active.yaml');
  }

  async up(replicas: number): Promise<void> {
    await this.compose(['up', '-d', '--build', '--scale', `${SERVICE}=${replicaCount(replicas, 1)}`]);
  }

  async down(): Promise<void> {
    await this.compose(['down']);
    // The next `up` starts from envoy.yaml as it is, like a fresh checkout.
    this.removePolicyFiles();
  }

  async scale(replicas: number): Promise<void> {
    // --no-recreate: the replicas that stay keep running (and keep their faults); only the difference changes.
    await this.compose(['up', '-d', '--no-recreate', '--scale', `${SERVICE}=${replicaCount(replicas, 0)}`]);
  }

  async replicas(): Promise<LabReplica[]> {
    return (await this.containers()).map(({ name, address, state }) => ({ name, address, state }));
  }

  async kill(name: string): Promise<void> {
    const replica = await this.find(name);
    await this.dockerCall(`kill ${name}`, () => this.container(replica).kill({ signal: 'SIGKILL' }));
  }

  async stop(name: string): Promise<void> {
    const replica = await this.find(name);
    // The Engine answers once the container has exited: SIGTERM, the server drains, or SIGKILL after the grace.
    await this.dockerCall(`stop ${name}`, () =>
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
    await this.dockerCall(`pause ${name}`, () => this.container(replica).pause());
  }

  async resume(name: string): Promise<void> {
    const replica = await this.find(name);
    await this.dockerCall(`resume ${name}`, () => this.container(replica).unpause());
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
    // Derived even for ROUND_ROBIN, so every choice is checked the same way before anything changes.
    const config = this.derive(choice);
    const before = this.readPolicyFiles();
    try {
      if (choice.policy === 'ROUND_ROBIN') {
        // envoy.yaml itself runs round robin: back to the plain mount.
        this.removePolicyFiles();
      } else {
        mkdirSync(this.options.labDir, { recursive: true });
        writeFileSync(this.activeConfigFile, config);
        // Envoy runs as uid 101 in its container and must read the bind-mounted file.
        chmodSync(this.activeConfigFile, 0o644);
        writeFileSync(this.overrideFile, renderOverride(this.activeConfigFile));
      }
      // compose() adds the override while it exists; only Envoy is recreated, the replicas keep running.
      await this.compose(['up', '-d', '--no-deps', '--force-recreate', 'envoy']);
    } catch (error) {
      // Either the whole switch happens or the files say what Envoy still runs.
      this.restorePolicyFiles(before);
      throw error;
    }
  }

  async policy(): Promise<PolicyChoice> {
    const { override, active } = this.readPolicyFiles();
    if (override === undefined || active === undefined) return { policy: 'ROUND_ROBIN' };
    try {
      return this.options.policyOf(active);
    } catch (error) {
      throw new LabError(`cannot read the policy from ${this.activeConfigFile}: ${messageOf(error)}`);
    }
  }

  async adminUrl(): Promise<string> {
    return `http://127.0.0.1:${this.port('PORT_ADMIN', 9901)}`;
  }

  async envoyTarget(): Promise<string> {
    return `127.0.0.1:${this.port('PORT_PROXY', 5000)}`;
  }

  /** The grpc-server containers of this project, sorted by Compose's container number. */
  private async containers(): Promise<Array<LabReplica & { id: string; number: number }>> {
    const listed = await this.dockerCall('list containers', () =>
      this.options.docker.listContainers({
        all: true, // exited replicas are replicas too: they show, and can be named
        filters: { label: [`${LABEL_PROJECT}=${COMPOSE_PROJECT}`, `${LABEL_SERVICE}=${SERVICE}`] },
      }),
    );
    const replicas: Array<LabReplica & { id: string; number: number }> = [];
    for (const container of listed) {
      const labels = container.Labels;
      // Checked again here: the labels are the contract, whatever the engine's filtering did.
      if (labels[LABEL_PROJECT] !== COMPOSE_PROJECT || labels[LABEL_SERVICE] !== SERVICE) continue;
      if (labels[LABEL_ONEOFF] === 'True') continue; // `docker compose run` containers are not replicas
      const number = Number(labels[LABEL_NUMBER]);
      if (!Number.isInteger(number) || number < 1) continue;
      replicas.push({
        id: container.Id,
        number,
        name: `${SERVICE}-${number}`,
        address: projectAddress(container),
        state: container.State === 'running' || container.State === 'paused' ? container.State : 'exited',
      });
    }
    return replicas.sort((a, b) => a.number - b.number);
  }

  private async find(name: string): Promise<{ id: string; name: string }> {
    const all = await this.containers();
    const found = all.find((replica) => replica.name === name);
    if (!found) {
      const live = all.length === 0 ? 'none' : all.map((replica) => replica.name).join(', ');
      throw new LabError(`no replica named ${name} (live: ${live})`, 2);
    }
    return found;
  }

  private container(replica: { id: string }): DockerContainerApi {
    return this.options.docker.getContainer(replica.id);
  }

  /** Runs the control CLI in the replica's container and returns the state it printed. */
  private async control(replica: { id: string; name: string }, verb: string[]): Promise<FaultStateView> {
    const cmd = ['node', CONTROL_CLI, '--json', ...verb];
    const { stdout, stderr, exitCode } = await this.dockerCall(`run the control CLI in ${replica.name}`, async () => {
      const exec = await this.container(replica).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
      // Tty off keeps stdout and stderr apart (multiplexed); the stream ends when the command exits.
      const output = await readMultiplexed(await exec.start({ Detach: false, Tty: false }), EXEC_TIMEOUT_MS);
      // The engine may record the exit code a moment after the output ends.
      const exitCode = await pollUntil(
        `the exit code of the control CLI in ${replica.name}`,
        async () => {
          const info = await exec.inspect();
          return info.Running ? undefined : { code: info.ExitCode };
        },
        { timeoutMs: 2_000, intervalMs: 20 },
      );
      return { ...output, exitCode: exitCode.code };
    });
    if (exitCode !== 0) {
      const line = lastLine(stderr) ?? `the control CLI exited with code ${exitCode}`;
      throw new LabError(`${replica.name}: ${line}`, exitCode === 2 ? 2 : 1);
    }
    return parseState(replica.name, stdout);
  }

  private async compose(args: string[]): Promise<void> {
    // Compose substitutes these into the published ports; a bad value must stop here, not inside Compose.
    this.port('PORT_ADMIN', 9901);
    this.port('PORT_PROXY', 5000);
    const files = existsSync(this.overrideFile) ? ['-f', this.overrideFile] : [];
    const result = await this.options.runCompose([...files, ...args]);
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
      if (error instanceof LabError) throw error;
      throw new LabError(`cannot derive the Envoy config for ${choice.policy}: ${messageOf(error)}`, 2);
    }
  }

  private port(name: 'PORT_ADMIN' | 'PORT_PROXY', fallback: number): number {
    const raw = this.options.env[name];
    if (raw === undefined) return fallback;
    const port = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
    // 0 would make Docker publish a random port, which this driver could not know.
    if (!(port >= 1 && port <= 65535)) throw new LabError(`${name} must be an integer 1-65535, got ${JSON.stringify(raw)}`, 2);
    return port;
  }

  private readPolicyFiles(): { override?: string; active?: string } {
    const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
    return { override: read(this.overrideFile), active: read(this.activeConfigFile) };
  }

  private restorePolicyFiles(files: { override?: string; active?: string }): void {
    this.removePolicyFiles();
    if (files.active !== undefined) {
      mkdirSync(this.options.labDir, { recursive: true });
      writeFileSync(this.activeConfigFile, files.active, { mode: 0o644 });
    }
    if (files.override !== undefined) writeFileSync(this.overrideFile, files.override);
  }

  private removePolicyFiles(): void {
    rmSync(this.overrideFile, { force: true });
    rmSync(this.activeConfigFile, { force: true });
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
  labDir?: string;
  /** Compose's progress lines (a first `up --build` takes minutes). */
  onComposeLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** The docker driver over the real engine, the real `docker compose` CLI and this repository's files. */
export function createDockerDriver(options: CreateDockerDriverOptions = {}): DockerDriver {
  return new DockerDriver({
    docker: options.docker ?? new Docker(),
    runCompose: createComposeRunner({
      project: COMPOSE_PROJECT,
      composeFile: path.join(projectRoot, 'docker-compose.yml'),
      onLine: options.onComposeLine,
    }),
    renderPolicyConfig: (choice) => derivePolicyConfig(readFileSync(envoyYamlPath, 'utf8'), choice),
    policyOf,
    labDir: options.labDir ?? path.join(projectRoot, '.lab'),
    env: options.env ?? process.env,
  });
}

function replicaCount(replicas: number, min: number): number {
  if (!Number.isInteger(replicas) || replicas < min || replicas > 100) {
    throw new LabError(`replicas must be an integer ${min}-100, got ${replicas}`, 2);
  }
  return replicas;
}

/** The container's IPv4 on the project's default network (what Envoy resolves grpc-server to); '' once exited. */
function projectAddress(container: ContainerSummary): string {
  const networks = container.NetworkSettings?.Networks ?? {};
  const own = networks[`${COMPOSE_PROJECT}_default`] ?? Object.values(networks)[0];
  return own?.IPAddress ?? '';
}

/** A Compose override that mounts the derived config where envoy.yaml is mounted (Compose merges by target). */
function renderOverride(activeConfigFile: string): string {
  const override = {
    services: {
      envoy: {
        volumes: [{ type: 'bind', source: activeConfigFile, target: '/etc/envoy/envoy.yaml', read_only: true }],
      },
    },
  };
  return `# Written by the lab's docker driver (setPolicy); removed when the policy returns to ROUND_ROBIN.\n${stringify(override)}`;
}

function parseState(replica: string, stdout: string): FaultStateView {
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
