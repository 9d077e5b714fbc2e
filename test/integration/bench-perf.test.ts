// The perf bench's quick variant end to end: npm start under it, both routes, its ratios computed and written as
// table, JSON and chart page. The real measurement (minutes) is `npm run bench:perf`; see docs/performance.md.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../scripts/envoy/paths.js';
import { findGhz } from '../../scripts/bench/perf/ghz.js';
import type { PerfResult } from '../../scripts/bench/perf/perf-report.js';
import { runCommand } from '../helpers/run-command.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('npm run bench:perf -- --quick', { timeout: 60_000 }, () => {
  it('measures both routes side by side and writes the ratios as table, JSON and chart', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'grpc-envoy-lab-perf-test-'));
    dirs.push(out);
    const run = await runCommand(process.execPath, ['--import', 'tsx', 'scripts/bench/perf.ts', '--quick', '--out', out], { cwd: projectRoot, timeoutMs: 55_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(readFileSync(path.join(out, 'perf.json'), 'utf8')) as PerfResult & { phases: unknown[] };
    const row = (section: string, figure: string) => result.rows.find((r) => r.section.includes(section) && r.figure === figure);
    // Every call of every phase went through (a phase that failed its calls would make its ratios meaningless).
    const cpu = row('the load generator)', 'CPU per call, Envoy + replicas vs replicas');
    expect(cpu?.compare?.value.median).toBeGreaterThan(0.5);
    expect(cpu?.compare?.value.median).toBeLessThan(20);
    const throughput = row('the load generator)', 'throughput at full speed, calls/s');
    expect(throughput?.left.median).toBeGreaterThan(50);
    expect(throughput?.right?.median).toBeGreaterThan(50);
    const latency = row('the load generator)', 'p99 at 500 calls/s');
    expect(Number.isFinite(latency?.compare?.value.median)).toBe(true);
    // Round robin through Envoy over 3 replicas, every replica answering.
    const spread = row('the load generator)', 'round robin over 3 replicas, max/min calls');
    expect(spread?.left.median).toBeLessThan(1.5);
    expect(result.memoryMb.filter((m) => m.name.startsWith('grpc-server-'))).toHaveLength(3);
    expect(result.memoryMb.find((m) => m.name === 'envoy')?.idle).toBeGreaterThan(1);
    // ghz joins as the reference client when installed; without it the bench says so in one line.
    if (findGhz()) expect(result.rows.some((r) => r.section.startsWith('the load generator vs ghz'))).toBe(true);
    else expect(run.stdout).toMatch(/^bench:perf: ghz not found \(npm run setup:ghz installs it into \.tools\/bin\)/m);
    expect(readFileSync(path.join(out, 'perf.md'), 'utf8')).toContain('| CPU per call, Envoy + replicas vs replicas |');
    expect(readFileSync(path.join(out, 'perf.html'), 'utf8')).toContain('<svg');
    expect(existsSync(path.join(out, 'perf.json'))).toBe(true);
  });

  it('--scale times npm start at each count of replicas and weighs its processes', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'grpc-envoy-lab-perf-test-'));
    dirs.push(out);
    const run = await runCommand(process.execPath, ['--import', 'tsx', 'scripts/bench/perf.ts', '--scale', '1,2', '--out', out], { cwd: projectRoot, timeoutMs: 55_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { steps } = JSON.parse(readFileSync(path.join(out, 'scale.json'), 'utf8')) as { steps: Array<{ replicas: number; readyMs: number; replicasMb: number; largestReplicaMb: number; envoyMb: number }> };
    expect(steps.map((s) => s.replicas)).toEqual([1, 2]);
    for (const step of steps) {
      expect(step.readyMs).toBeGreaterThan(0);
      expect(step.envoyMb).toBeGreaterThan(1);
      // Two replicas weigh more than one, and no replica more than all of them together.
      expect(step.largestReplicaMb).toBeLessThanOrEqual(step.replicasMb);
    }
    expect(steps[1]?.replicasMb).toBeGreaterThan(steps[0]?.replicasMb ?? Infinity);
    expect(readFileSync(path.join(out, 'scale.html'), 'utf8')).toContain('<svg');
  });

  it('refuses a bad option in one line', async () => {
    const run = await runCommand(process.execPath, ['--import', 'tsx', 'scripts/bench/perf.ts', '--rates', '500,x'], { cwd: projectRoot, timeoutMs: 15_000 });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('bench:perf: --rates must be integers from 1 to 20000, got "500,x"');
  });
});
