import { spawn, type ChildProcess } from 'node:child_process';

/** How a finished command ended, with everything it printed. */
export interface CommandResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

/** Where and how long a command may run. */
export interface CommandOptions {
  cwd: string;
  /** Killed (SIGKILL) after this long, so a hung tool fails its test instead of hanging the run. */
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

// Commands still running, so a test that gives up early (its own timeout) can still kill them in teardown.
const running = new Set<ChildProcess>();

/** Runs a command (no shell) to completion and collects its output; never rejects for a non-zero exit. */
export function runCommand(command: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  const described = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`cannot run ${described}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ command: described, code, signal, timedOut, stdout, stderr });
    });
  });
}

/** Kills every command this module started that is still running (for afterEach/afterAll). */
export function killRunningCommands(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** The whole story of a run, for a failure message: command, how it ended, and its output. */
export function describeResult(result: CommandResult): string {
  const ending = result.timedOut
    ? 'timed out and was killed'
    : result.signal !== null
      ? `was killed by ${result.signal}`
      : `exited with code ${String(result.code)}`;
  return [`$ ${result.command}`, `(${ending})`, result.stdout.trimEnd(), result.stderr.trimEnd()]
    .filter((part) => part !== '')
    .join('\n');
}
