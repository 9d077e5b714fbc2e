import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack/free-port.js';
import { killClients, parseCallLine, parseSummaryLine, spawnClient, startGreeter, stopGreeters } from './client-process.js';

afterEach(async () => {
  await killClients();
  await stopGreeters();
});

const isFailed = (line: string): boolean => parseCallLine(line)?.status === 'UNAVAILABLE';
const isOk = (line: string): boolean => parseCallLine(line)?.status === 'OK';

describe('grpc-client recovery', { timeout: 30_000 }, () => {
  it('starts with nothing listening, then succeeds once a server comes up on that port, without a restart', async () => {
    const port = await freePort();
    const client = spawnClient(['--target', `127.0.0.1:${port}`, '--interval', '50', '--summary-every', '0']);
    await client.waitForLines(isFailed, 5, 15_000);

    const greeter = await startGreeter(port, { hostnames: ['late-replica'] });
    const upAt = Date.now();
    await client.waitForLines(isOk, 3, 10_000);
    // The reconnect backoff is capped at 1 s, so the client finds the server well within a few seconds.
    expect(Date.now() - upAt).toBeLessThan(4000);
    expect(client.running).toBe(true);

    client.signal('SIGTERM');
    expect(await client.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    const summary = client.lines.map(parseSummaryLine).find((parsed) => parsed !== undefined);
    expect(summary).toBeDefined();
    if (!summary) return;
    expect(summary.sent).toBe(summary.ok + summary.failed);
    expect(summary.failed).toBeGreaterThanOrEqual(5);
    expect(summary.ok).toBeGreaterThanOrEqual(3);
    expect(greeter.names.length).toBe(summary.ok);
  });

  it('recovers again after the server goes away and comes back', async () => {
    const port = await freePort();
    const first = await startGreeter(port, { hostnames: ['first'] });
    const client = spawnClient(['--target', `127.0.0.1:${port}`, '--interval', '50', '--summary-every', '0']);
    await client.waitForLines(isOk, 3, 15_000);

    await first.stop();
    const failedBefore = client.lines.filter(isFailed).length;
    await client.waitForLines(isFailed, failedBefore + 3, 10_000);

    await startGreeter(port, { hostnames: ['second'] });
    await client.waitForLines((line) => parseCallLine(line)?.hostname === 'second', 3, 10_000);
    expect(client.running).toBe(true);
  });
});
