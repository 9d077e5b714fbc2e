import { describe, expect, it } from 'vitest';
import type { ClientConfig } from '../../client/src/config.js';
import { formatLifecycleLine } from '../../client/src/lifecycle-log.js';

const time = new Date('2026-11-23T10:00:00.000Z');
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
    expect(formatLifecycleLine(time, { event: 'start', config, maxInFlight: 3 }, 'text')).toBe(
      '2026-11-23T10:00:00.000Z start target=envoy:5000 interval=1000ms deadline=2000ms summary-every=30s count=0 name="lab" max-in-flight=3',
    );
    expect(JSON.parse(formatLifecycleLine(time, { event: 'start', config, maxInFlight: 3 }, 'json'))).toEqual({
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
    expect(formatLifecycleLine(time, { event: 'stopping', reason: 'SIGTERM', inFlight: 2 }, 'text')).toBe(
      '2026-11-23T10:00:00.000Z stopping reason=SIGTERM in-flight=2',
    );
    expect(formatLifecycleLine(time, { event: 'cancelling', reason: 'SIGINT', inFlight: 1 }, 'json')).toBe(
      '{"time":"2026-11-23T10:00:00.000Z","event":"cancelling","reason":"SIGINT","inFlight":1}',
    );
    expect(formatLifecycleLine(time, { event: 'skip', inFlight: 3, limit: 3 }, 'text')).toBe(
      '2026-11-23T10:00:00.000Z skip in-flight=3 limit=3 (call not started)',
    );
  });
});
