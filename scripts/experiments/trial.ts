// The kit an experiment is written with: one Trial per run. It knows the system (driver, Envoy's admin and
// listener), puts load through Envoy with the one call loop there is (the load generator's runLoad), watches
// Envoy's view (envoy-watch.ts), reads its counters, and collects what the reports show: the steps taken, named
// figures judged against bounds, notes and charts. Whatever an experiment starts here is stopped by close().
import { setTimeout as delay } from 'node:timers/promises';
import { runLoad, type LoadOptions, type LoadReport, type SettledCall } from '../../client/src/index.js';
import { clusterHosts, clusterStat, CLUSTER_NAME } from '../envoy/index.js';
import type { LabDriver, LabReplica } from '../drivers/index.js';
import { pollUntil } from '../stack/index.js';
import { EnvoyWatch } from './envoy-watch.js';
import type { Chart, ExperimentReport, Figure } from './report.js';

/** A running replica and the host Envoy knows it as (ip:port in /clusters). */

/**
 * A reply a SIGKILL cut mid-write. grpc-js writes a reply's headers and message, and its trailers only once that
 * write completes (an event-loop turn later); a kill in between leaves Envoy with a reply it has begun to forward,
 * which it must not retry, so it resets the client's stream (INTERNAL, RST_STREAM code 2). At most one per kill.
 */
export const CUT_REPLY = {
  code: 'INTERNAL',
  figure: 'replies the kill cut mid-write (Envoy cannot retry a reply it began)',
  matches: (result: { codeName: string; details: string }): boolean => result.codeName === 'INTERNAL' && result.details.includes('RST_STREAM with code 2'),
} as const;

export interface ReplicaHost extends LabReplica {
  host: string;
}

/** Load that runs in the background while the experiment changes something. */
export interface RunningLoad {
  /** Stops starting calls, lets those in flight settle, and gives the report (the same one on every call). */
  stop(): Promise<LoadReport>;
}

/** How a trial's load is shaped unless a call says otherwise: open loop at `rate` calls/s, through Envoy. */
export type LoadShape = LoadOptions;

const DEFAULT_SHAPE: LoadShape = { rate: 50, concurrency: 100, deadlineMs: 2000, name: 'lab' };
/** A background load runs until stopped; this only bounds one an experiment forgot (close() stops it anyway). */
const BACKGROUND_LIMIT_S = 300;

export class Trial {
  readonly steps: string[] = [];
  readonly figures: Figure[] = [];
  readonly notes: string[] = [];
  readonly charts: Chart[] = [];
  private readonly loads: Promise<LoadReport>[] = [];
  private readonly stoppers: (() => void)[] = [];
  private readonly watches: EnvoyWatch[] = [];

  private constructor(
    readonly driver: LabDriver,
    /** Short variants (tests, CI) or the full ones users get by default. */
    readonly quick: boolean,
    private readonly log: (line: string) => void,
    readonly adminUrl: string,
    /** host:port of Envoy's gRPC listener. */
    readonly target: string,
  ) {}

  static async open(driver: LabDriver, quick: boolean, log: (line: string) => void): Promise<Trial> {
    return new Trial(driver, quick, log, await driver.adminUrl(), await driver.envoyTarget());
  }

  /** The quick variant's value or the full one's. */
  pick<T>(quick: T, full: T): T {
    return this.quick ? quick : full;
  }

  /** One step of the narrative: printed as it happens, and the report's "what was done". */
  step(text: string): void {
    this.steps.push(text);
    this.log(text);
  }

  /** A fact that is not a number. */
  note(text: string): void {
    this.notes.push(text);
  }

  /** The running replicas, in order, each with its Envoy host. */
  async replicas(): Promise<ReplicaHost[]> {
    return (await this.driver.replicas()).filter((r) => r.state === 'running').map((r) => ({ ...r, host: `${r.address}:${r.port}` }));
  }

  /** The n-th running replica (1-based), as `docker compose exec --index n` numbers them. */
  async replica(n: number): Promise<ReplicaHost> {
    const running = await this.replicas();
    const found = running[n - 1];
    if (!found) throw new Error(`this experiment needs at least ${n} running replicas (${running.length} run)`);
    return found;
  }

  /**
   * Starts open-loop load through Envoy (or `shape.target`) in the background (see DEFAULT_SHAPE); stop() gives its
   * report. `onSettled` hears every call as it settles (the load runs in this thread then), for per-call timings.
   */
  startLoad(shape: LoadShape = {}, onSettled?: (call: SettledCall) => void): RunningLoad {
    const abort = new AbortController();
    const options = { ...DEFAULT_SHAPE, target: this.target, durationS: BACKGROUND_LIMIT_S, ...shape };
    const report = this.track(runLoad(options, { signal: abort.signal, ...(onSettled ? { onSettled } : {}) }));
    this.stoppers.push(() => abort.abort());
    return {
      stop: () => {
        abort.abort();
        return report;
      },
    };
  }

  /** Load through Envoy (or `shape.target`) for `seconds`; resolves with its report. */
  loadFor(seconds: number, shape: LoadShape = {}): Promise<LoadReport> {
    return this.track(runLoad({ ...DEFAULT_SHAPE, target: this.target, durationS: seconds, ...shape }));
  }

  /** `count` calls in a closed loop (one lane, one after another, unless `shape.concurrency` says more). */
  sendCalls(count: number, shape: LoadShape = {}): Promise<LoadReport> {
    return this.track(runLoad({ ...DEFAULT_SHAPE, target: this.target, rate: undefined, concurrency: 1, count, ...shape }));
  }

  /** A measurement window: `seconds` during which whatever load is running goes on (not a wait for a condition). */
  async window(seconds: number): Promise<void> {
    await delay(seconds * 1000);
  }

  /** Every call of every load of this trial: sent, and failed with a status per code. */
  async calls(): Promise<{ sent: number; failed: number; failedByCode: Record<string, number> }> {
    const reports = await Promise.all(this.loads);
    const failedByCode: Record<string, number> = {};
    for (const report of reports) {
      for (const [code, count] of Object.entries(report.failedByCode)) failedByCode[code] = (failedByCode[code] ?? 0) + count;
    }
    return {
      sent: reports.reduce((sum, r) => sum + r.sent, 0),
      failed: reports.reduce((sum, r) => sum + r.failed, 0),
      failedByCode,
    };
  }

  /** Starts watching Envoy's /clusters from now on (every 50 ms); its times are ms after this moment. */
  watchEnvoy(): EnvoyWatch {
    const watch = new EnvoyWatch(this.adminUrl);
    this.watches.push(watch);
    return watch;
  }

  /** A counter of the greeter cluster from now on: since() is how much it grew, e.g. retries. */
  async counting(stat: string): Promise<{ since(): Promise<number> }> {
    const start = await clusterStat(this.adminUrl, CLUSTER_NAME, stat);
    return { since: async () => (await clusterStat(this.adminUrl, CLUSTER_NAME, stat)) - start };
  }

  /** Resolves once Envoy sees exactly `count` hosts, all healthy, none at an address in `without`. */
  async waitHealthy(count: number, without: string[] = []): Promise<void> {
    await pollUntil(
      `Envoy to see ${count} healthy replicas`,
      async () => {
        const hosts = await clusterHosts(this.adminUrl, CLUSTER_NAME);
        return hosts.length === count && hosts.every((h) => h.healthy && !without.includes(h.address));
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  /**
   * Judges that no call of this trial's loads failed (the figure `name`), and notes the failures by status when
   * some did: what a lost call was is the first thing to ask of a failed run.
   */
  async noFailedCalls(name = 'failed calls', { kills = 0 }: { kills?: number } = {}): Promise<boolean> {
    const { failed, failedByCode } = await this.calls();
    if (failed > 0) this.note(`${name}: ${Object.entries(failedByCode).map(([code, n]) => `${code} ${n}`).join(', ')}`);
    if (kills === 0) return this.exactly(name, failed, 0, 'calls');
    // Through Envoy nothing else in a kill trial answers INTERNAL: those are replies the kill cut (see CUT_REPLY).
    const cut = Math.min(failedByCode[CUT_REPLY.code] ?? 0, kills);
    this.figure(CUT_REPLY.figure, cut, 'calls');
    return this.exactly(`${name}, apart from those`, failed - cut, 0, 'calls');
  }

  /** A figure judged: at most `bound`. An undefined value (it never happened) fails. */
  atMost(name: string, value: number | undefined, bound: number, unit: string): boolean {
    return this.judge(name, value, unit, '<=', bound);
  }

  atLeast(name: string, value: number | undefined, bound: number, unit: string): boolean {
    return this.judge(name, value, unit, '>=', bound);
  }

  exactly(name: string, value: number | undefined, expected: number, unit: string): boolean {
    return this.judge(name, value, unit, '==', expected);
  }

  /** A figure reported, not judged. */
  figure(name: string, value: number | undefined, unit: string): void {
    this.figures.push({ name, value: value ?? Number.NaN, unit });
  }

  /** The calls each replica answered in a load report, as a chart (replicas that answered none show 0). */
  answeredChart(title: string, report: LoadReport, replicas: readonly LabReplica[]): Map<string, number> {
    const counts = answeredBy(report, replicas);
    this.charts.push({ title, unit: 'calls', bars: [...counts].map(([label, value]) => ({ label, value })) });
    return counts;
  }

  chart(title: string, unit: string, bars: { label: string; value: number }[]): void {
    this.charts.push({ title, unit, bars });
  }

  /** Stops every load and watch this trial started; each load's calls still settle and count. */
  async close(): Promise<void> {
    for (const stop of this.stoppers) stop();
    await Promise.allSettled([...this.loads, ...this.watches.map((w) => w.stop())]);
  }

  /** The report's body; pass when every judged figure kept its bound. */
  outcome(): Pick<ExperimentReport, 'steps' | 'figures' | 'notes' | 'charts' | 'pass'> {
    const judged = this.figures.filter((f) => f.bound);
    return {
      steps: this.steps,
      figures: this.figures,
      notes: this.notes,
      charts: this.charts,
      pass: judged.length > 0 && judged.every((f) => f.pass),
    };
  }

  private judge(name: string, value: number | undefined, unit: string, op: '<=' | '>=' | '==', bound: number): boolean {
    const v = value ?? Number.NaN;
    const pass = op === '<=' ? v <= bound : op === '>=' ? v >= bound : v === bound;
    this.figures.push({ name, value: v, unit, bound: { op, value: bound }, pass });
    return pass;
  }

  private track(report: Promise<LoadReport>): Promise<LoadReport> {
    this.loads.push(report);
    report.catch(() => undefined); // Awaited by the caller or close(); this only keeps an early failure handled.
    return report;
  }
}

/** Calls answered per replica name in a load report; replicas that answered none count 0. */
export function answeredBy(report: LoadReport, replicas: readonly LabReplica[]): Map<string, number> {
  const counts = new Map(replicas.map((r) => [r.name, 0]));
  for (const host of report.hosts) counts.set(host.hostname, (counts.get(host.hostname) ?? 0) + host.count);
  return counts;
}

/** "a 33%, b 33%, c 34%": each replica's share of the answered calls. */
export function shareLine(counts: Map<string, number>): string {
  const total = [...counts.values()].reduce((a, b) => a + b, 0) || 1;
  return [...counts].map(([name, n]) => `${name} ${Math.round((n / total) * 100)}%`).join(', ');
}
