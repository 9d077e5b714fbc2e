// The system the perf bench measures: `npm start` itself, as a user runs it (its own ports and state file, no worker
// client), so the supervisor that re-prints every log line is measured too. Its output goes to a file, not to this
// process, so reading it costs the load client nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ACCESS_LOG_OK_PERCENT_KEY, projectRoot } from '../../envoy/index.js';
import { freePort, PollAborted, pollUntil, readStateFile } from '../../stack/index.js';
import { commandOf } from './proc-usage.js';

/** One process of the system and the part it plays. */
export interface MeasuredProcess {
  role: 'envoy' | 'replica' | 'supervisor';
  name: string;
  pid: number;
}

export class SystemUnderTest {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly envoyTarget: string,
    private readonly adminUrl: string,
    /** host:port of every replica, for the direct path. */
    readonly replicaAddresses: string[],
    readonly processes: MeasuredProcess[],
    /** How long `npm start` took until it said ready (Envoy sees every replica healthy), ms. */
    readonly startMs: number,
  ) {}

  /** Starts `npm start --no-client --replicas <n>` on free ports and resolves once it wrote its state file. */
  static async start(replicas: number, extraArgs: string[] = []): Promise<SystemUnderTest> {
    const dir = mkdtempSync(path.join(tmpdir(), 'grpc-envoy-lab-perf-'));
    const stateFile = path.join(dir, 'local-stack.json');
    const [port, adminPort, serverPort] = [await freePort(), await freePort(), await freePort()];
    const log = openSync(path.join(dir, 'npm-start.log'), 'w');
    const startedAt = performance.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join('scripts', 'stack', 'start.ts'), '--no-client', '--replicas', String(replicas),
        '--port', String(port), '--admin-port', String(adminPort), '--server-port', String(serverPort), ...extraArgs],
      { cwd: projectRoot, env: { ...process.env, LAB_STATE_FILE: stateFile }, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    try {
      const state = await pollUntil(
        'npm start to report ready',
        () => {
          if (child.exitCode !== null) throw new PollAborted(`npm start exited (${child.exitCode}): ${readFileSync(path.join(dir, 'npm-start.log'), 'utf8').trim().split('\n').at(-1)}`);
          return readStateFile(stateFile);
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      const startMs = performance.now() - startedAt;
      const children = state.processes.map((pid) => ({ pid, command: commandOf(pid) }));
      const envoy = children.filter((c) => c.command === 'envoy');
      const replicaPids = children.filter((c) => c.command !== 'envoy');
      const processes: MeasuredProcess[] = [
        { role: 'supervisor', name: 'npm start', pid: state.pid },
        ...envoy.map(({ pid }) => ({ role: 'envoy' as const, name: 'envoy', pid })),
        ...replicaPids.map(({ pid }, i) => ({ role: 'replica' as const, name: `grpc-server-${i + 1}`, pid })),
      ];
      const replicaAddresses = Array.from({ length: replicas }, (_, i) => `127.0.0.${i + 2}:${serverPort}`);
      return new SystemUnderTest(child, dir, `127.0.0.1:${port}`, `http://127.0.0.1:${adminPort}`, replicaAddresses, processes, startMs);
    } catch (error) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Sets the share of OK calls Envoy's access log keeps, live, through the admin's runtime (envoy.yaml's filter). */
  async setAccessLogOkPercent(percent: number): Promise<void> {
    const response = await fetch(`${this.adminUrl}/runtime_modify?${ACCESS_LOG_OK_PERCENT_KEY}=${percent}`, { method: 'POST' });
    if (!response.ok) throw new Error(`Envoy's admin refused the runtime change (${response.status}): ${(await response.text()).trim()}`);
  }

  /** Stops `npm start` (it stops every child) and removes its folder. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
