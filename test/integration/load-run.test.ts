import { Server, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { GreeterService, type SayHelloRequest, type SayHelloResponse } from '../../gen/greeter/v1/greeter.js';
import { LoadOptionsError } from '../../client/src/load/load-options.js';
import type { SettledCall } from '../../client/src/load/load-loop.js';
import { runLoad, type LoadProgress } from '../../client/src/load/load-run.js';
import { startGreeter, stopGreeters } from './client-process.js';

const servers = new Set<Server>();

afterEach(async () => {
  await stopGreeters();
  for (const server of servers) server.forceShutdown();
  servers.clear();
});

/**
 * A greeter that routes by key as a ring-hash balancer would, deterministically: `key-n` is answered by
 * host-(n % 2). It also keeps the metadata of every call.
 */
async function startKeyRoutedGreeter(header: string): Promise<{ port: number; seen: Array<Record<string, unknown>> }> {
  const seen: Array<Record<string, unknown>> = [];
  const server = new Server();
  server.addService(GreeterService, {
    sayHello: (call: ServerUnaryCall<SayHelloRequest, SayHelloResponse>, callback: sendUnaryData<SayHelloResponse>) => {
      seen.push(call.metadata.getMap());
      const key = String(call.metadata.get(header)[0] ?? '');
      const n = Number(/^key-(\d+)$/.exec(key)?.[1]);
      if (!Number.isInteger(n)) {
        callback({ code: status.INVALID_ARGUMENT, details: `no ${header}` });
        return;
      }
      callback(null, { message: `Hello, ${call.request.name}`, hostname: `host-${n % 2}` });
    },
  });
  servers.add(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { port, seen };
}

describe('runLoad against real grpc-js greeters on loopback', { timeout: 20_000 }, () => {
  it('--count: sends exactly that many, sent == ok + failed, hosts add up', async () => {
    const greeter = await startGreeter(0, { hostnames: ['replica-a', 'replica-b'] });
    const report = await runLoad({ target: `127.0.0.1:${greeter.port}`, count: 300, concurrency: 8 });
    expect(report).toMatchObject({ mode: 'closed', sent: 300, ok: 300, failed: 0, interrupted: false, plannedCount: 300 });
    expect(report.hosts).toEqual([
      { hostname: 'replica-a', count: 150, share: 0.5 },
      { hostname: 'replica-b', count: 150, share: 0.5 },
    ]);
    expect(greeter.names).toHaveLength(300);
    expect(new Set(greeter.names)).toEqual(new Set(['load']));
    expect(report.latencyMs.ok?.count).toBe(300);
    expect(report.latencyMs.ok?.p50).toBeGreaterThan(0);
  });

  it('--rate over 2 s lands within 20% of the target rate', async () => {
    const greeter = await startGreeter(0);
    const report = await runLoad({ target: `127.0.0.1:${greeter.port}`, rate: 100, durationS: 2, concurrency: 20 });
    expect(report.mode).toBe('open');
    expect(report.sent).toBe(report.ok + report.failed);
    expect(report.durationS).toBeGreaterThan(1.6);
    expect(report.durationS).toBeLessThan(2.6);
    expect(report.throughput.allPerS).toBeGreaterThan(80);
    expect(report.throughput.allPerS).toBeLessThan(120);
    expect(greeter.names.length).toBe(report.sent);
  });

  it('--workers 2: two threads, two channels, results merged', async () => {
    const greeter = await startGreeter(0, { hostnames: ['replica-a', 'replica-b'] });
    const report = await runLoad({ target: `127.0.0.1:${greeter.port}`, count: 401, concurrency: 4, workers: 2 });
    expect(report).toMatchObject({ workers: 2, sent: 401, ok: 401, failed: 0 });
    expect(report.hosts.reduce((total, host) => total + host.count, 0)).toBe(401);
    expect(report.latencyMs.ok?.count).toBe(401);
    expect(greeter.names).toHaveLength(401);
    // One channel per worker: the calls came over two connections.
    expect(new Set(greeter.peers).size).toBe(2);
  });

  it('--key-header: each key maps to exactly the one host that routes it; --metadata goes on every call', async () => {
    const { port, seen } = await startKeyRoutedGreeter('x-user');
    const report = await runLoad({
      target: `127.0.0.1:${port}`,
      count: 60,
      concurrency: 5,
      workers: 2,
      keyHeader: 'x-user',
      keys: 6,
      metadata: [['x-tenant', 'blue']],
    });
    expect(report.sent).toBe(60);
    expect(report.ok).toBe(60);
    expect(report.keys).toEqual({
      header: 'x-user',
      keys: 6,
      hostsByKey: {
        'key-0': { 'host-0': 10 },
        'key-1': { 'host-1': 10 },
        'key-2': { 'host-0': 10 },
        'key-3': { 'host-1': 10 },
        'key-4': { 'host-0': 10 },
        'key-5': { 'host-1': 10 },
      },
      oneHost: 6,
      severalHosts: 0,
      noHost: 0,
    });
    expect(seen).toHaveLength(60);
    expect(seen.every((metadata) => metadata['x-tenant'] === 'blue')).toBe(true);
  });

  it('counts failures per status code', async () => {
    const greeter = await startGreeter(0, { failEvery: 4, failCode: status.UNAVAILABLE });
    const report = await runLoad({ target: `127.0.0.1:${greeter.port}`, count: 100, concurrency: 1 });
    expect(report).toMatchObject({ sent: 100, ok: 75, failed: 25, failedByCode: { UNAVAILABLE: 25 } });
    expect(report.latencyMs.all?.count).toBe(100);
    expect(report.hosts).toEqual([{ hostname: 'replica-a', count: 75, share: 1 }]);
  });

  it('signal: stops starting calls, waits for those in flight, reports interrupted; progress arrives meanwhile', async () => {
    const greeter = await startGreeter(0, { delayMs: 50 });
    const stop = new AbortController();
    const progress: LoadProgress[] = [];
    const report = await runLoad(
      { target: `127.0.0.1:${greeter.port}`, durationS: 30, concurrency: 4 },
      {
        signal: stop.signal,
        progressEveryMs: 100,
        onProgress: (p) => {
          progress.push(p);
          if (progress.length === 4) stop.abort();
        },
      },
    );
    expect(report.interrupted).toBe(true);
    expect(report.sent).toBeGreaterThan(8);
    expect(report.sent).toBe(report.ok + report.failed);
    expect(report.failed).toBe(0);
    expect(report.durationS).toBeLessThan(5);
    expect(progress[3]).toMatchObject({ plannedDurationS: 30, plannedCount: null });
    expect(progress[3]?.sent).toBeGreaterThan(0);
    expect(progress[3]?.p99Ms).toBeGreaterThanOrEqual(40);
  });

  it('cancelSignal: calls in flight are cancelled and count as CANCELLED; onStopping and onCancelling see them', async () => {
    const greeter = await startGreeter(0, { delayMs: 10_000 });
    const stop = new AbortController();
    const cancel = new AbortController();
    const seen: Array<[string, number]> = [];
    const pending = runLoad(
      { target: `127.0.0.1:${greeter.port}`, durationS: 30, concurrency: 3, deadlineMs: 20_000 },
      {
        signal: stop.signal,
        cancelSignal: cancel.signal,
        onStopping: (progress) => seen.push(['stopping', progress.inFlight]),
        onCancelling: (progress) => seen.push(['cancelling', progress.inFlight]),
        progressEveryMs: 50,
        onProgress: (progress) => {
          if (progress.inFlight === 3 && !stop.signal.aborted) {
            stop.abort();
            cancel.abort();
          }
        },
      },
    );
    const report = await pending;
    expect(report).toMatchObject({ interrupted: true, sent: 3, ok: 0, failed: 3, failedByCode: { CANCELLED: 3 } });
    expect(seen).toEqual([
      ['stopping', 3],
      ['cancelling', 3],
    ]);
  });

  it('untilStopped: sends on the schedule until the signal, reports every call in start order, not interrupted', async () => {
    const greeter = await startGreeter(0, { hostnames: ['replica-a', 'replica-b'], failEvery: 5, failCode: status.UNAVAILABLE });
    const stop = new AbortController();
    const settled: SettledCall[] = [];
    const stopping: LoadProgress[] = [];
    const report = await runLoad(
      { target: `127.0.0.1:${greeter.port}`, rate: 200, concurrency: 5, untilStopped: true, name: 'until' },
      {
        signal: stop.signal,
        onStopping: (progress) => stopping.push(progress),
        onSettled: (call) => {
          settled.push(call);
          if (settled.length === 40) stop.abort();
        },
      },
    );
    expect(report).toMatchObject({ interrupted: false, plannedDurationS: null, plannedCount: null, failedByCode: { UNAVAILABLE: report.failed } });
    expect(report.sent).toBe(report.ok + report.failed);
    expect(report.failed).toBeGreaterThanOrEqual(8);
    expect(settled.map((call) => call.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: report.sent }, (_, i) => i + 1));
    const starts = [...settled].sort((a, b) => a.seq - b.seq).map((call) => call.startedAt.getTime());
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(settled.filter((call) => call.result.ok)).toHaveLength(report.ok);
    expect(stopping).toHaveLength(1);
    expect(stopping[0]?.sent).toBe(report.sent);
    expect(greeter.names).toEqual(Array(report.sent).fill('until'));
  });

  it('onSkipped: a call due at the concurrency cap is reported and counted, never sent', async () => {
    const greeter = await startGreeter(0, { delayMs: 60 });
    const stop = new AbortController();
    const skips: Array<[number, number]> = [];
    const progress: LoadProgress[] = [];
    const report = await runLoad(
      { target: `127.0.0.1:${greeter.port}`, rate: 100, concurrency: 2, untilStopped: true },
      {
        signal: stop.signal,
        onSkipped: (inFlight, limit) => {
          skips.push([inFlight, limit]);
          if (skips.length === 20) stop.abort();
        },
        progressEveryMs: 50,
        onProgress: (p) => progress.push(p),
      },
    );
    expect(skips.length).toBeGreaterThanOrEqual(20);
    expect(skips.every(([inFlight, limit]) => inFlight === 2 && limit === 2)).toBe(true);
    expect(report.skippedAtCap).toBe(skips.length);
    expect(report.sent).toBe(greeter.names.length);
    expect(report.sent).toBe(report.ok + report.failed);
    // Progress carries what a running summary shows.
    const last = progress.at(-1);
    expect(last).toBeDefined();
    if (!last) return;
    expect(last.sent).toBe(last.ok + last.failed + last.inFlight);
    expect(last.skippedAtCap).toBeGreaterThan(0);
    expect(last.byHost).toEqual({ 'replica-a': last.ok });
    expect(last.failedByCode).toEqual({});
  });

  it('progress counts failures by code and OK calls by host', async () => {
    const greeter = await startGreeter(0, { hostnames: ['replica-a', 'replica-b'], failEvery: 3, failCode: status.UNAVAILABLE, delayMs: 5 });
    const progress: LoadProgress[] = [];
    await runLoad(
      { target: `127.0.0.1:${greeter.port}`, rate: 200, concurrency: 4, durationS: 0.5 },
      { progressEveryMs: 100, onProgress: (p) => progress.push(p) },
    );
    const last = progress.at(-1);
    expect(last).toBeDefined();
    if (!last) return;
    expect(last.failedByCode['UNAVAILABLE']).toBe(last.failed);
    expect(last.failed).toBeGreaterThan(0);
    expect(Object.keys(last.byHost)).toEqual(['replica-a', 'replica-b']);
    expect(Object.values(last.byHost).reduce((a, b) => a + b, 0)).toBe(last.ok);
  });

  it('rejects bad options with LoadOptionsError before sending anything', async () => {
    await expect(runLoad({ target: '127.0.0.1:1', concurrency: 0 })).rejects.toThrow(LoadOptionsError);
    await expect(runLoad({ count: 5, durationS: 1 })).rejects.toThrow('--duration and --count cannot be used together');
    await expect(runLoad({ count: 5, untilStopped: true })).rejects.toThrow('--count and --until-stopped cannot be used together');
    await expect(runLoad({ count: 5 }, { progressEveryMs: 0, onProgress: () => {} })).rejects.toThrow(
      'progressEveryMs must be above 0 and at most 2147483647, got "0"',
    );
  });

  it('rejects per-call hooks for a run on worker threads, before sending anything', async () => {
    const greeter = await startGreeter(0);
    const attempt = runLoad({ target: `127.0.0.1:${greeter.port}`, count: 10, concurrency: 2, workers: 2 }, { onSettled: () => {} });
    await expect(attempt).rejects.toThrow(LoadOptionsError);
    await expect(attempt).rejects.toThrow(
      'onSettled and onSkipped work only in-process: --workers 2 runs the calls in worker threads, where these hooks cannot be called (use --workers 1)',
    );
    await expect(runLoad({ count: 1, workers: 2, concurrency: 2 }, { onSkipped: () => {} })).rejects.toThrow('work only in-process');
    expect(greeter.names).toHaveLength(0);
  });
});
