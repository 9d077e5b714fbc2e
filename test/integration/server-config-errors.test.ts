import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllProcesses, runTs } from './server-process.js';

describe('server start-up with a bad env var', () => {
  afterEach(killAllProcesses);

  it.each([
    [{ GRPC_PORT: 'abc' }, 'grpc-server: GRPC_PORT must be an integer 0-65535, got "abc"'],
    [{ LOG_FORMAT: 'xml' }, 'grpc-server: LOG_FORMAT must be one of text|json, got "xml"'],
    [{ DRAIN_DELAY_MS: '-1' }, 'grpc-server: DRAIN_DELAY_MS must be an integer 0-600000 (milliseconds), got "-1"'],
    [{ LOG_CALLS: 'yes' }, 'grpc-server: LOG_CALLS must be one of true|false, got "yes"'],
    [{ METRICS_PORT: 'x' }, 'grpc-server: METRICS_PORT must be an integer 0-65535, got "x"'],
    [{ MAX_CONNECTION_AGE_MS: '2s' }, 'grpc-server: MAX_CONNECTION_AGE_MS must be an integer 0-600000 (milliseconds), got "2s"'],
  ])('%j: exit 2 with exactly one stderr line and no stack trace', async (env, line) => {
    const result = await runTs('server/src/main.ts', [], { GRPC_PORT: '0', CONTROL_PORT: '0', METRICS_PORT: '0', GRPC_HOST: '127.0.0.1', ...env });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`${line}\n`);
    expect(result.stderr).not.toMatch(/\bat .*\(.*:\d+:\d+\)/);
    // It stopped before starting anything: no start or listening line.
    expect(result.stdout).toBe('');
  });

  it('a port already taken: exit 1 with one line naming it', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const result = await runTs('server/src/main.ts', [], {
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: '0',
        CONTROL_HOST: '127.0.0.1',
        CONTROL_PORT: String(port),
        METRICS_PORT: '0',
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(new RegExp(`^grpc-server: cannot listen for control on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('a metrics port already taken: exit 1 with one line naming it, nothing left listening', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const result = await runTs('server/src/main.ts', [], {
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: '0',
        CONTROL_PORT: '0',
        METRICS_PORT: String(port),
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(new RegExp(`^grpc-server: cannot listen for metrics on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
