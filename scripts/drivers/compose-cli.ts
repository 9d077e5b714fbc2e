// dockerode speaks the Engine API, which has no notion of Compose projects: bringing the project up, scaling and
// taking it down go through the `docker compose` CLI, so what the lab does is exactly what a user would type.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import path from 'node:path';
import { LabError } from './driver.js';

/** What one `docker compose` invocation left behind. */
export interface ComposeResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `docker compose <file flags> ...args`; rejects only when it could not run or timed out. `env` is added to the
 * environment Compose sees; `overrides` are Compose files merged over the project's own for this one invocation
 * (`-f` after the main file).
 */
export type ComposeRunner = (args: string[], extra?: { env?: Record<string, string>; overrides?: readonly string[] }) => Promise<ComposeResult>;

/** How to reach the one Compose project the lab drives. */
export interface ComposeRunnerOptions {
  /**
   * The compose file; its folder is the project directory and the working directory. No -p: the project name is
   * resolved as a user's own `docker compose` resolves it (COMPOSE_PROJECT_NAME, .env, then the file's `name:`).
   */
  composeFile: string;
  /** Upper bound for one invocation; `up --build` may pull and build images, so the default is generous. */
  timeoutMs?: number;
  /** The program and leading arguments; the tests put a stand-in here instead of `docker compose`. */
  command?: readonly [string, ...string[]];
  /** The environment Compose sees (COMPOSE_PROJECT_NAME, PORT_PROXY, PORT_ADMIN, ...); default this process's. */
  env?: NodeJS.ProcessEnv;
  /** Every stderr line as it arrives (Compose reports its progress there), e.g. to show a long build. */
  onLine?: (line: string) => void;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const KILL_GRACE_MS = 5_000;

/** The real runner: spawns `docker compose -f <composeFile> ...args` with a timeout. */
export function createComposeRunner(options: ComposeRunnerOptions): ComposeRunner {
  const [program, ...leading] = options.command ?? ['docker', 'compose'];
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return (args, { env: extraEnv = {}, overrides = [] } = {}) =>
    new Promise<ComposeResult>((resolve, reject) => {
      const files = [options.composeFile, ...overrides].flatMap((file) => ['-f', file]);
      const child = spawn(program, [...leading, ...files, ...args], {
        cwd: path.dirname(options.composeFile),
        env: { ...(options.env ?? process.env), ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let pendingLine = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (!options.onLine) return;
        const lines = (pendingLine + chunk).split('\n');
        pendingLine = lines.pop() ?? '';
        for (const line of lines) options.onLine(line);
      });
      let forceKill: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        // SIGTERM lets Compose cancel cleanly; SIGKILL if it is still there after a grace period.
        child.kill('SIGTERM');
        forceKill = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
        reject(new LabError(`docker compose ${args.join(' ')} did not finish within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      child.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new LabError(
            error.code === 'ENOENT'
              ? `cannot run docker compose: ${program} not found (install the Docker CLI with the compose plugin)`
              : `cannot run docker compose: ${error.message}`,
          ),
        );
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        clearTimeout(forceKill);
        if (pendingLine !== '') options.onLine?.(pendingLine);
        // A signal (ours on timeout, or anyone's) counts as a failure; 128+n is how a shell would report it.
        resolve({ code: code ?? 128 + (signal === null ? 0 : constants.signals[signal]), stdout, stderr });
      });
    });
}

/** The one line that says why a compose command failed: its last non-empty stderr line. */
export function composeErrorLine(stderr: string): string {
  // Without the compose plugin the docker CLI ends with a generic "Run 'docker --help'" hint; name the real cause.
  if (/unknown command: docker compose/.test(stderr)) {
    return 'the docker CLI has no compose plugin (install Docker Compose v2)';
  }
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.at(-1) ?? '(no error output)';
}
