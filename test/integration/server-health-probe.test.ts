import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { control, killAllProcesses, runProbe, startServer, type ServerProcess } from './server-process.js';
import { freePort } from '../../scripts/stack/free-port.js';

describe('health-probe (the Compose healthcheck) against a real server', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(killAllProcesses);

  it('exits 0 with one line while SERVING', async () => {
    const result = await runProbe(server.grpcPort);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`health-probe: greeter.v1.Greeter at 127.0.0.1:${server.grpcPort}: SERVING\n`);
  });

  it('exits 1 with one line while NOT_SERVING', async () => {
    await control(server.controlPort, 'POST', '/state', '{"health":"NOT_SERVING"}');
    try {
      const result = await runProbe(server.grpcPort);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`health-probe: greeter.v1.Greeter at 127.0.0.1:${server.grpcPort}: NOT_SERVING\n`);
    } finally {
      await control(server.controlPort, 'POST', '/reset');
    }
  });

  it('exits 1 with one line when nothing listens on the port', async () => {
    const port = await freePort();
    const result = await runProbe(port);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^health-probe: greeter.v1.Greeter at 127.0.0.1:${port}: check failed: 14 UNAVAILABLE.*\\n$`));
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
