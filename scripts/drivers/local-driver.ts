import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { projectRoot, runningPolicy, type PolicyChoice } from '../envoy/index.js';
import { grpcBootstrap } from '../xds/index.js';
import { isLocalStackChild, PollAborted, pollUntil, readStaleStateFile, readStateFile, stateFilePath, type Discovery, type StackInfo, type StackStateFile } from '../stack/index.js';
import { LabError, type XdsCost, type EnvoyProcess, type LabDriver, type LabReplica, type UpPorts } from './driver.js';
import { ControlClient, ControlRequestError, type FaultPatch, type FaultStateView } from '../../server/src/index.js';
import { messageOf } from '../cli/command-line.js';

/** Ports for a system `lab up` starts (the defaults are `npm start`'s). */
export interface LocalPorts {
  port?: number;
  adminPort?: number;
  serverPort?: number;
}

/**
 * Drives the Docker-free system: the `npm start` process found through its state file, over its stack control
 * API on 127.0.0.1. `up` starts one in the background (no client; its log goes to a file) when none runs.
 */
export class LocalDriver implements LabDriver {
  readonly kind = 'local' as const;
  private readonly stateFile: string;

  constructor(private readonly options: { stateFile?: string; ports?: LocalPorts; logFile?: string } = {}) {
    this.stateFile = options.stateFile ?? stateFilePath();
  }

  /** Where a background system started by `up` writes its log. */
  get logFile(): string {
    return this.options.logFile ?? path.join(path.dirname(this.stateFile), 'local-stack.log');
  }

  async up(replicas: number, asked: UpPorts = {}): Promise<void> {
    if (readStateFile(this.stateFile)) {
      if (Object.keys(asked).length > 0) throw new LabError('a local system already runs; its ports stay as they are (`lab down` first)', 2);
      await this.scale(replicas);
      return;
    }
    const configured = this.options.ports ?? {};
    const ports = { port: asked.proxy ?? configured.port, adminPort: asked.admin ?? configured.adminPort, serverPort: asked.server ?? configured.serverPort };
    const args = ['--import', 'tsx', path.join('scripts', 'stack', 'start.ts'), '--no-client', '--replicas', String(replicas)];
    if (ports.port !== undefined) args.push('--port', String(ports.port));
    if (ports.adminPort !== undefined) args.push('--admin-port', String(ports.adminPort));
    if (ports.serverPort !== undefined) args.push('--server-port', String(ports.serverPort));
    mkdirSync(path.dirname(this.logFile), { recursive: true });
    const log = openSync(this.logFile, 'w');
    // Detached, in its own process group, so it outlives this command; its output goes to the log file.
    const child = spawn(process.execPath, args, {
      cwd: projectRoot,
      env: { ...process.env, LAB_STATE_FILE: this.stateFile },
      stdio: ['ignore', log, log],
      detached: true,
    });
    closeSync(log);
    let exitCode: number | null | undefined;
    child.once('exit', (code) => (exitCode = code));
    child.unref();
    try {
      await pollUntil(
        'the local system to be ready',
        () => {
          // Waiting longer cannot help once it has exited: say why at once (its last log line).
          if (exitCode !== undefined) throw new PollAborted(`the local system did not start: ${this.lastLogLine()}`);
          return readStateFile(this.stateFile) !== undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
    } catch (error) {
      if (exitCode === undefined) child.kill('SIGTERM');
      throw new LabError(error instanceof PollAborted ? error.message : `the local system did not start in 60 s: ${this.lastLogLine()}`);
    }
  }

  async down(): Promise<string> {
    const state = readStateFile(this.stateFile);
    if (!state) return this.cleanUpAfterDeadSystem();
    process.kill(state.pid, 'SIGTERM');
    try {
      await pollUntil('the local system to stop', () => readStateFile(this.stateFile) === undefined, { timeoutMs: 20_000 });
      return `down: the local system (pid ${state.pid}) stopped`;
    } catch {
      process.kill(state.pid, 'SIGKILL'); // Its exit handler is gone with it; children die with their group below.
      process.kill(-state.pid, 'SIGKILL');
      return `down: the local system (pid ${state.pid}) did not stop in 20 s and was killed`;
    }
  }

  // An `npm start` that died without its exit handler (SIGKILL, OOM) leaves its state file, and where the kernel
  // cannot tie children to it (no setpriv), its Envoy and replicas too: stop those it recorded, if they still are.
  private cleanUpAfterDeadSystem(): string {
    const stale = readStaleStateFile(this.stateFile);
    if (!stale) return 'down: no local system runs';
    const leftovers = stale.processes.filter(isLocalStackChild);
    for (const pid of leftovers) process.kill(pid, 'SIGKILL');
    rmSync(this.stateFile, { force: true });
    return `down: the local system (pid ${stale.pid}) had died; ${leftovers.length === 0 ? 'nothing of it was left' : `killed ${leftovers.length} process(es) it left: ${leftovers.join(', ')}`}`;
  }

  async scale(replicas: number): Promise<void> {
    await this.request('POST', '/scale', { replicas });
  }

  async replicas(): Promise<LabReplica[]> {
    return (await this.info()).replicas.map((r) => ({ name: r.name, address: r.address, port: r.port, state: r.state }));
  }

  async kill(name: string): Promise<void> {
    await this.signal(name, 'KILL');
  }

  async stop(name: string): Promise<void> {
    await this.signal(name, 'TERM');
  }

  async pause(name: string): Promise<void> {
    await this.signal(name, 'STOP');
  }

  async resume(name: string): Promise<void> {
    await this.signal(name, 'CONT');
  }

  async readyAt(name: string): Promise<number | undefined> {
    return (await this.info()).replicas.find((r) => r.name === name)?.readyAt;
  }

  async setFaults(name: string, patch: FaultPatch): Promise<FaultStateView> {
    const { replicas } = await this.info();
    const replica = replicas.find((r) => r.name === name);
    if (!replica) throw new LabError(`no replica named ${name} (live: ${replicas.map((r) => r.name).join(', ') || 'none'})`, 2);
    try {
      return await new ControlClient(replica.address, replica.controlPort, this.state().token).update(patch);
    } catch (error) {
      if (error instanceof ControlRequestError) throw new LabError(`${name}: ${error.message}`);
      throw error;
    }
  }

  async setPolicy(choice: PolicyChoice): Promise<void> {
    await this.request('POST', '/policy', { ...choice });
  }

  async setReplicaEnv(env: Record<string, string>): Promise<void> {
    await this.request('POST', '/replica-env', { env });
  }

  async policy(): Promise<PolicyChoice> {
    return runningPolicy(await this.adminUrl());
  }

  async discovery(): Promise<Discovery> {
    return (await this.info()).discovery;
  }

  async setDiscovery(discovery: Discovery): Promise<void> {
    await this.request('POST', '/discovery', { discovery });
  }

  async xdsBootstrap(nodeId: string): Promise<string> {
    return grpcBootstrap((await this.info()).xds.address, nodeId);
  }

  async xdsCost(): Promise<XdsCost> {
    const { responses, pushes, nacks, cpuMs, busyMs } = (await this.info()).xds;
    return { responses, pushes, nacks, cpuMs, busyMs };
  }

  async envoyProcess(): Promise<EnvoyProcess> {
    const { state, restarts } = (await this.info()).envoy;
    return { state, restarts };
  }

  async describe(): Promise<string> {
    const state = readStateFile(this.stateFile);
    return state ? `local system pid ${state.pid}` : 'no local system running';
  }

  async adminUrl(): Promise<string> {
    return (await this.info()).adminUrl;
  }

  async envoyTarget(): Promise<string> {
    return (await this.info()).envoyTarget;
  }

  /** Everything the running system reports about itself. */
  info(): Promise<StackInfo> {
    return this.request('GET', '/info') as Promise<StackInfo>;
  }

  private async signal(name: string, signal: 'KILL' | 'TERM' | 'STOP' | 'CONT'): Promise<void> {
    await this.request('POST', `/replicas/${encodeURIComponent(name)}/signal`, { signal });
  }

  private state(): StackStateFile {
    const state = readStateFile(this.stateFile);
    if (!state) throw new LabError('no local lab system is running; start one with `npm run lab -- up` or `npm start`');
    return state;
  }

  private async request(method: 'GET' | 'POST', route: string, body?: object): Promise<unknown> {
    const { controlUrl, token } = this.state();
    let response: Response;
    try {
      response = await fetch(`${controlUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        // Scaling waits for health checks; a policy switch for the hot restart; replica env for one restart per
        // replica: seconds each, not minutes.
        signal: AbortSignal.timeout(route === '/replica-env' ? 180_000 : 60_000),
      });
    } catch (error) {
      throw new LabError(`the local lab system at ${controlUrl} did not answer: ${messageOf(error)}`);
    }
    const answer = (await response.json().catch(() => ({}))) as { error?: string };
    if (!response.ok) throw new LabError(answer.error ?? `HTTP ${response.status}`, response.status === 404 || response.status === 400 ? 2 : 1);
    return answer;
  }

  private lastLogLine(): string {
    try {
      const lines = readFileSync(this.logFile, 'utf8').trim().split('\n');
      return lines.at(-1) ?? 'no output';
    } catch {
      return 'no output';
    }
  }
}
