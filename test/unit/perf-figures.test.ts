import { describe, expect, it } from 'vitest';
import { percentilesOf, spreadOf, spreadRatio, type Phase } from '../../scripts/bench/perf/figures.js';
import { summarise } from '../../scripts/bench/perf/perf-summary.js';

function phase(repeat: number, route: 'envoy' | 'direct', rate: number | null, ok: number, cpu: { envoy: number; replicas: number }, p50 = 1): Phase {
  return {
    repeat,
    client: 'load',
    route,
    rate,
    figures: { okCalls: ok, failedCalls: 0, callsPerS: ok / 5, latencyMs: { p50, p99: p50 * 3, p99_9: p50 * 5 }, clientCpuMs: ok * 0.1, hosts: { a: ok / 2, b: ok / 2 } },
    cpuMs: { ...cpu, supervisor: 0 },
  };
}

describe('perf bench arithmetic', () => {
  it('takes nearest-rank percentiles and median / min / max', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentilesOf(values)).toEqual({ p50: 500, p99: 990, p99_9: 999 });
    expect(percentilesOf([])).toBeNull();
    expect(spreadOf([3, 1, 2, 10])).toEqual({ median: 2.5, min: 1, max: 10 });
    expect(spreadRatio({ a: 110, b: 100 }, 2)).toBeCloseTo(1.1);
    expect(spreadRatio({ a: 110 }, 2)).toBeNaN();
  });

  it('compares the routes pair by pair within a repeat', () => {
    const phases = [
      // Repeat 1: Envoy + replicas 0.3 ms a call, replicas alone 0.2 ms: 1.5x. Repeat 2: 0.4 vs 0.2: 2x.
      phase(1, 'envoy', null, 1000, { envoy: 100, replicas: 200 }),
      phase(1, 'direct', null, 1000, { envoy: 0, replicas: 200 }),
      phase(2, 'envoy', null, 1000, { envoy: 200, replicas: 200 }),
      phase(2, 'direct', null, 2000, { envoy: 0, replicas: 400 }),
      phase(1, 'envoy', 500, 2500, { envoy: 0, replicas: 0 }, 1.2),
      phase(1, 'direct', 500, 2500, { envoy: 0, replicas: 0 }, 1),
    ];
    const rows = summarise(phases, [500], 2);
    const cpu = rows.find((r) => r.figure === 'CPU per call, Envoy + replicas vs replicas');
    expect(cpu?.compare?.value.median).toBeCloseTo(1.75);
    expect(cpu?.compare?.value.min).toBeCloseTo(1.5);
    expect(cpu?.compare?.value.max).toBeCloseTo(2);
    expect(cpu?.target).toEqual({ text: '≤ 1.5×', met: false });
    const p50 = rows.find((r) => r.figure === 'p50 at 500 calls/s');
    expect(p50?.compare?.value.median).toBeCloseTo(0.2);
    expect(p50?.target?.met).toBe(true);
  });
});
