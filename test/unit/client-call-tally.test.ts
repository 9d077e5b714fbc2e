import { describe, expect, it } from 'vitest';
import { CallTally, type TallySnapshot } from '../../client/src/call-tally.js';
import type { CallResult } from '../../client/src/greeter-call.js';

const ok = (hostname: string): CallResult => ({ ok: true, hostname, message: 'hi', latencyMs: 1, code: 0 });
const failed = (code: number, codeName: string): CallResult => ({ ok: false, code, codeName, details: 'x', latencyMs: 1 });

function expectBalanced(snapshot: TallySnapshot): void {
  expect(snapshot.sent).toBe(snapshot.succeeded + snapshot.failed + snapshot.inFlight);
}

describe('CallTally', () => {
  it('numbers calls from 1 and counts each as sent when started', () => {
    const tally = new CallTally();
    expect([tally.start(), tally.start(), tally.start()]).toEqual([1, 2, 3]);
    expect(tally.sent).toBe(3);
    expect(tally.inFlight).toBe(3);
  });

  it('counts successes per host and failures per status name, keys in natural order', () => {
    const tally = new CallTally();
    const results = [ok('grpc-server-10'), ok('grpc-server-2'), ok('grpc-server-2'), failed(14, 'UNAVAILABLE'), failed(4, 'DEADLINE_EXCEEDED'), failed(14, 'UNAVAILABLE')];
    for (const result of results) tally.settle(tally.start(), result);
    const snapshot = tally.snapshot();
    expect(snapshot).toEqual({
      sent: 6,
      succeeded: 3,
      failed: 3,
      inFlight: 0,
      skipped: 0,
      failedByCode: { DEADLINE_EXCEEDED: 1, UNAVAILABLE: 2 },
      byHost: { 'grpc-server-2': 2, 'grpc-server-10': 1 },
    });
    expect(Object.keys(snapshot.byHost)).toEqual(['grpc-server-2', 'grpc-server-10']);
  });

  it('keeps sent == succeeded + failed + inFlight at every step, and sent == succeeded + failed once settled', () => {
    const tally = new CallTally();
    const a = tally.start();
    const b = tally.start();
    expectBalanced(tally.snapshot());
    tally.settle(b, ok('r1'));
    expectBalanced(tally.snapshot());
    const c = tally.start();
    tally.skip();
    expectBalanced(tally.snapshot());
    // Shutdown: the two calls still in flight settle after the stop, out of order, one failing.
    expect(tally.inFlight).toBe(2);
    tally.settle(c, failed(1, 'CANCELLED'));
    tally.settle(a, ok('r2'));
    const final = tally.snapshot();
    expect(final.inFlight).toBe(0);
    expect(final.sent).toBe(3);
    expect(final.sent).toBe(final.succeeded + final.failed);
    expect(final.skipped).toBe(1);
  });

  it('refuses to settle a call twice or one never started', () => {
    const tally = new CallTally();
    const seq = tally.start();
    tally.settle(seq, ok('r1'));
    expect(() => tally.settle(seq, ok('r1'))).toThrow('call #1 was never started or is already settled');
    expect(() => tally.settle(99, ok('r1'))).toThrow('call #99 was never started or is already settled');
    expect(tally.snapshot()).toMatchObject({ sent: 1, succeeded: 1, failed: 0 });
  });

  it('hands out snapshots that later calls do not change', () => {
    const tally = new CallTally();
    tally.settle(tally.start(), ok('r1'));
    const before = tally.snapshot();
    tally.settle(tally.start(), ok('r1'));
    expect(before.byHost).toEqual({ r1: 1 });
    expect(tally.snapshot().byHost).toEqual({ r1: 2 });
  });
});
