import { CallTally, type TallySnapshot } from './call-tally.js';
import type { CallRecord } from './worker-log.js';
import { unexpectedFailure, type CallResult } from './greeter-call.js';

/** How often to call, how many calls, and the bounds the scheduler keeps. */
export interface WorkerSettings {
  intervalMs: number;
  /** Stop after this many calls have settled; 0 = until stop(). */
  count: number;
  /** Period of the running summary; 0 = only the final one. */
  summaryEveryMs: number;
  /** Never more than this many calls in flight at once. */
  maxInFlight: number;
}

/** What the worker calls out to: the call itself and where its events go. */
export interface WorkerHooks {
  /** Makes one call; must settle, and should settle as CANCELLED soon after `signal` aborts. */
  call(signal: AbortSignal): Promise<CallResult>;
  onCall(record: CallRecord): void;
  onSummary(snapshot: TallySnapshot, final: boolean): void;
  onSkip(inFlight: number, limit: number): void;
  now?: () => Date;
}

/**
 * The in-flight bound for a deadline and interval: a call lasts at most its deadline, so at most
 * ceil(deadline / interval) calls overlap on a steady timer; one more absorbs timer jitter.
 */
export function maxInFlightFor(intervalMs: number, deadlineMs: number): number {
  return Math.ceil(deadlineMs / intervalMs) + 1;
}

/**
 * Starts one call per interval on a fixed timer (calls are independent, so a slow one does not delay the next),
 * keeps the tally, and on stop() waits for calls in flight before the final summary.
 */
export class CallWorker {
  readonly tally = new CallTally();
  /** Resolves with the final counters once the worker has stopped and every call has settled. */
  readonly finished: Promise<TallySnapshot>;

  readonly #settings: WorkerSettings;
  readonly #hooks: WorkerHooks;
  readonly #now: () => Date;
  readonly #abort = new AbortController();
  #resolveFinished: (snapshot: TallySnapshot) => void = () => {};
  #tickTimer: NodeJS.Timeout | undefined;
  #summaryTimer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #tickIndex = 0;
  #started = false;
  #stopping = false;
  #done = false;

  constructor(settings: WorkerSettings, hooks: WorkerHooks) {
    this.#settings = settings;
    this.#hooks = hooks;
    this.#now = hooks.now ?? (() => new Date());
    this.finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
  }

  /** Makes the first call now and schedules the rest. */
  start(): void {
    if (this.#started) throw new Error('worker already started');
    this.#started = true;
    if (this.#stopping) return;
    this.#startedAt = performance.now();
    if (this.#settings.summaryEveryMs > 0) {
      this.#summaryTimer = setInterval(() => this.#hooks.onSummary(this.tally.snapshot(), false), this.#settings.summaryEveryMs);
    }
    this.#tick();
  }

  /** Stops starting calls; `finished` resolves once the calls in flight have settled. */
  stop(): Promise<TallySnapshot> {
    this.#stopping = true;
    clearTimeout(this.#tickTimer);
    this.#finishIfSettled();
    return this.finished;
  }

  /** Cancels every call in flight (they settle as CANCELLED), for a second signal from an impatient user. */
  cancelInFlight(): void {
    this.#abort.abort();
  }

  #tick(): void {
    if (this.#stopping || this.#countReached()) return;
    const limit = this.#settings.maxInFlight;
    if (this.tally.inFlight >= limit) {
      this.tally.skip();
      this.#hooks.onSkip(this.tally.inFlight, limit);
    } else {
      this.#launch();
    }
    if (this.#countReached()) return;
    this.#scheduleNextTick();
  }

  #scheduleNextTick(): void {
    const { intervalMs } = this.#settings;
    const elapsed = performance.now() - this.#startedAt;
    // Ticks sit on a fixed grid (start + k * interval) so the rate does not drift; if the event loop was blocked
    // past several ticks, those are dropped instead of fired in a burst.
    this.#tickIndex = Math.max(this.#tickIndex + 1, Math.ceil(elapsed / intervalMs));
    const delay = Math.max(0, this.#tickIndex * intervalMs - elapsed);
    this.#tickTimer = setTimeout(() => this.#tick(), delay);
  }

  #launch(): void {
    const seq = this.tally.start();
    const time = this.#now();
    this.#hooks
      .call(this.#abort.signal)
      // Meant never to reject; if it does anyway, the call still has to be counted once.
      .catch((error: unknown) => unexpectedFailure(error))
      .then((result) => {
        this.tally.settle(seq, result);
        this.#hooks.onCall({ time, seq, result });
        this.#finishIfSettled();
      });
  }

  #countReached(): boolean {
    return this.#settings.count > 0 && this.tally.sent >= this.#settings.count;
  }

  #finishIfSettled(): void {
    if (this.#done) return;
    if (!(this.#stopping || this.#countReached()) || this.tally.inFlight > 0) return;
    this.#done = true;
    clearTimeout(this.#tickTimer);
    clearInterval(this.#summaryTimer);
    const snapshot = this.tally.snapshot();
    this.#hooks.onSummary(snapshot, true);
    this.#resolveFinished(snapshot);
  }
}
