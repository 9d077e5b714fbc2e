import type { CallResult } from './greeter-call.js';

/** A frozen copy of the counters; sent == succeeded + failed + inFlight always holds. */
export interface TallySnapshot {
  sent: number;
  succeeded: number;
  failed: number;
  inFlight: number;
  /** Ticks where no call was started because too many were still in flight; these are not sent. */
  skipped: number;
  /** Failed calls per grpc status name, e.g. { UNAVAILABLE: 2 }. */
  failedByCode: Record<string, number>;
  /** Successful calls per replica hostname that answered. */
  byHost: Record<string, number>;
}

/**
 * Counts calls: one is sent when it starts and is settled exactly once, so once nothing is in flight
 * sent == succeeded + failed.
 */
export class CallTally {
  #nextSeq = 1;
  #succeeded = 0;
  #failed = 0;
  #skipped = 0;
  readonly #pending = new Set<number>();
  readonly #failedByCode = new Map<string, number>();
  readonly #byHost = new Map<string, number>();

  /** Records a started call and returns its sequence number (1, 2, ...). */
  start(): number {
    const seq = this.#nextSeq++;
    this.#pending.add(seq);
    return seq;
  }

  /** Records how call `seq` ended; throws if it was never started or is already settled. */
  settle(seq: number, result: CallResult): void {
    // Counting a call twice (or one never started) would silently break sent == ok + failed, so it is a bug.
    if (!this.#pending.delete(seq)) throw new Error(`call #${seq} was never started or is already settled`);
    if (result.ok) {
      this.#succeeded++;
      increment(this.#byHost, result.hostname);
    } else {
      this.#failed++;
      increment(this.#failedByCode, result.codeName);
    }
  }

  /** Records a tick on which no call was started. */
  skip(): void {
    this.#skipped++;
  }

  /** Calls started but not yet settled. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Calls started so far. */
  get sent(): number {
    return this.#nextSeq - 1;
  }

  /** A copy of the counters, keys sorted by name so output is stable. */
  snapshot(): TallySnapshot {
    return {
      sent: this.sent,
      succeeded: this.#succeeded,
      failed: this.#failed,
      inFlight: this.inFlight,
      skipped: this.#skipped,
      failedByCode: sortedRecord(this.#failedByCode),
      byHost: sortedRecord(this.#byHost),
    };
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

// Natural order, so grpc-server-2 comes before grpc-server-10.
const byName = new Intl.Collator('en', { numeric: true }).compare;

function sortedRecord(counts: Map<string, number>): Record<string, number> {
  const keys = [...counts.keys()].sort(byName);
  return Object.fromEntries(keys.map((key) => [key, counts.get(key) ?? 0]));
}
