import { describe, expect, it } from 'vitest';
import type { SettledCall } from '../../client/src/load/load-loop.js';
import type { LoadReport } from '../../client/src/load/load-report.js';
import type { ClientConfig } from '../../client/src/worker-config.js';
import {
  formatCallLine,
  formatLifecycleLine,
  formatSummary,
  formatSummaryJson,
  formatSummaryText,
  summaryCountsOf,
  type SummaryCounts,
} from '../../client/src/worker-log.js';

const success: SettledCall = {
  startedAt: new Date('2026-11-23T10:00:01.004Z'),
  seq: 12,
  result: { ok: true, hostname: 'grpc-server-2', message: 'Hello, lab', latencyMs: 3.14159, code: 0 },
};
const failure: SettledCall = {
  startedAt: new Date('2026-11-23T10:00:02.005Z'),
  seq: 13,
  result: { ok: false, code: 14, codeName: 'UNAVAILABLE', details: 'no healthy upstream', latencyMs: 2001.26 },
};

describe('formatCallLine text', () => {
  it('shows time, sequence, replica, latency and OK', () => {
    expect(formatCallLine(success, 'text')).toBe('2026-11-23T10:00:01.004Z #12 grpc-server-2 3.1ms OK');
  });

  it('shows a dash for the replica, then the status name and details on failure', () => {
    expect(formatCallLine(failure, 'text')).toBe('2026-11-23T10:00:02.005Z #13 - 2001.3ms UNAVAILABLE no healthy upstream');
  });

  it('keeps a multi-line detail on one line and drops an empty one', () => {
    const multiLine: SettledCall = { ...failure, result: { ...failure.result, details: 'first\n  second\r\n' } as SettledCall['result'] };
    expect(formatCallLine(multiLine, 'text')).toBe('2026-11-23T10:00:02.005Z #13 - 2001.3ms UNAVAILABLE first second');
    const empty: SettledCall = { ...failure, result: { ...failure.result, details: '' } as SettledCall['result'] };
    expect(formatCallLine(empty, 'text')).toBe('2026-11-23T10:00:02.005Z #13 - 2001.3ms UNAVAILABLE');
  });

  it('labels an empty hostname', () => {
    const blank: SettledCall = { ...success, result: { ...success.result, hostname: '' } as SettledCall['result'] };
    expect(formatCallLine(blank, 'text')).toBe('2026-11-23T10:00:01.004Z #12 (empty) 3.1ms OK');
  });
});

describe('formatCallLine json', () => {
  it('writes the fields in the documented order for a success', () => {
    expect(formatCallLine(success, 'json')).toBe(
      '{"time":"2026-11-23T10:00:01.004Z","event":"call","seq":12,"ok":true,"hostname":"grpc-server-2",' +
        '"latencyMs":3.1,"code":0,"codeName":"OK","details":""}',
    );
  });

  it('writes a null hostname and the status for a failure', () => {
    expect(formatCallLine(failure, 'json')).toBe(
      '{"time":"2026-11-23T10:00:02.005Z","event":"call","seq":13,"ok":false,"hostname":null,' +
        '"latencyMs":2001.3,"code":14,"codeName":"UNAVAILABLE","details":"no healthy upstream"}',
    );
  });
});

const startTime = new Date('2026-11-23T10:00:00.000Z');
const config: ClientConfig = {
  target: 'envoy:5000',
  intervalMs: 1000,
  deadlineMs: 2000,
  summaryEveryS: 30,
  count: 0,
  name: 'lab',
  logFormat: 'text',
};

describe('formatLifecycleLine', () => {
  it('describes the start with the effective settings', () => {
    expect(formatLifecycleLine(startTime, { event: 'start', config, maxInFlight: 3 }, 'text')).toBe(
      '2026-11-23T10:00:00.000Z start target=envoy:5000 interval=1000ms deadline=2000ms summary-every=30s count=0 name="lab" max-in-flight=3',
    );
    expect(JSON.parse(formatLifecycleLine(startTime, { event: 'start', config, maxInFlight: 3 }, 'json'))).toEqual({
      time: '2026-11-23T10:00:00.000Z',
      event: 'start',
      target: 'envoy:5000',
      intervalMs: 1000,
      deadlineMs: 2000,
      summaryEveryS: 30,
      count: 0,
      name: 'lab',
      maxInFlight: 3,
    });
  });

  it('describes stopping, cancelling and a skipped tick', () => {
    expect(formatLifecycleLine(startTime, { event: 'stopping', reason: 'SIGTERM', inFlight: 2 }, 'text')).toBe(
      '2026-11-23T10:00:00.000Z stopping reason=SIGTERM in-flight=2',
    );
    expect(formatLifecycleLine(startTime, { event: 'cancelling', reason: 'SIGINT', inFlight: 1 }, 'json')).toBe(
      '{"time":"2026-11-23T10:00:00.000Z","event":"cancelling","reason":"SIGINT","inFlight":1}',
    );
    expect(formatLifecycleLine(startTime, { event: 'skip', inFlight: 3, limit: 3 }, 'text')).toBe(
      '2026-11-23T10:00:00.000Z skip in-flight=3 limit=3 (call not started)',
    );
  });
});

const base: SummaryCounts = {
  sent: 0,
  ok: 0,
  failed: 0,
  inFlight: 0,
  skippedAtCap: 0,
  failedByCode: {},
  byHost: {},
};
const time = new Date('2026-11-23T10:00:30.000Z');

describe('formatSummaryText', () => {
  it('shows the counts, the failure codes and one bar per host', () => {
    const snapshot: SummaryCounts = {
      ...base,
      sent: 60,
      ok: 58,
      failed: 2,
      failedByCode: { UNAVAILABLE: 2 },
      byHost: { 'grpc-server-1': 20, 'grpc-server-2': 19, 'grpc-server-3': 19 },
    };
    expect(formatSummaryText(snapshot)).toEqual([
      'summary sent=60 ok=58 failed=2 (UNAVAILABLE=2)',
      '  grpc-server-1  ███████░░░░░░░░░░░░░  20   34.5%',
      '  grpc-server-2  ███████░░░░░░░░░░░░░  19   32.8%',
      '  grpc-server-3  ███████░░░░░░░░░░░░░  19   32.8%',
    ]);
  });

  it('pads names and counts to line the columns up', () => {
    const snapshot: SummaryCounts = {
      ...base,
      sent: 110,
      ok: 110,
      byHost: { a: 100, 'long-replica-name': 10 },
    };
    expect(formatSummaryText(snapshot)).toEqual([
      'summary sent=110 ok=110 failed=0',
      '  a                  ██████████████████░░  100   90.9%',
      '  long-replica-name  ██░░░░░░░░░░░░░░░░░░   10    9.1%',
    ]);
  });

  it('shows a single replica as a full bar', () => {
    const snapshot: SummaryCounts = { ...base, sent: 10, ok: 10, byHost: { 'replica-a': 10 } };
    expect(formatSummaryText(snapshot)).toEqual([
      'summary sent=10 ok=10 failed=0',
      '  replica-a  ████████████████████  10  100.0%',
    ]);
  });

  it('prints only the header when every call failed, codes sorted as given', () => {
    const snapshot: SummaryCounts = {
      ...base,
      sent: 5,
      failed: 5,
      failedByCode: { DEADLINE_EXCEEDED: 1, UNAVAILABLE: 4 },
    };
    expect(formatSummaryText(snapshot)).toEqual(['summary sent=5 ok=0 failed=5 (DEADLINE_EXCEEDED=1 UNAVAILABLE=4)']);
  });

  it('shows calls in flight and skipped ticks only when there are some', () => {
    const snapshot: SummaryCounts = { ...base, sent: 3, ok: 1, inFlight: 2, skippedAtCap: 4, byHost: { r: 1 } };
    expect(formatSummaryText(snapshot)).toEqual([
      'summary sent=3 ok=1 failed=0 in-flight=2 skipped=4',
      '  r  ████████████████████  1  100.0%',
    ]);
  });

  it('labels an empty hostname instead of leaving a gap', () => {
    const snapshot: SummaryCounts = { ...base, sent: 1, ok: 1, byHost: { '': 1 } };
    expect(formatSummaryText(snapshot)[1]).toBe('  (empty)  ████████████████████  1  100.0%');
  });
});

describe('formatSummaryJson', () => {
  it('is one object with the same numbers', () => {
    const snapshot: SummaryCounts = {
      ...base,
      sent: 4,
      ok: 3,
      failed: 1,
      failedByCode: { UNAVAILABLE: 1 },
      byHost: { r1: 2, r2: 1 },
    };
    expect(formatSummaryJson(snapshot, { time, final: true })).toBe(
      '{"time":"2026-11-23T10:00:30.000Z","event":"summary","final":true,"sent":4,"succeeded":3,"failed":1,' +
        '"inFlight":0,"skipped":0,"failedByCode":{"UNAVAILABLE":1},' +
        '"hosts":[{"hostname":"r1","count":2,"percent":66.7},{"hostname":"r2","count":1,"percent":33.3}]}',
    );
  });
});

describe('formatSummary', () => {
  it('picks the format', () => {
    const snapshot: SummaryCounts = { ...base, sent: 1, failed: 1, failedByCode: { INTERNAL: 1 } };
    expect(formatSummary(snapshot, 'text', { time, final: false })).toEqual(['summary sent=1 ok=0 failed=1 (INTERNAL=1)']);
    const [json] = formatSummary(snapshot, 'json', { time, final: false });
    expect(JSON.parse(json ?? '')).toMatchObject({ event: 'summary', final: false, sent: 1, failed: 1 });
  });
});

describe('summaryCountsOf', () => {
  it('takes the final counts from the report, hosts in its order, nothing in flight', () => {
    const report = {
      sent: 7,
      ok: 5,
      failed: 2,
      skippedAtCap: 1,
      failedByCode: { DEADLINE_EXCEEDED: 1, UNAVAILABLE: 1 },
      hosts: [
        { hostname: 'grpc-server-2', count: 3, share: 0.6 },
        { hostname: 'grpc-server-10', count: 2, share: 0.4 },
      ],
    } as Partial<LoadReport> as LoadReport;
    const counts = summaryCountsOf(report);
    expect(counts).toEqual({
      sent: 7,
      ok: 5,
      failed: 2,
      inFlight: 0,
      skippedAtCap: 1,
      failedByCode: { DEADLINE_EXCEEDED: 1, UNAVAILABLE: 1 },
      byHost: { 'grpc-server-2': 3, 'grpc-server-10': 2 },
    });
    expect(formatSummaryText(counts)).toEqual([
      'summary sent=7 ok=5 failed=2 (DEADLINE_EXCEEDED=1 UNAVAILABLE=1) skipped=1',
      '  grpc-server-2   ████████████░░░░░░░░  3   60.0%',
      '  grpc-server-10  ████████░░░░░░░░░░░░  2   40.0%',
    ]);
  });
});
