import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { GreeterClient } from '../../gen/greeter/v1/greeter.js';
import { callGreeter, createGreeterClient } from '../../client/src/greeter-call.js';
import { freePort } from '../../scripts/stack/free-port.js';
import { startGreeter, stopGreeters } from './client-process.js';

const clients: GreeterClient[] = [];
function client(target: string): GreeterClient {
  const created = createGreeterClient(target);
  clients.push(created);
  return created;
}

afterEach(async () => {
  for (const created of clients.splice(0)) created.close();
  await stopGreeters();
});

describe('callGreeter against a real grpc-js server', () => {
  it('returns the hostname that answered and the latency', async () => {
    const greeter = await startGreeter(0, { hostnames: ['replica-a'] });
    const result = await callGreeter(client(`127.0.0.1:${greeter.port}`), 'tester', 2000);
    expect(result).toMatchObject({ ok: true, hostname: 'replica-a', message: 'Hello, tester', code: 0 });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(greeter.names).toEqual(['tester']);
  });

  it('reports a status returned by the server, with its name and details', async () => {
    const greeter = await startGreeter(0, { failEvery: 1, failCode: status.RESOURCE_EXHAUSTED });
    const result = await callGreeter(client(`127.0.0.1:${greeter.port}`), 'lab', 2000);
    expect(result).toMatchObject({
      ok: false,
      code: status.RESOURCE_EXHAUSTED,
      codeName: 'RESOURCE_EXHAUSTED',
      details: 'injected failure on call 1',
    });
  });

  it('settles as DEADLINE_EXCEEDED when the server is slower than the deadline', async () => {
    const greeter = await startGreeter(0, { delayMs: 2000 });
    const result = await callGreeter(client(`127.0.0.1:${greeter.port}`), 'lab', 150);
    expect(result).toMatchObject({ ok: false, code: status.DEADLINE_EXCEEDED, codeName: 'DEADLINE_EXCEEDED' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(140);
    expect(result.latencyMs).toBeLessThan(1500);
  });

  it('settles as UNAVAILABLE, without rejecting, when nothing listens', async () => {
    const port = await freePort();
    const result = await callGreeter(client(`127.0.0.1:${port}`), 'lab', 2000);
    expect(result).toMatchObject({ ok: false, code: status.UNAVAILABLE, codeName: 'UNAVAILABLE' });
    expect(result.ok ? '' : result.details).toContain('ECONNREFUSED');
  });

  it('settles as CANCELLED when its signal aborts', async () => {
    const greeter = await startGreeter(0, { delayMs: 5000 });
    const abort = new AbortController();
    const pending = callGreeter(client(`127.0.0.1:${greeter.port}`), 'lab', 10_000, abort.signal);
    abort.abort();
    const result = await pending;
    expect(result).toMatchObject({ ok: false, code: status.CANCELLED, codeName: 'CANCELLED' });
    expect(result.latencyMs).toBeLessThan(1000);
  });

  it('does not reject even when the client is already closed', async () => {
    const greeter = await startGreeter(0);
    const closed = client(`127.0.0.1:${greeter.port}`);
    closed.close();
    const result = await callGreeter(closed, 'lab', 1000);
    expect(result.ok).toBe(false);
  });

  it('reuses one channel: many calls, one connection', async () => {
    const greeter = await startGreeter(0, { hostnames: ['r1', 'r2'] });
    const shared = client(`127.0.0.1:${greeter.port}`);
    const results = await Promise.all(Array.from({ length: 10 }, () => callGreeter(shared, 'lab', 2000)));
    expect(results.every((result) => result.ok)).toBe(true);
    const hosts = results.map((result) => (result.ok ? result.hostname : '')).sort();
    expect(hosts).toEqual(['r1', 'r1', 'r1', 'r1', 'r1', 'r2', 'r2', 'r2', 'r2', 'r2']);
    expect(greeter.peers).toHaveLength(10);
    expect(new Set(greeter.peers).size).toBe(1);
  });
});
