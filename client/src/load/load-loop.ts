/**
 * The one loop that sends calls, and how a shard makes them over its own channel. Closed loop (no rate): lanes that
 * each start the next call as soon as the previous one settled. Open loop: calls start on a fixed schedule whatever
 * the completions, with a cap on calls in flight (a call due at the cap is skipped and counted). Both honour a limit
 * (duration, count, or none until stopped), stop (let calls in flight settle) and cancel (abort them), keep the
 * accounting of load-tally.ts, where every started call settles exactly once, and can report each settled and each
 * skipped call as it happens. The load generator and the worker client both run on it, so there is one schedule and
 * one set of counts to trust.
 */
import { setMaxListeners } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import { callGreeter, createGreeterClient, unexpectedFailure, type CallResult } from '../greeter-call.js';
import type { LoadLimit, LoadPlan } from './load-options.js';
import { isXdsTarget, xdsChannelOptions } from '../xds-target.js';
import { LoadTally, type TallyData } from './load-tally.js';

/** One worker's part of a run: its own channel, its share of the concurrency and of the calls. */
export interface ShardPlan {
  position: ShardPosition;
  /** This shard's calls in flight at most (and closed-loop lanes). */
  concurrency: number;
  /** The whole run's rate; the shard keeps its own slots of that one schedule (see load-loop.ts). */
  rate: number | null;
  catchUp: boolean;
  /** A duration applies to every shard as is; a count is this shard's share of the total. */
  limit: LoadLimit;
  keys: LoadPlan['keys'];
  target: string;
  deadlineMs: number;
  metadata: Array<[string, string]>;
  name: string;
  balancing: LoadPlan['balancing'];
  xdsBootstrap: LoadPlan['xdsBootstrap'];
}

/** Makes one call carrying `key` (the key header value, if any); must settle, as CANCELLED soon after `signal` aborts. */
export type ShardCall = (key: string | undefined, signal: AbortSignal) => Promise<CallResult>;

/** How one shard's run ended. Times are epoch ms (with sub-ms precision) so shards in other threads compare. */
export interface ShardResult {
  tally: TallyData;
  startedAtMs: number;
  endedAtMs: number;
  /** Stopped by stop()/cancel() before its duration or count was through (never for a run until stopped). */
  interrupted: boolean;
}

/** One call as it settled: what a caller logging every call needs. */
export interface SettledCall {
  /** The call's number in the run, 1-based, in start order. */
  seq: number;
  /** When the call was started (its result's latencyMs gives the end). */
  startedAt: Date;
  result: CallResult;
  /** The key header value it carried, when the run sends one. */
  key?: string;
}

/**
 * Per-call events, called synchronously as they happen, so only a caller in the loop's own thread can have them
 * (runLoad refuses them for a run on worker threads).
 */
export interface LoopEvents {
  /** A call settled; it is already counted. */
  onSettled?: (call: SettledCall) => void;
  /** A call was due but not started because `limit` calls were in flight; it is counted as skipped, not sent. */
  onSkipped?: (inFlight: number, limit: number) => void;
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
export class LoadLoop {
  /** Resolves once calls are no longer started and every started one has settled. */
  readonly finished: Promise<ShardResult>;
  readonly #shard: ShardPlan;
  readonly #call: ShardCall;
  readonly #events: LoopEvents;
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

  constructor(shard: ShardPlan, call: ShardCall, events: LoopEvents = {}) {
    this.#shard = shard;
    this.#call = call;
    this.#events = events;
    this.finished = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Starts sending; call once. */
  start(): void {
    if (this.#started) throw new Error('load loop already started');
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
    // A run until stopped has no limit to fall short of: stopping is how it is meant to end.
    if (!this.#sendingOver && !this.#limitReached() && this.#shard.limit.kind !== 'until-stopped') this.#interrupted = true;
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
    // Slots missed while the event loop was busy are started now, so the run keeps its average rate; without
    // catch-up only the latest of them is, and the earlier ones are let go (neither sent nor skipped).
    if (!this.#shard.catchUp && due - this.#nextSlot > 1) this.#nextSlot = due - 1;
    while (this.#nextSlot < due && !this.#countReached()) {
      this.#nextSlot++;
      if (this.#tally.inFlight >= concurrency) {
        this.#tally.skipAtCap();
        this.#events.onSkipped?.(this.#tally.inFlight, concurrency);
      } else {
        // Due at its slot, whenever it actually starts: its latency counts from then (see #launch).
        void this.#launch(this.#startedAt + slotDueMs(this.#nextSlot - 1, position, rate));
      }
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
    switch (limit.kind) {
      case 'count':
        return this.#tally.sent >= limit.calls;
      case 'duration':
        return this.#started && performance.now() - this.#startedAt >= limit.ms;
      case 'until-stopped':
        return false;
    }
  }

  #countReached(): boolean {
    const { limit } = this.#shard;
    return limit.kind === 'count' && this.#tally.sent >= limit.calls;
  }

  /**
   * Starts one call. In an open loop `dueAt` (performance.now() time) is when its slot fell due: a call started
   * late because the event loop was busy has that wait added to its latency, so a stall in this process shows in
   * the percentiles instead of hiding behind the calls it delayed (coordinated omission, corrected).
   */
  #launch(dueAt?: number): Promise<void> {
    const index = callIndex(this.#shard.position, this.#tally.sent);
    const key = keyFor(index, this.#shard.keys);
    const lateByMs = dueAt === undefined ? 0 : Math.max(0, performance.now() - dueAt);
    // Only a caller that logs every call needs its start as a Date: one object per call less for the others.
    const startedAt = this.#events.onSettled ? new Date() : undefined;
    this.#tally.start();
    return this.#call(key, this.#abort.signal)
      // Meant never to reject; if it does anyway, the call still has to be counted once.
      .catch((error: unknown) => unexpectedFailure(error))
      .then((settled) => {
        const result = lateByMs > 0 ? { ...settled, latencyMs: settled.latencyMs + lateByMs } : settled;
        this.#tally.settle(result, key);
        try {
          if (startedAt) this.#events.onSettled?.({ seq: index + 1, startedAt, result, key });
        } finally {
          // A hook that throws is a bug to surface, but the run must still end once every call has settled.
          this.#finishIfSettled();
        }
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

/** A LoadLoop for `shard` calling over its own channel, which is closed once the loop has finished. */
export function loopOnChannel(shard: ShardPlan, events: LoopEvents = {}): LoadLoop {
  // An xds:/// target takes its balancing from the control plane; any other, the shard's own.
  const options = isXdsTarget(shard.target)
    ? xdsChannelOptions(shard.xdsBootstrap ?? undefined)
    : { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ [shard.balancing]: {} }] }) };
  const client = createGreeterClient(shard.target, options);
  const base = metadataOf(shard.metadata);
  const loop = new LoadLoop(shard, (key, signal) => {
    let metadata = base;
    if (key !== undefined && shard.keys) {
      metadata = base.clone();
      metadata.set(shard.keys.header, key);
    }
    return callGreeter(client, shard.name, shard.deadlineMs, signal, metadata);
  }, events);
  void loop.finished.then(() => client.close());
  return loop;
}

/** Builds the metadata of one call from header pairs (a name may repeat). */
export function metadataOf(pairs: ReadonlyArray<readonly [string, string]>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of pairs) metadata.add(key, value);
  return metadata;
}

// The open-loop schedule as pure arithmetic. The run's calls are due at k * 1000 / rate ms (k = 0, 1, 2, ...);
// with W workers, worker w owns the slots k = w, w + W, w + 2W, ..., so together they keep the one schedule
// instead of W bursts at the same instants.

/** Which of the run's workers a schedule belongs to. */
export interface ShardPosition {
  index: number;
  of: number;
}

/** When the shard's `slot`-th call (0-based) is due, in ms after the start. */
export function slotDueMs(slot: number, shard: ShardPosition, ratePerS: number): number {
  return ((shard.index + slot * shard.of) * 1000) / ratePerS;
}

/** How many of the shard's slots are due at `elapsedMs` (slot due times <= elapsed). */
export function slotsDueBy(elapsedMs: number, shard: ShardPosition, ratePerS: number): number {
  const runSlots = (elapsedMs * ratePerS) / 1000;
  return Math.max(0, Math.floor((runSlots - shard.index) / shard.of) + 1);
}

/** How many of the shard's slots fall inside a sending window of `durationMs` (due strictly before its end). */
export function slotsWithin(durationMs: number, shard: ShardPosition, ratePerS: number): number {
  const runSlots = (durationMs * ratePerS) / 1000;
  return Math.max(0, Math.ceil((runSlots - shard.index) / shard.of));
}

/** The run-wide index of the shard's `local`-th call (0-based): the shard owns indices index, index + of, ... */
export function callIndex(position: ShardPosition, local: number): number {
  return position.index + local * position.of;
}

/** The key header value of the run's call `index`, or undefined when no key header is sent. */
export function keyFor(index: number, keys: LoadPlan['keys']): string | undefined {
  return keys ? `key-${index % keys.count}` : undefined;
}
