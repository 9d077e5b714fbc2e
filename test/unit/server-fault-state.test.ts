import { describe, expect, it } from 'vitest';
import {
  FAIL_CODE_NAMES,
  FaultConflictError,
  FaultPatchError,
  FaultState,
  parseFaultPatch,
  statusCodeOf,
  type FaultStateView,
} from '../../server/src/fault-state.js';

/** The one-line message parseFaultPatch throws for this body. */
function errorFor(body: unknown): string {
  try {
    parseFaultPatch(body);
  } catch (error) {
    expect(error).toBeInstanceOf(FaultPatchError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(body)} to be rejected`);
}

describe('parseFaultPatch', () => {
  it('accepts every writable field', () => {
    expect(parseFaultPatch({ health: 'NOT_SERVING', failRate: 0.25, failCode: 'INTERNAL', latencyMs: 60000 })).toEqual({
      health: 'NOT_SERVING',
      failRate: 0.25,
      failCode: 'INTERNAL',
      latencyMs: 60000,
    });
  });

  it('accepts a partial body and an empty one', () => {
    expect(parseFaultPatch({ failRate: 1 })).toEqual({ failRate: 1 });
    expect(parseFaultPatch({})).toEqual({});
  });

  it.each([
    [null, 'body must be a JSON object with any of health, failRate, failCode, latencyMs'],
    [[1], 'body must be a JSON object with any of health, failRate, failCode, latencyMs'],
    ['SERVING', 'body must be a JSON object with any of health, failRate, failCode, latencyMs'],
    [{ health: 'serving' }, 'health must be "SERVING" or "NOT_SERVING", got "serving"'],
    [{ failRate: 1.5 }, 'failRate must be a number 0-1, got 1.5'],
    [{ failRate: -0.1 }, 'failRate must be a number 0-1, got -0.1'],
    [{ failRate: '0.5' }, 'failRate must be a number 0-1, got "0.5"'],
    [{ failCode: 'OK' }, 'failCode must be a gRPC status name other than OK (e.g. UNAVAILABLE, INTERNAL), got "OK"'],
    [{ failCode: 14 }, 'failCode must be a gRPC status name other than OK (e.g. UNAVAILABLE, INTERNAL), got 14'],
    [{ latencyMs: 60001 }, 'latencyMs must be an integer 0-60000, got 60001'],
    [{ latencyMs: 1.5 }, 'latencyMs must be an integer 0-60000, got 1.5'],
    [{ latency: 5 }, 'unknown field "latency"; allowed: health, failRate, failCode, latencyMs'],
    [{ replica: 'x' }, 'unknown field "replica"; allowed: health, failRate, failCode, latencyMs'],
  ])('rejects %j', (body, message) => {
    expect(errorFor(body)).toBe(message);
  });

  it('offers every gRPC status except OK as a fail code', () => {
    expect(FAIL_CODE_NAMES).toHaveLength(16);
    expect(FAIL_CODE_NAMES).not.toContain('OK');
    expect(statusCodeOf('UNAVAILABLE')).toBe(14);
    expect(statusCodeOf('RESOURCE_EXHAUSTED')).toBe(8);
  });
});

describe('FaultState', () => {
  it('starts SERVING with no faults', () => {
    expect(new FaultState('r1').get()).toEqual({
      replica: 'r1',
      health: 'SERVING',
      failRate: 0,
      failCode: 'UNAVAILABLE',
      latencyMs: 0,
    });
  });

  it('applies partial updates, tells listeners, and resets', () => {
    const state = new FaultState('r1');
    const changes: Array<[FaultStateView, FaultStateView]> = [];
    state.onChange((next, previous) => changes.push([next, previous]));

    expect(state.update({ failRate: 0.5, failCode: 'INTERNAL' })).toMatchObject({ failRate: 0.5, failCode: 'INTERNAL', latencyMs: 0 });
    expect(state.update({ latencyMs: 20, health: 'NOT_SERVING' })).toMatchObject({ failRate: 0.5, latencyMs: 20, health: 'NOT_SERVING' });
    expect(state.reset()).toEqual({ replica: 'r1', health: 'SERVING', failRate: 0, failCode: 'UNAVAILABLE', latencyMs: 0 });

    expect(changes).toHaveLength(3);
    expect(changes[1]![1].health).toBe('SERVING');
    expect(changes[1]![0].health).toBe('NOT_SERVING');
  });

  it('stays NOT_SERVING once draining, even through reset', () => {
    const state = new FaultState('r1');
    state.update({ latencyMs: 5 });
    expect(state.beginDrain()).toMatchObject({ health: 'NOT_SERVING', latencyMs: 5 });
    expect(() => state.update({ health: 'SERVING' })).toThrow(FaultConflictError);
    expect(state.update({ failRate: 1 }).health).toBe('NOT_SERVING');
    expect(state.reset()).toMatchObject({ health: 'NOT_SERVING', failRate: 0, latencyMs: 0 });
  });
});
