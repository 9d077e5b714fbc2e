import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkHealth,
  control,
  greeterClient,
  healthClient,
  killAllProcesses,
  sayHello,
  startServer,
  type HealthClient,
} from './server-process.js';

/** Resolves once a Health/Watch stream for `service` reports `wanted`. */
function watchUntil(health: HealthClient, service: string, wanted: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = health.watch({ service });
    stream.on('data', (message: { status: string }) => {
      if (message.status === wanted) {
        stream.cancel();
        resolve();
      }
    });
    stream.on('error', (error: { code?: number }) => {
      if (error.code !== status.CANCELLED) reject(error);
    });
  });
}

const isEvent = (event: string) => (line: string) => line.includes(`"event":"${event}"`);

describe('graceful shutdown', () => {
  const clients: Array<{ close(): void }> = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await killAllProcesses();
  });

  it('on SIGTERM: NOT_SERVING at once, calls still answered during the drain, exit 0 in time', async () => {
    const drainMs = 1000;
    const timeoutMs = 1000;
    const server = await startServer({ DRAIN_DELAY_MS: String(drainMs), SHUTDOWN_TIMEOUT_MS: String(timeoutMs) });
    const health = healthClient(server.grpcAddress);
    const greeter = greeterClient(server.grpcAddress);
    clients.push(health, greeter);
    expect(await checkHealth(health, 'greeter.v1.Greeter')).toBe('SERVING');
    // Watch answers with the current status first, so this resolves whether it registers before or after the signal.
    const notServing = watchUntil(health, 'greeter.v1.Greeter', 'NOT_SERVING');

    const signalled = performance.now();
    server.signal('SIGTERM');
    await notServing;
    const notServingAfter = performance.now() - signalled;
    expect(notServingAfter).toBeLessThan(drainMs);
    expect(await checkHealth(health, '')).toBe('NOT_SERVING');

    // Still inside the drain window (nothing logged `shutdown stopping` yet): a new call is answered normally.
    const during = await sayHello(greeter, 'draining');
    expect(server.lines.some(isEvent('shutdown stopping'))).toBe(false);
    expect(during).toEqual({ ok: true, reply: { message: 'Hello, draining! (from test-replica)', hostname: 'test-replica' } });

    const exit = await server.exited();
    const elapsed = performance.now() - signalled;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(elapsed).toBeGreaterThanOrEqual(drainMs);
    expect(elapsed).toBeLessThan(drainMs + timeoutMs);
    const begin = JSON.parse(server.lines.find(isEvent('shutdown begin'))!) as Record<string, unknown>;
    expect(begin).toMatchObject({ signal: 'SIGTERM', drainMs });
    const complete = JSON.parse(server.lines.find(isEvent('shutdown complete'))!) as { ms: number };
    expect(complete.ms).toBeGreaterThanOrEqual(drainMs);
    expect(server.stderr()).toBe('');
  });

  it('lets a call in flight when the drain ends finish before exiting', async () => {
    const server = await startServer({ DRAIN_DELAY_MS: '300', SHUTDOWN_TIMEOUT_MS: '3000', LOG_CALLS: 'true' });
    const greeter = greeterClient(server.grpcAddress);
    clients.push(greeter);
    await control(server.controlPort, 'POST', '/state', '{"latencyMs":800}');

    const call = sayHello(greeter, 'in-flight');
    server.signal('SIGTERM');
    expect((await call).ok).toBe(true);
    expect(await server.exited()).toEqual({ code: 0, signal: null });
    // The call was answered after tryShutdown began (so it was in flight then), and nothing was forced.
    const stopping = server.lines.findIndex(isEvent('shutdown stopping'));
    const answered = server.lines.findIndex((line) => line.includes('"name":"in-flight"'));
    expect(stopping).toBeGreaterThanOrEqual(0);
    expect(answered).toBeGreaterThan(stopping);
    expect(server.lines.some(isEvent('shutdown forced'))).toBe(false);
  });

  it('forces the shutdown after SHUTDOWN_TIMEOUT_MS when a call is still open, and still exits 0', async () => {
    const drainMs = 200;
    const timeoutMs = 500;
    const server = await startServer({ DRAIN_DELAY_MS: String(drainMs), SHUTDOWN_TIMEOUT_MS: String(timeoutMs) });
    const greeter = greeterClient(server.grpcAddress);
    clients.push(greeter);
    await control(server.controlPort, 'POST', '/state', '{"latencyMs":30000}');
    const call = sayHello(greeter, 'stuck', 20_000);

    const signalled = performance.now();
    server.signal('SIGTERM');
    expect(await server.exited()).toEqual({ code: 0, signal: null });
    const elapsed = performance.now() - signalled;
    expect(elapsed).toBeGreaterThanOrEqual(drainMs + timeoutMs);
    expect(elapsed).toBeLessThan(drainMs + timeoutMs + 2000);
    expect(server.lines.some(isEvent('shutdown forced'))).toBe(true);
    expect((await call).ok).toBe(false);
  });

  it('a second signal during the drain stops at once', async () => {
    const server = await startServer({ DRAIN_DELAY_MS: '20000', SHUTDOWN_TIMEOUT_MS: '5000' });
    server.signal('SIGINT');
    await server.waitForLine(isEvent('shutdown begin'));
    const second = performance.now();
    server.signal('SIGTERM');
    expect(await server.exited()).toEqual({ code: 0, signal: null });
    expect(performance.now() - second).toBeLessThan(2000);
    // Asked for, so not reported as forced.
    expect(server.lines.some(isEvent('shutdown forced'))).toBe(false);
    const now = JSON.parse(server.lines.find(isEvent('shutdown now'))!) as { reason: string };
    expect(now.reason).toBe('second signal SIGTERM');
    expect(server.lines.some(isEvent('shutdown complete'))).toBe(true);
  });

  it('keeps NOT_SERVING during the drain even if the control API asks for SERVING', async () => {
    const server = await startServer({ DRAIN_DELAY_MS: '20000' });
    server.signal('SIGTERM');
    await server.waitForLine(isEvent('shutdown begin'));
    const answer = await control(server.controlPort, 'POST', '/state', '{"health":"SERVING"}');
    expect(answer).toEqual({ status: 409, body: { error: 'server is shutting down; health stays NOT_SERVING' } });
    expect((await control(server.controlPort, 'GET', '/state')).body).toMatchObject({ health: 'NOT_SERVING' });
  });
});
