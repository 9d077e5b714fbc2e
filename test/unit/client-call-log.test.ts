import { describe, expect, it } from 'vitest';
import { formatCallLine, type CallRecord } from '../../client/src/call-log.js';

const time = new Date('2026-11-23T10:00:01.004Z');
const success: CallRecord = {
  time,
  seq: 12,
  result: { ok: true, hostname: 'grpc-server-2', message: 'Hello, lab', latencyMs: 3.14159, code: 0 },
};
const failure: CallRecord = {
  time: new Date('2026-11-23T10:00:02.005Z'),
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
    const multiLine: CallRecord = { ...failure, result: { ...failure.result, details: 'first\n  second\r\n' } as CallRecord['result'] };
    expect(formatCallLine(multiLine, 'text')).toBe('2026-11-23T10:00:02.005Z #13 - 2001.3ms UNAVAILABLE first second');
    const empty: CallRecord = { ...failure, result: { ...failure.result, details: '' } as CallRecord['result'] };
    expect(formatCallLine(empty, 'text')).toBe('2026-11-23T10:00:02.005Z #13 - 2001.3ms UNAVAILABLE');
  });

  it('labels an empty hostname', () => {
    const blank: CallRecord = { ...success, result: { ...success.result, hostname: '' } as CallRecord['result'] };
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
