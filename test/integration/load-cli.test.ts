import { afterEach, describe, expect, it } from 'vitest';
import type { LoadReport } from '../../client/src/load/load-report.js';
import { childEnv, killAll, TsProcess } from '../helpers/ts-process.js';
import { startGreeter, stopGreeters } from './client-process.js';

const spawned = new Set<TsProcess>();

/** The real CLI as `npm run load` starts it, with ENVOY_ADDRESS cleared so the developer's shell cannot change a test. */
function spawnLoad(args: string[]): TsProcess {
  const load = new TsProcess('client/src/load/main.ts', args, childEnv(['ENVOY_ADDRESS'], {}));
  spawned.add(load);
  return load;
}

afterEach(async () => {
  await killAll(spawned);
  await stopGreeters();
});

const progressLines = (load: TsProcess): string[] => load.stderr.split('\n').filter((line) => line.startsWith('load  '));

describe('grpc-load CLI process', { timeout: 30_000 }, () => {
  it('--json prints one parseable report on stdout and exits 0', async () => {
    const greeter = await startGreeter(0, { hostnames: ['replica-a', 'replica-b'] });
    const load = spawnLoad(['--target', `127.0.0.1:${greeter.port}`, '--count', '200', '--concurrency', '5', '--json']);
    expect(await load.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    expect(load.lines).toHaveLength(1);
    const report = JSON.parse(load.lines[0] ?? '') as LoadReport;
    expect(report).toMatchObject({ sent: 200, ok: 200, failed: 0, interrupted: false, concurrency: 5 });
    expect(report.hosts.map((host) => [host.hostname, host.count])).toEqual([
      ['replica-a', 100],
      ['replica-b', 100],
    ]);
    // A short run prints no progress.
    expect(load.stderr).toBe('');
  });

  it('when not one call gets through: the report, then one line saying why, and exit 1', async () => {
    const { freePort } = await import('../../scripts/stack/free-port.js');
    const port = await freePort();
    const load = spawnLoad(['--target', `127.0.0.1:${port}`, '--count', '5', '--deadline', '500', '--json']);
    expect(await load.waitForExit(15_000)).toEqual({ code: 1, signal: null });
    expect(JSON.parse(load.lines[0] ?? '')).toMatchObject({ sent: 5, ok: 0, failed: 5 });
    const lines = load.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^grpc-load: all 5 calls to 127\\.0\\.0\\.1:${port} failed; the last: UNAVAILABLE: .*ECONNREFUSED`));
  });

  it('prints the text report by default', async () => {
    const greeter = await startGreeter(0);
    const load = spawnLoad(['--target', `127.0.0.1:${greeter.port}`, '--count', '20']);
    expect(await load.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    expect(load.lines[0]).toBe(`grpc-load 127.0.0.1:${greeter.port}  closed loop, concurrency 10, 1 worker, count 20, deadline 2000ms`);
    expect(load.lines[1]).toMatch(/^sent=20 ok=20 failed=0 in \d+\.\d{3}s$/);
    expect(load.lines).toContain('  replica-a  ████████████████████  20  100.0%');
  });

  it('SIGINT mid-run: progress on stderr, then a partial report with interrupted true and sent == ok + failed', async () => {
    const greeter = await startGreeter(0, { delayMs: 20 });
    const load = spawnLoad(['--target', `127.0.0.1:${greeter.port}`, '--duration', '30', '--rate', '50', '--json']);
    await load.until('a progress line', () => progressLines(load).length >= 1, 15_000);
    expect(progressLines(load)[0]).toMatch(/^load {2}1s\/30s {2}sent=\d+ ok=\d+ failed=0 rate=\d+\/s p99=[\d.]+ms$/);
    load.signal('SIGINT');
    expect(await load.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    const report = JSON.parse(load.lines[0] ?? '') as LoadReport;
    expect(report.interrupted).toBe(true);
    expect(report.sent).toBeGreaterThan(20);
    expect(report.sent).toBe(report.ok + report.failed);
    expect(report.sent).toBe(greeter.names.length);
    expect(load.stderr).toContain('grpc-load: SIGINT: stopping, waiting for the calls in flight (again to cancel them)\n');
  });

  it('a second SIGINT cancels the calls in flight, which count as CANCELLED', async () => {
    const greeter = await startGreeter(0, { delayMs: 20_000 });
    const load = spawnLoad(['--target', `127.0.0.1:${greeter.port}`, '--duration', '30', '--concurrency', '3', '--deadline', '25000', '--json']);
    await load.until('3 calls at the server', () => greeter.names.length >= 3, 15_000);
    load.signal('SIGINT');
    await load.until('the stop notice', () => load.stderr.includes('stopping'), 5_000);
    load.signal('SIGINT');
    expect(await load.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    const report = JSON.parse(load.lines[0] ?? '') as LoadReport;
    expect(report).toMatchObject({ interrupted: true, sent: 3, ok: 0, failed: 3, failedByCode: { CANCELLED: 3 } });
  });

  it('--until-stopped runs until SIGTERM, then reports every call, not as interrupted', async () => {
    const greeter = await startGreeter(0);
    const load = spawnLoad(['--target', `127.0.0.1:${greeter.port}`, '--until-stopped', '--rate', '100', '--json']);
    await load.until('20 calls at the server', () => greeter.names.length >= 20, 15_000);
    load.signal('SIGTERM');
    expect(await load.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    const report = JSON.parse(load.lines[0] ?? '') as LoadReport;
    expect(report).toMatchObject({ interrupted: false, plannedDurationS: null, plannedCount: null, failed: 0 });
    expect(report.sent).toBe(greeter.names.length);
    expect(report.sent).toBe(report.ok);
  });

  it('a bad flag exits 2 with exactly one line on stderr', async () => {
    const load = spawnLoad(['--rate', 'fast']);
    expect(await load.waitForExit(15_000)).toEqual({ code: 2, signal: null });
    expect(load.stderr).toBe('grpc-load: --rate must be calls per second, above 0 and at most 100000, got "fast"\n');
    expect(load.stdout).toBe('');
  });
});
