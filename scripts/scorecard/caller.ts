// The lab's side of the scorecard's caller (caller-process.ts): one child process for a whole scorecard run, asked to
// run loads and answering with every call as it settles and the load generator's report at the end.
import path from 'node:path';
import type { LoadOptions, LoadReport } from '../../client/src/index.js';
import { projectRoot } from '../envoy/index.js';
import { ManagedProcess, pollUntil } from '../stack/index.js';

/** One settled call: when it started (epoch ms), how long it took, its grpc code, and who answered (OK calls). */
export interface CallEvent {
  startedAt: number;
  latencyMs: number;
  code: number;
  host: string | undefined;
}

/** A load the caller is running. */
export interface CallerRun {
  /** Every call settled so far (only with `events`), in the order they settled. */
  readonly calls: CallEvent[];
  /** The load generator's report, once every call has settled. */
  readonly report: Promise<LoadReport>;
  /** Stops starting calls; resolves with the report once those in flight have settled. */
  stop(): Promise<LoadReport>;
}

type Message = { ready?: true; id?: number; call?: [number, number, number, string | null]; report?: LoadReport; error?: string };

const ENTRY = path.join('scripts', 'scorecard', 'caller-process.ts');

export class Caller {
  private nextId = 1;
  private readonly pending = new Map<number, { calls: CallEvent[]; resolve: (report: LoadReport) => void; reject: (error: Error) => void }>();
  private ready = false;

  private constructor(private readonly child: ManagedProcess) {
    child.onLine((line, stream) => {
      if (stream === 'stderr') return;
      let message: Message;
      try {
        message = JSON.parse(line) as Message;
      } catch {
        return; // Not ours (a library's warning): the protocol is JSON lines only.
      }
      if (message.ready) this.ready = true;
      const run = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!run || message.id === undefined) return;
      if (message.call) {
        const [startedAt, latencyMs, code, host] = message.call;
        run.calls.push({ startedAt, latencyMs, code, host: host ?? undefined });
      } else if (message.report) {
        this.pending.delete(message.id);
        run.resolve(message.report);
      } else if (message.error !== undefined) {
        this.pending.delete(message.id);
        run.reject(new Error(message.error));
      }
    });
    void child.exited.then((code) => {
      for (const run of this.pending.values()) run.reject(new Error(`the scorecard's caller exited (${code})`));
      this.pending.clear();
    });
  }

  /** Starts the caller process and resolves once it can take loads. */
  static async start(): Promise<Caller> {
    const child = new ManagedProcess(process.execPath, ['--import', 'tsx', ENTRY], {
      cwd: projectRoot,
      env: { ...process.env, GRPC_NODE_USE_ALTERNATIVE_RESOLVER: 'true' },
      stdin: 'pipe',
      keepOutput: true,
    });
    const caller = new Caller(child);
    await pollUntil(
      "the scorecard's caller to start",
      () => {
        if (!child.running) throw new Error(`the scorecard's caller exited: ${child.output.stderr.trim() || 'no output'}`);
        return caller.ready;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    ).catch(async (error: unknown) => {
      await child.stop('SIGKILL');
      throw error;
    });
    return caller;
  }

  /** Starts a load (the load generator's options; always one worker, one channel); `events` streams every call. */
  run(options: LoadOptions, { events = false }: { events?: boolean } = {}): CallerRun {
    const id = this.nextId++;
    const calls: CallEvent[] = [];
    const report = new Promise<LoadReport>((resolve, reject) => this.pending.set(id, { calls, resolve, reject }));
    report.catch(() => undefined); // Awaited by the caller of run(); this only keeps an early failure handled.
    this.child.writeLine(JSON.stringify({ id, op: 'run', options, events }));
    return {
      calls,
      report,
      stop: () => {
        this.child.writeLine(JSON.stringify({ id, op: 'stop' }));
        return report;
      },
    };
  }

  /** Ends the caller: calls in flight settle (they have deadlines), then it exits; SIGKILL if it lingers. */
  async close(): Promise<void> {
    this.child.child.stdin?.end();
    await Promise.race([this.child.exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    await this.child.stop('SIGKILL');
  }
}
