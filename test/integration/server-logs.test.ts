import { afterEach, describe, expect, it } from 'vitest';
import { control, greeterClient, killAllProcesses, sayHello, startServer } from './server-process.js';

const TIME = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

describe('server log lines', () => {
  afterEach(killAllProcesses);

  it('text by default: one line per event, `time replica event key=value`, no per-call lines', async () => {
    const textServer = await startServer({ LOG_FORMAT: undefined, REPLICA_NAME: 'grpc-server-1', DRAIN_DELAY_MS: '100' });
    const greeter = greeterClient(textServer.grpcAddress);
    try {
      expect((await sayHello(greeter, 'lab')).ok).toBe(true);
    } finally {
      greeter.close();
    }
    await control(textServer.controlPort, 'POST', '/state', '{"health":"NOT_SERVING"}');
    await textServer.waitForLine((line) => line.includes(' health '));
    textServer.signal('SIGTERM');
    await textServer.exited();

    const expected = [
      new RegExp(
        `^${TIME} grpc-server-1 listening grpc=127\\.0\\.0\\.1:${textServer.grpcPort} control=127\\.0\\.0\\.1:${textServer.controlPort} ` +
          `metrics=127\\.0\\.0\\.1:${textServer.metricsPort} ` +
          `name=REPLICA_NAME pid=\\d+ node=v\\d+\\S* drainDelayMs=100 shutdownTimeoutMs=5000 logCalls=false$`,
      ),
      new RegExp(`^${TIME} grpc-server-1 health status=NOT_SERVING$`),
      new RegExp(`^${TIME} grpc-server-1 shutdown begin signal=SIGTERM drainMs=100$`),
      new RegExp(`^${TIME} grpc-server-1 shutdown stopping timeoutMs=5000$`),
      new RegExp(`^${TIME} grpc-server-1 shutdown complete ms=\\d+$`),
    ];
    expect(textServer.lines).toHaveLength(expected.length);
    textServer.lines.forEach((line, index) => expect(line).toMatch(expected[index]!));
  });

  it('LOG_FORMAT=json: every line is one JSON object with time, replica and event', async () => {
    const server = await startServer({ LOG_FORMAT: 'json', DRAIN_DELAY_MS: '0' });
    server.signal('SIGTERM');
    await server.exited();
    const events = server.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((event) => event.event)).toEqual([
      'listening',
      'shutdown begin',
      'health',
      'shutdown stopping',
      'shutdown complete',
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ replica: 'test-replica' });
      expect(String(event.time)).toMatch(new RegExp(`^${TIME}$`));
    }
    expect(events[0]).toMatchObject({
      grpc: `127.0.0.1:${server.grpcPort}`,
      control: `127.0.0.1:${server.controlPort}`,
      metrics: `127.0.0.1:${server.metricsPort}`,
    });
  });
});
