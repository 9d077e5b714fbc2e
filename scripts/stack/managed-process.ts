import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Called once per line a child prints; `stream` tells stdout from stderr. */
export type LineHandler = (line: string, stream: 'stdout' | 'stderr') => void;

/** How a process ended: its exit code, or the signal that ended it. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A child process whose output arrives line by line and whose end can be awaited. Stopping escalates from the
 * given signal to SIGKILL after a grace period, so nothing is ever left running.
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** Resolves once the process has exited and its output has been read to the end (so `output` is complete). */
  readonly closed: Promise<ExitStatus>;
  /** All text printed on each stream so far; kept only when constructed with `keepOutput: true`. */
  readonly output: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private exitedAlready = false;
  private readonly lineHandlers: LineHandler[] = [];

  constructor(
    command: string,
    args: string[],
    options: {
      cwd: string;
      env: NodeJS.ProcessEnv;
      stdin?: 'ignore' | 'pipe';
      keepOutput?: boolean;
      /**
       * SIGKILL the child when this process dies, however it dies (even by SIGKILL, when no exit handler runs):
       * the kernel's parent-death signal, set by util-linux `setpriv` (Linux). Where there is no setpriv, the
       * child is started as is, and `parentDeathSignalAvailable()` says so.
       */
      dieWithParent?: boolean;
    },
  ) {
    const [program, argv] =
      options.dieWithParent && parentDeathSignalAvailable() ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
    this.child = spawn(program, argv, { cwd: options.cwd, env: options.env, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitedAlready = true;
        resolve(code ?? signal ?? 'SIGKILL');
      });
      // A failed spawn (binary missing) emits 'error' without 'exit'.
      this.child.once('error', () => {
        this.exitedAlready = true;
        resolve(127);
      });
    });
    this.closed = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = this.child[stream];
      if (!source) continue;
      if (options.keepOutput) {
        const decoder = new StringDecoder('utf8');
        source.on('data', (chunk: Buffer) => (this.output[stream] += decoder.write(chunk)));
      }
      // Split by hand rather than with readline: at thousands of access-log lines a second readline's per-line
      // machinery was a visible share of npm start's CPU; a chunk here is split in one pass.
      const lines = new StringDecoder('utf8');
      let partial = '';
      const emit = (line: string): void => {
        const text = line.endsWith('\r') ? line.slice(0, -1) : line;
        for (const handler of this.lineHandlers) handler(text, stream);
      };
      source.on('data', (chunk: Buffer) => {
        const text = partial + lines.write(chunk);
        let start = 0;
        for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
          emit(text.slice(start, end));
          start = end + 1;
        }
        partial = text.slice(start);
      });
      source.on('end', () => {
        const rest = partial + lines.end();
        partial = '';
        if (rest !== '') emit(rest);
      });
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exitedAlready;
  }

  onLine(handler: LineHandler): void {
    this.lineHandlers.push(handler);
  }

  /** Resolves with the first line that matches, or rejects when the process exits first or the time is up. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms`)), timeoutMs);
      this.onLine((line) => {
        const match = pattern.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match);
        }
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`process exited (${code}) before printing a line matching ${pattern}`));
      });
    });
  }

  /** Writes one line to the child's stdin (spawned with stdin: 'pipe'). */
  writeLine(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Sends a signal if still running. */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILLs. Resolves once the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number | NodeJS.Signals> {
    if (!this.running) return this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

const SETPRIV = '/usr/bin/setpriv';
let setprivFound: boolean | undefined;

/** True where children can be tied to this process's life (util-linux setpriv with --pdeathsig, on Linux). */
export function parentDeathSignalAvailable(): boolean {
  if (setprivFound === undefined) {
    try {
      accessSync(SETPRIV, constants.X_OK);
      setprivFound = process.platform === 'linux';
    } catch {
      setprivFound = false;
    }
  }
  return setprivFound;
}
