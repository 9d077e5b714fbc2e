import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/src/log.js';

function capture(format: 'text' | 'json'): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger(format, 'grpc-server-1', (line) => lines.push(line)) };
}

describe('createLogger', () => {
  it('writes text as `time replica event key=value...`', () => {
    const { lines, log } = capture('text');
    log('listening', { grpc: '127.0.0.2:8080', control: '127.0.0.2:8081' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z grpc-server-1 listening grpc=127\.0\.0\.2:8080 control=127\.0\.0\.2:8081$/);
  });

  it('quotes text values that would break key=value splitting, keeping one line', () => {
    const { lines, log } = capture('text');
    log('call', { name: 'a b', details: 'x\ny', empty: '' });
    expect(lines[0]).toMatch(/ call name="a b" details="x\\ny" empty=""$/);
  });

  it('writes JSON as one object per line with time, replica and event first', () => {
    const { lines, log } = capture('json');
    log('shutdown complete', { ms: 12 });
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['time', 'replica', 'event', 'ms']);
    expect(parsed).toMatchObject({ replica: 'grpc-server-1', event: 'shutdown complete', ms: 12 });
  });
});
