import { projectRoot } from '../../scripts/envoy/paths.js';
import { ManagedProcess, type ExitStatus } from '../../scripts/stack/managed-process.js';
import { pollUntil } from '../../scripts/stack/poll-until.js';

/** Variables for a child process; `undefined` leaves a variable unset. */
export type ChildVars = Record<string, string | undefined>;

/** The test's own environment minus `unset` (so the developer's shell cannot change a test), plus `env`. */
export function childEnv(unset: readonly string[], env: ChildVars): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = { ...process.env };
  for (const name of unset) delete result[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result;
}

/**
 * A TypeScript program started exactly as the npm scripts start it (`node --import tsx <script>` from the repo root),
 * with its stdout lines and its output text kept for assertions and failure messages.
 */
export class TsProcess {
  /** Every stdout line so far. */
  readonly lines: string[] = [];
  /** Resolves once the program has exited and all its output has been read. */
  readonly ended: Promise<ExitStatus>;
  readonly #process: ManagedProcess;
  #exit: ExitStatus | undefined;

  constructor(script: string, args: readonly string[], env: NodeJS.ProcessEnv) {
    this.#process = new ManagedProcess(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: projectRoot,
      env,
      keepOutput: true,
    });
    this.#process.onLine((line, stream) => {
      if (stream === 'stdout') this.lines.push(line);
    });
    this.ended = this.#process.closed.then((exit) => (this.#exit = exit));
  }

  /** True until the program has exited. */
  get running(): boolean {
    return this.#process.running;
  }

  get stdout(): string {
    return this.#process.output.stdout;
  }

  get stderr(): string {
    return this.#process.output.stderr;
  }

  /** Sends a signal (SIGTERM by default). */
  signal(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.#process.signal(signal);
  }

  /**
   * Polls `check` until it returns something other than undefined/false, and resolves with that. Fails after
   * `timeoutMs`, or as soon as the program has ended without it (it cannot print anything more), with the output.
   */
  async until<T>(description: string, check: () => T | undefined | false, timeoutMs: number): Promise<T> {
    let outcome: { value: T } | { ended: ExitStatus };
    try {
      outcome = await pollUntil<{ value: T } | { ended: ExitStatus }>(
        description,
        () => {
          const value = check();
          if (value !== undefined && value !== false) return { value };
          return this.#exit && { ended: this.#exit };
        },
        { timeoutMs, intervalMs: 20 },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${this.describe()}`);
    }
    if ('ended' in outcome) throw new Error(`exited (${JSON.stringify(outcome.ended)}) before ${description}\n${this.describe()}`);
    return outcome.value;
  }

  /** Waits for the program to exit and its output to be read, failing after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<ExitStatus> {
    return this.until('the process to exit', () => this.#exit, timeoutMs);
  }

  /** SIGKILLs the program if it still runs and resolves once it is gone; for teardown. */
  async kill(): Promise<void> {
    await this.#process.stop('SIGKILL');
  }

  /** The output so far, for failure messages. */
  describe(): string {
    return `stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`;
  }
}

/** Kills every process in `processes` and empties the set; call from afterEach/afterAll. */
export async function killAll(processes: Set<TsProcess>): Promise<void> {
  const all = [...processes];
  processes.clear();
  await Promise.all(all.map((child) => child.kill()));
}
