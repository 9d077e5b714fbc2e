import { afterEach, describe, expect, it } from 'vitest';
import { killClients, spawnClient } from './client-process.js';

afterEach(async () => {
  await killClients();
});

const cases: Array<{ args: string[]; env?: Record<string, string>; line: string }> = [
  { args: ['--interval', '0'], line: 'grpc-client: --interval must be a positive integer (ms), got "0"' },
  { args: ['--interval', 'abc'], line: 'grpc-client: --interval must be a positive integer (ms), got "abc"' },
  { args: [], env: { CALL_DEADLINE_MS: '-5' }, line: 'grpc-client: CALL_DEADLINE_MS must be a positive integer (ms), got "-5"' },
  { args: ['--target', ''], line: 'grpc-client: --target must be host:port with a port from 1 to 65535, got ""' },
  {
    args: ['--target', 'host:notaport'],
    line: 'grpc-client: --target must be host:port with a port from 1 to 65535, got "host:notaport"',
  },
  { args: ['--no-such-flag'], line: "grpc-client: unknown option '--no-such-flag' (see --help)" },
  { args: [], env: { LOG_FORMAT: 'xml' }, line: 'grpc-client: LOG_FORMAT must be text or json, got "xml"' },
];

describe('grpc-client bad input', { timeout: 30_000 }, () => {
  it.each(cases)('$args $env exits 2 with exactly one stderr line', async ({ args, env, line }) => {
    const client = spawnClient(args, env);
    expect(await client.waitForExit(15_000)).toEqual({ code: 2, signal: null });
    expect(client.stderr).toBe(`${line}\n`);
    expect(client.stderr).not.toMatch(/\n\s+at /);
    expect(client.lines.filter((output) => output !== '')).toEqual([]);
  });

  it('--help prints usage and exits 0', async () => {
    const client = spawnClient(['--help']);
    expect(await client.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    expect(client.lines[0]).toBe('Usage: grpc-client [options]');
    expect(client.stderr).toBe('');
  });
});
