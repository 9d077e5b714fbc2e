import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreeterClient } from '../../gen/greeter/v1/greeter.js';
import {
  checkHealth,
  greeterClient,
  healthClient,
  killAllProcesses,
  runCli,
  sayHello,
  startServer,
  type HealthClient,
  type ServerProcess,
} from './server-process.js';
import { freePort } from '../../scripts/stack/free-port.js';

describe('greeterctl against a live server', () => {
  let server: ServerProcess;
  let greeter: GreeterClient;
  let health: HealthClient;
  let port: string;

  beforeAll(async () => {
    server = await startServer({ REPLICA_NAME: 'cli-replica' });
    greeter = greeterClient(server.grpcAddress);
    health = healthClient(server.grpcAddress);
    port = String(server.controlPort);
  });

  afterAll(async () => {
    greeter?.close();
    health?.close();
    await killAllProcesses();
  });

  it('status prints the state as one line', async () => {
    const result = await runCli(['--port', port, 'status']);
    expect(result).toMatchObject({
      code: 0,
      stdout: 'replica=cli-replica health=SERVING failRate=0 failCode=UNAVAILABLE latencyMs=0\n',
      stderr: '',
    });
  });

  it('health not-serving / serving changes what grpc.health.v1 reports', async () => {
    const down = await runCli(['--port', port, 'health', 'not-serving']);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('health=NOT_SERVING');
    expect(await checkHealth(health, 'greeter.v1.Greeter')).toBe('NOT_SERVING');

    const up = await runCli(['health', 'serving'], { CONTROL_PORT: port });
    expect(up.code).toBe(0);
    expect(await checkHealth(health, 'greeter.v1.Greeter')).toBe('SERVING');
  });

  it('fail 1 --code internal makes calls fail with INTERNAL; reset stops it', async () => {
    const fail = await runCli(['--port', port, '--json', 'fail', '1', '--code', 'internal']);
    expect(fail.code).toBe(0);
    expect(JSON.parse(fail.stdout)).toEqual({
      replica: 'cli-replica',
      health: 'SERVING',
      failRate: 1,
      failCode: 'INTERNAL',
      latencyMs: 0,
    });
    const outcome = await sayHello(greeter, 'lab');
    expect(outcome.ok ? status.OK : outcome.error.code).toBe(status.INTERNAL);

    const reset = await runCli(['--port', port, 'reset']);
    expect(reset.stdout).toBe('replica=cli-replica health=SERVING failRate=0 failCode=UNAVAILABLE latencyMs=0\n');
    expect((await sayHello(greeter, 'lab')).ok).toBe(true);
  });

  it('latency sets latencyMs', async () => {
    const result = await runCli(['--host', '127.0.0.1', '--port', port, 'latency', '250']);
    expect(result.stdout).toContain('latencyMs=250');
    await runCli(['--port', port, 'reset']);
  });

  it.each([
    [['fail', '2'], 'greeterctl: rate must be a number 0-1, got "2"'],
    [['fail', '0.5', '--code', 'OK'], /^greeterctl: code must be a gRPC status name other than OK/],
    [['latency', 'soon'], 'greeterctl: latency must be an integer 0-60000 (milliseconds), got "soon"'],
    [['health', 'maybe'], 'greeterctl: health must be serving or not-serving, got "maybe"'],
    [['explode'], /^greeterctl: unknown command "explode"/],
    [[], /^greeterctl: missing command/],
    [['status', '--verbose'], "greeterctl: unknown option '--verbose'"],
  ])('bad arguments %j: exit 2 with one line', async (args, message) => {
    const result = await runCli(['--port', port, ...args]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    if (typeof message === 'string') expect(lines[0]).toBe(message);
    else expect(lines[0]).toMatch(message);
  });

  it('a bad CONTROL_PORT env var is a bad argument too (exit 2)', async () => {
    const result = await runCli(['status'], { CONTROL_PORT: 'eighty' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('greeterctl: CONTROL_PORT must be an integer 1-65535, got "eighty"\n');
  });

  it('an unreachable control port: exit 1 with one line', async () => {
    const port = await freePort();
    const result = await runCli(['--port', String(port), 'status']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `greeterctl: cannot reach control API at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });

  it('without the token file, or with a wrong --token: exit 1 with one line, state unchanged', async () => {
    const wrong = await runCli(['--port', port, '--token', 'wrong-token-wrong-token', 'fail', '1']);
    expect(wrong).toMatchObject({ code: 1, stdout: '' });
    expect(wrong.stderr).toBe('greeterctl: POST /state rejected (401): missing or wrong control token\n');

    // Another machine (or user) sees the port but not the token file: here, a TMPDIR without it.
    const elsewhere = await runCli(['--port', port, 'status'], { TMPDIR: mkdtempSync(path.join(tmpdir(), 'no-token-')) });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/^greeterctl: http:\/\/127\.0\.0\.1:\d+ wants its control token: give --token \(or CONTROL_TOKEN\), or run where \S+ is readable\n$/);
    expect((await runCli(['--port', port, 'status'])).stdout).toContain('failRate=0 ');
  });

  describe('a control API that answers 400', () => {
    let rejecting: HttpServer;

    beforeAll(async () => {
      // Stands in for a server with stricter rules than this CLI knows, which greeterctl must report, not hide.
      rejecting = createHttpServer((_request, response) => {
        response.writeHead(400, { 'Content-Type': 'application/json' });
        response.end('{"error":"latencyMs must be an integer 0-100, got 250"}');
      });
      await new Promise<void>((resolve) => rejecting.listen(0, '127.0.0.1', resolve));
    });

    afterAll(() => new Promise<void>((resolve) => rejecting.close(() => resolve())));

    it('prints the server error as one line and exits 1', async () => {
      const { port } = rejecting.address() as AddressInfo;
      const result = await runCli(['--port', String(port), 'latency', '250']);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('greeterctl: POST /state rejected (400): latencyMs must be an integer 0-100, got 250\n');
    });
  });
});
