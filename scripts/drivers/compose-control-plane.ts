// The control plane of one Compose project, as the docker driver sees it: the `npm run xds` program on the host,
// found through its state file, or started in the background (its own process group, its log in .lab/) when the
// lab needs one. The driver asks it for its address, its counters, and policy switches (a CDS push).
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot, type PolicyChoice } from '../envoy/index.js';
import { PollAborted, pollUntil } from '../stack/index.js';
import { controlPlaneStatePath, readControlPlaneState, type ControlPlaneStateFile, type ControlPlaneStatus } from '../xds/index.js';
import { LabError } from './driver.js';

export class ComposeControlPlane {
  constructor(private readonly project: () => Promise<string>) {}

  /** The running control plane of the project, or undefined. */
  async running(): Promise<ControlPlaneStateFile | undefined> {
    return readControlPlaneState(controlPlaneStatePath(await this.project()));
  }

  /** The running one, or one started now (ADS on any free port of Docker's host-gateway address). */
  async ensure(): Promise<ControlPlaneStateFile> {
    const running = await this.running();
    if (running) return running;
    const project = await this.project();
    const stateFile = controlPlaneStatePath(project);
    const logFile = path.join(path.dirname(stateFile), `xds-${project}.log`);
    mkdirSync(path.dirname(logFile), { recursive: true });
    const log = openSync(logFile, 'w');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('scripts', 'xds', 'main.ts'), '--project', project, '--port', '0', '--exit-with-project'], {
      cwd: projectRoot,
      env: process.env,
      stdio: ['ignore', log, log],
      detached: true, // It outlives this lab command; `lab down` stops it.
    });
    closeSync(log);
    let exited: number | null | undefined;
    child.once('exit', (code) => (exited = code));
    child.unref();
    try {
      return await pollUntil(
        `the control plane of ${project} to start`,
        () => {
          if (exited !== undefined) throw new PollAborted(`the control plane did not start: ${lastLine(logFile)}`);
          return readControlPlaneState(stateFile);
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    } catch (error) {
      if (exited === undefined) child.kill('SIGTERM');
      throw new LabError(error instanceof PollAborted ? error.message : `the control plane did not start in 30 s: ${lastLine(logFile)}`);
    }
  }

  /** Stops the project's control plane if one runs; resolves to a few words saying what happened. */
  async stop(): Promise<string | undefined> {
    const state = await this.running();
    if (!state) return undefined;
    process.kill(state.pid, 'SIGTERM');
    await pollUntil('the control plane to stop', async () => (await this.running()) === undefined, { timeoutMs: 10_000 }).catch(() =>
      process.kill(state.pid, 'SIGKILL'),
    );
    return `its control plane (pid ${state.pid}) stopped`;
  }

  async status(): Promise<ControlPlaneStatus> {
    return (await this.request('GET', '/status')) as ControlPlaneStatus;
  }

  /** Serves `choice`'s cluster and routes; resolves once Envoy ACKed them (rejects with its reason on a NACK). */
  async setPolicy(choice: PolicyChoice): Promise<void> {
    await this.request('POST', '/policy', choice);
  }

  private async request(method: 'GET' | 'POST', route: string, body?: object): Promise<unknown> {
    const state = await this.ensure();
    let response: Response;
    try {
      response = await fetch(`${state.apiUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${state.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new LabError(`the control plane at ${state.apiUrl} did not answer: ${String(error)}`);
    }
    const answer = (await response.json().catch(() => ({}))) as { error?: string };
    if (!response.ok) throw new LabError(`control plane: ${answer.error ?? `HTTP ${response.status}`}`, response.status === 400 ? 2 : 1);
    return answer;
  }
}

function lastLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').at(-1) ?? 'no output';
  } catch {
    return 'no output';
  }
}
