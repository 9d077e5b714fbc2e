import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack/free-port.js';
import {
  killClients,
  parseCallLine,
  parseSummaryLine,
  spawnClient,
  startGreeter,
  stopGreeters,
  type TextCallLine,
} from './client-process.js';

afterEach(async () => {
  await killClients();
  await stopGreeters();
});

function callLines(lines: readonly string[]): TextCallLine[] {
  return lines.map(parseCallLine).filter((line): line is TextCallLine => line !== undefined);
}

describe('grpc-client process against a real greeter', { timeout: 20_000 }, () => {
  it('logs every call and a final summary whose numbers add up, then exits 0 after --count', async () => {
    const greeter = await startGreeter(0, { hostnames: ['replica-a', 'replica-b'], failEvery: 5, failCode: status.UNAVAILABLE });
    const client = spawnClient([
      '--target', `127.0.0.1:${greeter.port}`,
      '--interval', '50',
      '--count', '10',
      '--summary-every', '0',
      '--name', 'it-test',
    ]);
    expect(await client.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    expect(client.stderr).toBe('');

    const calls = callLines(client.lines);
    expect(calls.map((call) => call.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const succeeded = calls.filter((call) => call.status === 'OK');
    const failed = calls.filter((call) => call.status !== 'OK');
    expect(succeeded.map((call) => call.hostname).sort()).toEqual([...Array(4).fill('replica-a'), ...Array(4).fill('replica-b')]);
    expect(failed).toHaveLength(2);
    for (const call of failed) {
      expect(call.hostname).toBe('-');
      expect(call.status).toBe('UNAVAILABLE');
      expect(call.details).toMatch(/^injected failure on call (5|10)$/);
    }

    expect(client.lines[0]).toMatch(/ start target=127\.0\.0\.1:\d+ interval=50ms deadline=2000ms .*count=10 name="it-test"/);
    expect(client.lines.slice(-3)).toEqual([
      'summary sent=10 ok=8 failed=2 (UNAVAILABLE=2)',
      '  replica-a  ██████████░░░░░░░░░░  4   50.0%',
      '  replica-b  ██████████░░░░░░░░░░  4   50.0%',
    ]);
    expect(greeter.names).toEqual(Array(10).fill('it-test'));
    // One channel for the whole run: every call arrived over the same connection.
    expect(new Set(greeter.peers).size).toBe(1);
  });

  it('writes one JSON object per line when configured through env vars', async () => {
    const greeter = await startGreeter(0, { hostnames: ['replica-json'] });
    const client = spawnClient([], {
      ENVOY_ADDRESS: `127.0.0.1:${greeter.port}`,
      CALL_INTERVAL_MS: '50',
      CALL_COUNT: '5',
      GREET_NAME: 'from-env',
      LOG_FORMAT: 'json',
    });
    expect(await client.waitForExit(15_000)).toEqual({ code: 0, signal: null });

    const events = client.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ event: 'start', count: 5, intervalMs: 50, name: 'from-env' });
    const calls = events.filter((event) => event['event'] === 'call');
    expect(calls).toHaveLength(5);
    for (const call of calls) {
      expect(Object.keys(call)).toEqual(['time', 'event', 'seq', 'ok', 'hostname', 'latencyMs', 'code', 'codeName', 'details']);
      expect(call).toMatchObject({ ok: true, hostname: 'replica-json', code: 0, codeName: 'OK', details: '' });
    }
    expect(events.at(-1)).toMatchObject({
      event: 'summary',
      final: true,
      sent: 5,
      succeeded: 5,
      failed: 0,
      inFlight: 0,
      failedByCode: {},
      hosts: [{ hostname: 'replica-json', count: 5, percent: 100 }],
    });
    expect(greeter.names).toEqual(Array(5).fill('from-env'));
  });

  it('prints running summaries in which sent == ok + failed + in-flight', async () => {
    const greeter = await startGreeter(0, { delayMs: 120 });
    const client = spawnClient(['--target', `127.0.0.1:${greeter.port}`, '--interval', '50', '--summary-every', '1']);
    const summaries = await client.waitForLines((line) => line.startsWith('summary '), 2, 15_000);
    const parsed = summaries.map((line) => parseSummaryLine(line));
    for (const [index, summary] of parsed.entries()) {
      expect(summary, summaries[index]).toBeDefined();
      if (summary) expect(summary.sent).toBe(summary.ok + summary.failed + summary.inFlight);
    }
    // Each reply takes 120 ms at a 50 ms interval, so the running summaries must be counting calls in flight.
    expect(parsed.some((summary) => (summary?.inFlight ?? 0) > 0)).toBe(true);
    expect(client.running).toBe(true);
  });

  it('keeps running when nothing listens: every call is a failed UNAVAILABLE line, exit 0 after --count', async () => {
    const port = await freePort();
    const client = spawnClient(['--target', `127.0.0.1:${port}`, '--interval', '50', '--count', '10']);
    expect(await client.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    expect(client.stderr).toBe('');

    const calls = callLines(client.lines);
    expect(calls).toHaveLength(10);
    for (const call of calls) {
      expect(call).toMatchObject({ hostname: '-', status: 'UNAVAILABLE' });
      expect(call.details).toContain('ECONNREFUSED');
    }
    expect(client.lines.at(-1)).toBe('summary sent=10 ok=0 failed=10 (UNAVAILABLE=10)');
  });
});
