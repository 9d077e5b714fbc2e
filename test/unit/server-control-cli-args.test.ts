import { describe, expect, it } from 'vitest';
import {
  parseCodeArg,
  parseControlPortArg,
  parseHealthArg,
  parseLatencyArg,
  parseRateArg,
  UsageError,
} from '../../server/src/control-cli-args.js';

function usageError(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('greeterctl arguments', () => {
  it('parses health in any case', () => {
    expect(parseHealthArg('serving')).toBe('SERVING');
    expect(parseHealthArg('NOT-SERVING')).toBe('NOT_SERVING');
    expect(usageError(() => parseHealthArg('down'))).toBe('health must be serving or not-serving, got "down"');
  });

  it('parses a rate 0-1', () => {
    expect(parseRateArg('0')).toBe(0);
    expect(parseRateArg('.25')).toBe(0.25);
    expect(parseRateArg('1.0')).toBe(1);
    expect(usageError(() => parseRateArg('2'))).toBe('rate must be a number 0-1, got "2"');
    expect(usageError(() => parseRateArg('50%'))).toBe('rate must be a number 0-1, got "50%"');
    expect(usageError(() => parseRateArg('1e-1'))).toBe('rate must be a number 0-1, got "1e-1"');
  });

  it('parses a latency 0-60000 ms', () => {
    expect(parseLatencyArg('250')).toBe(250);
    expect(usageError(() => parseLatencyArg('60001'))).toBe('latency must be an integer 0-60000 (milliseconds), got "60001"');
    expect(usageError(() => parseLatencyArg('1s'))).toBe('latency must be an integer 0-60000 (milliseconds), got "1s"');
  });

  it('parses a status name in any case, never OK', () => {
    expect(parseCodeArg('unavailable')).toBe('UNAVAILABLE');
    expect(parseCodeArg('resource-exhausted')).toBe('RESOURCE_EXHAUSTED');
    expect(usageError(() => parseCodeArg('ok'))).toMatch(/^code must be a gRPC status name other than OK \(.*\), got "ok"$/);
  });

  it('parses a port to connect to, never 0', () => {
    expect(parseControlPortArg('--port', '8081')).toBe(8081);
    expect(usageError(() => parseControlPortArg('--port', '0'))).toBe('--port must be an integer 1-65535, got "0"');
    expect(usageError(() => parseControlPortArg('CONTROL_PORT', 'x'))).toBe('CONTROL_PORT must be an integer 1-65535, got "x"');
  });
});
