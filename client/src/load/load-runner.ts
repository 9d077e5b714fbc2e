import { setMaxListeners } from 'node:events';
import { unexpectedFailure, type CallResult } from '../greeter-call.js';
import { LoadTally, type TallyData } from './load-tally.js';
import { slotDueMs, slotsDueBy, slotsWithin } from './rate-schedule.js';
import { callIndex, keyFor, type ShardPlan } from './shard-plan.js';

/** Makes one call carrying `key` (the key header value, if any); must settle, as CANCELLED soon after `signal` aborts. */
export type ShardCall = (key: string | undefined, signal: AbortSignal) => Promise<CallResult>;

/** How one shard's run ended. Times are epoch ms (with sub-ms precision) so shards in other threads compare. */
export interface ShardResult {
  tally: TallyData;
  startedAtMs: number;
  endedAtMs: number;
  /** Stopped by stop()/cancel() before its duration or count was through. */
  interrupted: boolean;
}

// A closed-loop lane whose calls settle without I/O (a closed channel fails synchronously) would otherwise loop on
// microtasks alone and starve timers and signal handlers; it yields to the event loop this often.
const LANE_YIELD_EVERY = 64;

/**
 * Runs one shard of a load run over the `call` it is given. Closed loop (no rate): `concurrency` lanes, each
 * starting its next call as soon as the previous one settled. Open loop: calls start on the rate schedule whatever
 * the completions; a call due while `concurrency` calls are in flight is skipped and counted (skippedAtCap).
 * stop() stops starting calls and lets those in flight settle (they have deadlines); cancel() also aborts them.
 */
export class LoadRunner {
  /** Resolves once calls are no longer started and every started one has settled. */
  readonly finished: Promise<ShardResult>;
  readonly #shard: ShardPlan;
  readonly #call: ShardCall;
  readonly #tally = new LoadTally();
  // Every call in flight listens on this one signal (cancel() aborts them all): thousands of listeners are the
  // design here, not a leak, so Node's 10-listener warning is switched off for it.
  readonly #abort = withoutListenerLimit(new AbortController());
  #resolve: (result: ShardResult) => void = () => {};
  #startedAt = 0;
  #startedAtEpoch = 0;
  #timer: NodeJS.Timeout | undefined;
  #nextSlot = 0;
  #started = false;
  #stopRequested = false;
  #sendingOver = false;
  #interrupted = false;
  #done = false;

  constructor(shard: ShardPlan, call: ShardCall) {
    this.#shard = shard;
    this.#call = call;
    this.finished = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Starts sending; call once. */
  start(): void {
    if (this.#started) throw new Error('load runner already started');
    this.#started = true;
    this.#startedAt = performance.now();
    this.#startedAtEpoch = epochNow();
    if (this.#stopRequested) {
      this.#endSending();
      return;
    }
    if (this.#shard.rate === null) this.#runClosedLoop();
    else this.#tick();
  }

  /** Stops starting calls; `finished` resolves once those in flight have settled. */
  stop(): void {
    if (this.#stopRequested) return;
    this.#stopRequested = true;
    if (!this.#sendingOver && !this.#limitReached()) this.#interrupted = true;
    clearTimeout(this.#timer);
    // A closed loop's lanes notice the stop after their current call; an open loop has nothing else to wait for.
    if (this.#shard.rate !== null || !this.#started) this.#endSending();
  }

  /** Stops and cancels every call in flight; they settle as CANCELLED failures. */
  cancel(): void {
    this.stop();
    this.#abort.abort();
  }

  /** The counters so far. */
  snapshot(): TallyData {
    return this.#tally.snapshot();
  }

  #runClosedLoop(): void {
    const lanes = Array.from({ length: this.#shard.concurrency }, () => this.#lane());
    void Promise.all(lanes).then(() => this.#endSending());
  }

  async #lane(): Promise<void> {
    let calls = 0;
    while (this.#mayStartAnother()) {
      await this.#launch();
      if (++calls % LANE_YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #mayStartAnother(): boolean {
    return !this.#stopRequested && !this.#limitReached();
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#sendingOver) return;
    const rate = this.#shard.rate ?? 1;
    const { position, limit, concurrency } = this.#shard;
    const lastSlot = limit.kind === 'duration' ? slotsWithin(limit.ms, position, rate) : Infinity;
    const due = Math.min(slotsDueBy(performance.now() - this.#startedAt, position, rate), lastSlot);
    // Slots missed while the event loop was busy are started now, so the run keeps its average rate.
    while (this.#nextSlot < due && !this.#countReached()) {
      this.#nextSlot++;
      if (this.#tally.inFlight >= concurrency) this.#tally.skipAtCap();
      else void this.#launch();
    }
    if (this.#countReached() || this.#nextSlot >= lastSlot) {
      this.#endSending();
      return;
    }
    const delay = slotDueMs(this.#nextSlot, position, rate) - (performance.now() - this.#startedAt);
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, delay));
  }

  #limitReached(): boolean {
    const { limit } = this.#shard;
    if (limit.kind === 'count') return this.#tally.sent >= limit.calls;
    return this.#started && performance.now() - this.#startedAt >= limit.ms;
  }

  #countReached(): boolean {
    const { limit } = this.#shard;
    return limit.kind === 'count' && this.#tally.sent >= limit.calls;
  }

  #launch(): Promise<void> {
    const key = keyFor(callIndex(this.#shard.position, this.#tally.sent), this.#shard.keys);
    this.#tally.start();
    return this.#call(key, this.#abort.signal)
      // Meant never to reject; if it does anyway, the call still has to be counted once.
      .catch((error: unknown) => unexpectedFailure(error))
      .then((result) => {
        this.#tally.settle(result, key);
        this.#finishIfSettled();
      });
  }

  #endSending(): void {
    this.#sendingOver = true;
    clearTimeout(this.#timer);
    this.#finishIfSettled();
  }

  #finishIfSettled(): void {
    if (this.#done || !this.#sendingOver || this.#tally.inFlight > 0) return;
    this.#done = true;
    const startedAtMs = this.#started ? this.#startedAtEpoch : epochNow();
    this.#resolve({ tally: this.#tally.snapshot(), startedAtMs, endedAtMs: epochNow(), interrupted: this.#interrupted });
  }
}

/** Wall-clock ms with performance.now()'s precision, comparable across threads. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

function withoutListenerLimit(controller: AbortController): AbortController {
  setMaxListeners(0, controller.signal);
  return controller;
}
