import { callGreeter, createGreeterClient, type CallResult } from '../../client/src/greeter-call.js';

/** One call of a loop, stamped with when it started (ms since the loop began). */
export interface TimedCall {
  startedAtMs: number;
  result: CallResult;
}

/**
 * Sends SayHello through Envoy at a steady rate on one channel, as the worker client does, and records every
 * outcome. Bounded: it stops at `stop()` or after `maxCalls`, and each call has a deadline.
 */
export class CallLoop {
  readonly calls: TimedCall[] = [];
  private readonly client;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;
  private readonly startedAt = performance.now();

  constructor(
    target: string,
    private readonly options: { intervalMs: number; deadlineMs?: number; maxCalls?: number } = { intervalMs: 20 },
  ) {
    this.client = createGreeterClient(target);
    this.timer = setInterval(() => this.tick(), options.intervalMs);
  }

  /** Milliseconds since the loop started, on the same clock as `startedAtMs`. */
  now(): number {
    return performance.now() - this.startedAt;
  }

  get failures(): TimedCall[] {
    return this.calls.filter((c) => !c.result.ok);
  }

  /** Calls started at or after `sinceMs`, grouped by the hostname that answered them. */
  countsByHost(sinceMs = 0): Map<string, number> {
    const counts = new Map<string, number>();
    for (const call of this.calls) {
      if (call.startedAtMs < sinceMs || !call.result.ok) continue;
      counts.set(call.result.hostname, (counts.get(call.result.hostname) ?? 0) + 1);
    }
    return counts;
  }

  /** When `hostname` first answered a call started at or after `sinceMs`; undefined if it has not. */
  firstAnsweredBy(hostname: string, sinceMs = 0): number | undefined {
    return this.calls.find((c) => c.startedAtMs >= sinceMs && c.result.ok && c.result.hostname === hostname)?.startedAtMs;
  }

  /** Stops sending, waits for every call in flight to settle, and closes the channel. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.inFlight);
    this.client.close();
  }

  /** A readable digest of the failures, for assertion messages. */
  describeFailures(): string {
    return this.failures
      .slice(0, 10)
      .map((c) => (c.result.ok ? '' : `${c.startedAtMs.toFixed(0)}ms ${c.result.codeName} ${c.result.details}`))
      .join('\n');
  }

  private tick(): void {
    if (this.options.maxCalls !== undefined && this.sent >= this.options.maxCalls) return;
    this.sent += 1;
    const startedAtMs = this.now();
    const call = callGreeter(this.client, 'lab', this.options.deadlineMs ?? 5000).then((result) => {
      this.calls.push({ startedAtMs, result });
    });
    this.inFlight.add(call);
    void call.finally(() => this.inFlight.delete(call));
  }
}
