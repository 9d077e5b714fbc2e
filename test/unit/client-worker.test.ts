import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TallySnapshot } from '../../client/src/call-tally.js';
import type { CallRecord } from '../../client/src/worker-log.js';
import type { CallResult } from '../../client/src/greeter-call.js';
import { CallWorker, maxInFlightFor, type WorkerSettings } from '../../client/src/worker.js';
import { pollUntil } from '../../scripts/stack/poll-until.js';

const ok = (hostname: string): CallResult => ({ ok: true, hostname, message: 'hi', latencyMs: 1, code: 0 });
const cancelled: CallResult = { ok: false, code: 1, codeName: 'CANCELLED', details: 'Cancelled on client', latencyMs: 1 };

/** A call the test settles by hand, with the signal the worker passed in. */
interface PendingCall {
  signal: AbortSignal;
  settle(result: CallResult): void;
}

/** A worker whose calls stay pending until the test settles them, recording everything it reports. */
function harness(settings: Partial<WorkerSettings> = {}) {
  const pending: PendingCall[] = [];
  const calls: CallRecord[] = [];
  const summaries: Array<{ snapshot: TallySnapshot; final: boolean }> = [];
  const skips: Array<{ inFlight: number; limit: number }> = [];
  let maxSeenInFlight = 0;
  const worker = new CallWorker(
    { intervalMs: 5, count: 0, summaryEveryMs: 0, maxInFlight: 10, ...settings },
    {
      call: (signal) =>
        new Promise<CallResult>((resolve) => {
          pending.push({ signal, settle: resolve });
          maxSeenInFlight = Math.max(maxSeenInFlight, worker.tally.inFlight);
        }),
      onCall: (record) => calls.push(record),
      onSummary: (snapshot, final) => summaries.push({ snapshot, final }),
      onSkip: (inFlight, limit) => skips.push({ inFlight, limit }),
    },
  );
  workers.push(worker);
  return { worker, pending, calls, summaries, skips, maxInFlight: () => maxSeenInFlight };
}

const workers: CallWorker[] = [];
afterEach(() => {
  vi.useRealTimers();
  // Leave no timers behind: stop every worker and cancel what it still has in flight.
  for (const worker of workers.splice(0)) {
    worker.cancelInFlight();
    void worker.stop();
  }
});

// The worker ticks every few ms; polling as often sees each state soon after it is reached.
const soon = { timeoutMs: 1000, intervalMs: 2 };

describe('maxInFlightFor', () => {
  it('allows the calls one deadline can overlap, plus one', () => {
    expect(maxInFlightFor(1000, 2000)).toBe(3);
    expect(maxInFlightFor(50, 2000)).toBe(41);
    expect(maxInFlightFor(300, 1000)).toBe(5);
  });
});

describe('CallWorker', () => {
  it('makes exactly --count calls, then one final summary', async () => {
    const h = harness({ count: 3 });
    h.worker.start();
    await pollUntil('3 pending calls', () => h.pending.length === 3, soon);
    h.pending.forEach((call, index) => call.settle(ok(`r${index % 2}`)));
    const final = await h.worker.finished;
    expect(final).toMatchObject({ sent: 3, succeeded: 3, failed: 0, inFlight: 0, byHost: { r0: 2, r1: 1 } });
    expect(h.calls.map((call) => call.seq)).toEqual([1, 2, 3]);
    expect(h.summaries).toEqual([{ snapshot: final, final: true }]);
    expect(h.pending).toHaveLength(3);
  });

  it('spaces calls on the interval instead of firing them back to back', async () => {
    const h = harness({ intervalMs: 40, count: 4 });
    const started = Date.now();
    h.worker.start();
    await pollUntil('4 pending calls', () => h.pending.length === 4, soon);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(3 * 40 - 5);
    h.pending.forEach((call) => call.settle(ok('r')));
    await h.worker.finished;
  });

  it('starts the next call while an earlier one is still in flight', async () => {
    const h = harness({ intervalMs: 5 });
    h.worker.start();
    await pollUntil('3 pending calls', () => h.pending.length >= 3, soon);
    expect(h.worker.tally.inFlight).toBeGreaterThanOrEqual(3);
    expect(h.calls).toHaveLength(0);
  });

  it('on stop, starts no new call and waits for the calls in flight before the final summary', async () => {
    // Fake timers let the test prove that no tick fires after stop() without sleeping.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
    const h = harness({ intervalMs: 5 });
    h.worker.start();
    vi.advanceTimersByTime(12);
    expect(h.pending).toHaveLength(3);
    let finished = false;
    const done = h.worker.stop().then((snapshot) => {
      finished = true;
      return snapshot;
    });
    vi.advanceTimersByTime(100);
    await Promise.resolve();
    expect(h.pending).toHaveLength(3);
    expect(finished).toBe(false);
    expect(h.summaries).toHaveLength(0);

    h.pending.forEach((call, index) => call.settle(index === 0 ? cancelled : ok('r')));
    const final = await done;
    expect(final).toMatchObject({ sent: 3, succeeded: 2, failed: 1, inFlight: 0, failedByCode: { CANCELLED: 1 } });
    expect(h.calls.map((call) => call.seq).sort()).toEqual([1, 2, 3]);
    expect(h.summaries).toEqual([{ snapshot: final, final: true }]);
  });

  it('never has more than maxInFlight calls out, and reports each skipped tick', async () => {
    const h = harness({ intervalMs: 3, maxInFlight: 2 });
    h.worker.start();
    await pollUntil('3 skipped ticks', () => h.skips.length >= 3, soon);
    expect(h.pending).toHaveLength(2);
    expect(h.maxInFlight()).toBe(2);
    expect(h.skips[0]).toEqual({ inFlight: 2, limit: 2 });
    h.pending.forEach((call) => call.settle(ok('r')));
    const final = await h.worker.stop();
    expect(final.skipped).toBe(h.skips.length);
    expect(final.sent).toBe(final.succeeded + final.failed);
  });

  it('aborts the signal of every call in flight on cancelInFlight', async () => {
    const h = harness({ intervalMs: 5 });
    h.worker.start();
    await pollUntil('2 pending calls', () => h.pending.length >= 2, soon);
    const done = h.worker.stop();
    for (const call of h.pending) call.signal.addEventListener('abort', () => call.settle(cancelled));
    h.worker.cancelInFlight();
    const final = await done;
    expect(final.failed).toBe(h.pending.length);
    expect(final.failedByCode).toEqual({ CANCELLED: h.pending.length });
  });

  it('prints running summaries on its period, then a final one', async () => {
    const h = harness({ intervalMs: 5, summaryEveryMs: 20 });
    h.worker.start();
    await pollUntil('2 running summaries', () => h.summaries.length >= 2, soon);
    expect(h.summaries.every((summary) => !summary.final)).toBe(true);
    const running = h.summaries[0]?.snapshot;
    expect(running && running.sent).toBe(running && running.succeeded + running.failed + running.inFlight);
    h.pending.forEach((call) => call.settle(ok('r')));
    await h.worker.stop();
    expect(h.summaries.at(-1)?.final).toBe(true);
    expect(h.summaries.filter((summary) => summary.final)).toHaveLength(1);
  });

  it('counts a call whose hook rejects as one UNKNOWN failure', async () => {
    const worker = new CallWorker(
      { intervalMs: 5, count: 2, summaryEveryMs: 0, maxInFlight: 10 },
      {
        call: () => Promise.reject(new Error('boom')),
        onCall: () => {},
        onSummary: () => {},
        onSkip: () => {},
      },
    );
    workers.push(worker);
    worker.start();
    const final = await worker.finished;
    expect(final).toMatchObject({ sent: 2, succeeded: 0, failed: 2, failedByCode: { UNKNOWN: 2 } });
  });

  it('finishes at once when stopped before it started', async () => {
    const h = harness();
    const final = await h.worker.stop();
    expect(final).toMatchObject({ sent: 0, succeeded: 0, failed: 0 });
    h.worker.start();
    expect(h.pending).toHaveLength(0);
  });
});
