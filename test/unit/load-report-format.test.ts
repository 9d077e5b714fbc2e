import { describe, expect, it } from 'vitest';
import type { CallResult } from '../../client/src/greeter-call.js';
import type { LoadReport } from '../../client/src/load/load-report.js';
import { buildLoadReport } from '../../client/src/load/load-report.js';
import { planLoad } from '../../client/src/load/load-options.js';
import { LoadTally } from '../../client/src/load/load-tally.js';
import { formatProgressLine, wantsProgressLine } from '../../client/src/load/load-cli.js';
import { formatLoadReportJson, formatLoadReportText } from '../../client/src/load/load-report-format.js';
import type { LoadProgress } from '../../client/src/load/load-run.js';

const ok = (hostname: string, latencyMs: number): CallResult => ({ ok: true, hostname, message: 'hi', latencyMs, code: 0 });
const failed = (codeName: string, latencyMs: number): CallResult => ({ ok: false, code: 14, codeName, details: 'x', latencyMs });

const report: LoadReport = {
  target: '127.0.0.1:5000',
  mode: 'open',
  concurrency: 10,
  rate: 100,
  plannedDurationS: 2,
  plannedCount: null,
  deadlineMs: 2000,
  workers: 2,
  interrupted: true,
  durationS: 1.5,
  sent: 150,
  ok: 147,
  failed: 3,
  failedByCode: { DEADLINE_EXCEEDED: 1, UNAVAILABLE: 2 },
  lastFailure: 'UNAVAILABLE: connection refused',
  skippedAtCap: 4,
  throughput: { okPerS: 98, allPerS: 100 },
  latencyMs: {
    ok: { count: 147, p50: 1.2, p90: 2.25, p99: 4.5, p99_9: 9.001, max: 9.001, mean: 1.4 },
    all: { count: 150, p50: 1.2, p90: 2.3, p99: 9.001, p99_9: 2001.157, max: 2001.157, mean: 15 },
  },
  hosts: [
    { hostname: 'grpc-server-1', count: 98, share: 0.6667 },
    { hostname: 'grpc-server-10', count: 49, share: 0.3333 },
  ],
  keys: {
    header: 'x-user',
    keys: 3,
    hostsByKey: { 'key-0': { 'grpc-server-1': 50 }, 'key-1': { 'grpc-server-1': 48, 'grpc-server-10': 49 }, 'key-2': {} },
    oneHost: 1,
    severalHosts: 1,
    noHost: 1,
  },
};

describe('load report text', () => {
  it('is a compact table with per-host bars and the key map', () => {
    expect(formatLoadReportText(report)).toEqual([
      'grpc-load 127.0.0.1:5000  open loop 100/s, concurrency cap 10, 2 workers, duration 2s, deadline 2000ms',
      'interrupted: stopped early, the counts cover the calls sent until then',
      'sent=150 ok=147 failed=3 (DEADLINE_EXCEEDED=1 UNAVAILABLE=2) skipped=4 (due while 10 were in flight) in 1.500s',
      'throughput ok=98.0/s all=100.0/s',
      'latency ms      p50      p90      p99    p99.9      max',
      '  ok           1.20     2.25     4.50     9.00     9.00',
      '  all          1.20     2.30     9.00  2001.16  2001.16',
      'hosts (share of ok calls)',
      '  grpc-server-1   █████████████░░░░░░░  98   66.7%',
      '  grpc-server-10  ███████░░░░░░░░░░░░░  49   33.3%',
      'keys x-user: 3 sent, 1 on one host, 1 on several, 1 on none',
      '  key-0  grpc-server-1=50',
      '  key-1  grpc-server-1=48 grpc-server-10=49',
      '  key-2  (no ok answer)',
    ]);
  });

  it('says so when no call succeeded, and shows a closed loop with a count', () => {
    const none: LoadReport = {
      ...report,
      mode: 'closed',
      rate: null,
      plannedDurationS: null,
      plannedCount: 5,
      workers: 1,
      interrupted: false,
      sent: 5,
      ok: 0,
      failed: 5,
      failedByCode: { UNAVAILABLE: 5 },
      skippedAtCap: 0,
      latencyMs: { ok: null, all: report.latencyMs.all },
      hosts: [],
      keys: null,
    };
    expect(formatLoadReportText(none)).toEqual([
      'grpc-load 127.0.0.1:5000  closed loop, concurrency 10, 1 worker, count 5, deadline 2000ms',
      'sent=5 ok=0 failed=5 (UNAVAILABLE=5) in 1.500s',
      'throughput ok=98.0/s all=100.0/s',
      'latency ms      p50      p90      p99    p99.9      max',
      '  ok              -        -        -        -        -',
      '  all          1.20     2.30     9.00  2001.16  2001.16',
      'hosts (share of ok calls)',
      '  (none)',
    ]);
  });

  it('names a run until stopped in the plan line', () => {
    const endless: LoadReport = { ...report, workers: 1, plannedDurationS: null, plannedCount: null };
    expect(formatLoadReportText(endless)[0]).toBe(
      'grpc-load 127.0.0.1:5000  open loop 100/s, concurrency cap 10, 1 worker, until stopped, deadline 2000ms',
    );
  });

  it('lists at most 32 keys in text and points to --json for the rest', () => {
    const hostsByKey = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key-${i}`, { a: 1 }]));
    const lines = formatLoadReportText({ ...report, keys: { ...report.keys!, keys: 40, hostsByKey, oneHost: 40, severalHosts: 0, noHost: 0 } });
    const keyLines = lines.slice(lines.indexOf('keys x-user: 40 sent, 40 on one host, 0 on several, 0 on none') + 1);
    expect(keyLines).toHaveLength(33);
    expect(keyLines[0]).toBe('  key-0   a=1');
    expect(keyLines.at(-1)).toBe('  ... 8 more keys (--json lists every key)');
  });

  it('--json is one line that parses back to the report', () => {
    const json = formatLoadReportJson(report);
    expect(json).not.toContain('\n');
    expect(JSON.parse(json)).toEqual(report);
  });
});

describe('buildLoadReport', () => {
  it('turns counters into rates, shares, percentiles and the key summary', () => {
    const tally = new LoadTally();
    const calls: Array<[CallResult, string]> = [
      [ok('b', 2), 'key-0'],
      [ok('a', 1), 'key-1'],
      [ok('a', 3), 'key-1'],
      [failed('UNAVAILABLE', 4), 'key-2'],
    ];
    for (const [result, key] of calls) {
      tally.start();
      tally.settle(result, key);
    }
    const plan = planLoad({ target: 'h:1', count: 4, keyHeader: 'x-k', keys: 3 });
    const built = buildLoadReport(plan, tally.snapshot(), { startedAtMs: 1000, endedAtMs: 3000, interrupted: false });
    expect(built).toMatchObject({
      mode: 'closed',
      plannedCount: 4,
      plannedDurationS: null,
      durationS: 2,
      sent: 4,
      ok: 3,
      failed: 1,
      failedByCode: { UNAVAILABLE: 1 },
      throughput: { okPerS: 1.5, allPerS: 2 },
      hosts: [
        { hostname: 'a', count: 2, share: 0.6667 },
        { hostname: 'b', count: 1, share: 0.3333 },
      ],
      keys: { header: 'x-k', keys: 3, hostsByKey: { 'key-0': { b: 1 }, 'key-1': { a: 2 }, 'key-2': {} }, oneHost: 2, severalHosts: 0, noHost: 1 },
    });
    expect(built.latencyMs.ok).toMatchObject({ count: 3, p50: 2, max: 3 });
    expect(built.latencyMs.all).toMatchObject({ count: 4, max: 4 });
  });

  it('refuses counters where sent != ok + failed', () => {
    const tally = new LoadTally();
    tally.start();
    expect(() =>
      buildLoadReport(planLoad({ count: 1 }), tally.snapshot(), { startedAtMs: 0, endedAtMs: 1, interrupted: false }),
    ).toThrow('load accounting broken: sent=1 ok=0 failed=0 in-flight=1');
  });
});

describe('progress line', () => {
  const progress: LoadProgress = {
    elapsedS: 5.02,
    plannedDurationS: 10,
    plannedCount: null,
    sent: 512,
    ok: 510,
    failed: 2,
    inFlight: 0,
    skippedAtCap: 0,
    failedByCode: { UNAVAILABLE: 2 },
    byHost: { a: 510 },
    ratePerS: 101.4,
    p99Ms: 4.21,
  };

  it('reads like the brief', () => {
    expect(formatProgressLine(progress)).toBe('load  5s/10s  sent=512 ok=510 failed=2 rate=101/s p99=4.2ms');
    expect(formatProgressLine({ ...progress, plannedDurationS: null, plannedCount: 1000, p99Ms: null })).toBe(
      'load  5s  sent=512/1000 ok=510 failed=2 rate=101/s p99=-',
    );
  });

  it('is printed only for runs planned or lasting over 3 s', () => {
    expect(wantsProgressLine({ ...progress, elapsedS: 1, plannedDurationS: 4 })).toBe(true);
    expect(wantsProgressLine({ ...progress, elapsedS: 1, plannedDurationS: 3 })).toBe(false);
    expect(wantsProgressLine({ ...progress, elapsedS: 3, plannedDurationS: null, plannedCount: 10 })).toBe(false);
    expect(wantsProgressLine({ ...progress, elapsedS: 4, plannedDurationS: null, plannedCount: 10 })).toBe(true);
    expect(wantsProgressLine({ ...progress, elapsedS: 4, plannedDurationS: null, plannedCount: null })).toBe(true);
  });
});
