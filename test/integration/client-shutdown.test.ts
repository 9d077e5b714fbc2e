import { afterEach, describe, expect, it } from 'vitest';
import { killClients, parseCallLine, parseSummaryLine, spawnClient, startGreeter, stopGreeters, type TextCallLine } from './client-process.js';

afterEach(async () => {
  await killClients();
  await stopGreeters();
});

function callLines(lines: readonly string[]): TextCallLine[] {
  return lines.map(parseCallLine).filter((line): line is TextCallLine => line !== undefined);
}

describe('grpc-client shutdown', { timeout: 30_000 }, () => {
  it('on SIGTERM waits for the calls in flight, prints the final summary with sent == ok + failed, exits 0', async () => {
    // Each reply takes 300 ms at a 50 ms interval, so several calls are in flight when the signal lands.
    const greeter = await startGreeter(0, { delayMs: 300 });
    const client = spawnClient(['--target', `127.0.0.1:${greeter.port}`, '--interval', '50', '--summary-every', '0']);
    await client.waitForLines((line) => parseCallLine(line)?.status === 'OK', 3, 15_000);

    client.signal('SIGTERM');
    expect(await client.waitForExit(10_000)).toEqual({ code: 0, signal: null });

    const stopping = client.lines.find((line) => / stopping reason=SIGTERM in-flight=\d+$/.test(line));
    expect(stopping, client.describe()).toBeDefined();
    const inFlightAtStop = Number(/in-flight=(\d+)$/.exec(stopping ?? '')?.[1]);
    expect(inFlightAtStop).toBeGreaterThan(0);

    const summaries = client.lines.map(parseSummaryLine).filter((parsed) => parsed !== undefined);
    expect(summaries).toHaveLength(1);
    const [summary] = summaries;
    if (!summary) return;
    expect(summary.inFlight).toBe(0);
    expect(summary.sent).toBe(summary.ok + summary.failed);
    // The calls in flight at the signal were allowed to finish: all succeeded, none was cut off.
    expect(summary.failed).toBe(0);
    const seqs = callLines(client.lines).map((call) => call.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: summary.sent }, (_, index) => index + 1));
    // No call was started after the signal: everything after "stopping" is call lines or the summary.
    const afterStop = client.lines.slice(client.lines.indexOf(stopping ?? ''));
    expect(afterStop.filter((line) => parseCallLine(line) !== undefined)).toHaveLength(inFlightAtStop);
  });

  it('on a second SIGINT cancels the calls in flight instead of waiting for their deadline', async () => {
    const greeter = await startGreeter(0, { delayMs: 20_000 });
    const client = spawnClient(['--target', `127.0.0.1:${greeter.port}`, '--interval', '50', '--deadline', '30000']);
    await client.until('the server to see 3 calls', () => greeter.names.length >= 3, 15_000);

    client.signal('SIGINT');
    await client.waitForLines((line) => line.includes(' stopping reason=SIGINT'), 1, 5000);
    client.signal('SIGINT');
    expect(await client.waitForExit(5000)).toEqual({ code: 0, signal: null });

    expect(client.lines.some((line) => / cancelling reason=SIGINT in-flight=[1-9]\d*$/.test(line))).toBe(true);
    const summary = client.lines.map(parseSummaryLine).find((parsed) => parsed !== undefined);
    expect(summary).toBeDefined();
    if (!summary) return;
    expect(summary.ok).toBe(0);
    expect(summary.sent).toBe(summary.failed);
    expect(summary.codes).toEqual({ CANCELLED: summary.sent });
  });
});
