import { join } from 'node:path';
import { credentials, loadPackageDefinition, status, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GreeterClient } from '../../gen/greeter/v1/greeter.js';
import {
  checkHealth,
  control,
  greeterClient,
  healthClient,
  killAllProcesses,
  sayHello,
  startServer,
  type HealthClient,
  type ServerProcess,
} from './server-process.js';
import { projectRoot } from '../../scripts/envoy/paths.js';

interface ReflectionResponse {
  listServicesResponse?: { service: Array<{ name: string }> };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type ReflectionClientConstructor = new (
  address: string,
  channelCredentials: ReturnType<typeof credentials.createInsecure>,
) => { ServerReflectionInfo(): ClientDuplexStream<object, ReflectionResponse>; close(): void };

/** Asks grpc.reflection.v1 what grpcurl asks: list services, then the file defining each symbol. */
async function reflect(address: string, requests: object[]): Promise<ReflectionResponse[]> {
  const definition = loadSync('grpc/reflection/v1/reflection.proto', {
    includeDirs: [join(projectRoot, 'node_modules/@grpc/reflection/build/proto')],
  });
  const { grpc } = loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: ReflectionClientConstructor } } };
  };
  const client = new grpc.reflection.v1.ServerReflection(address, credentials.createInsecure());
  try {
    const stream = client.ServerReflectionInfo();
    const responses: ReflectionResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (response: ReflectionResponse) => responses.push(response));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    for (const request of requests) stream.write(request);
    stream.end();
    await done;
    return responses;
  } finally {
    client.close();
  }
}

describe('greeter server (real process, real gRPC on loopback)', () => {
  let server: ServerProcess;
  let greeter: GreeterClient;
  let health: HealthClient;

  beforeAll(async () => {
    server = await startServer({ REPLICA_NAME: 'replica-under-test', LOG_CALLS: 'true' });
    greeter = greeterClient(server.grpcAddress);
    health = healthClient(server.grpcAddress);
  });

  afterEach(async () => {
    await control(server.controlPort, 'POST', '/reset');
  });

  afterAll(async () => {
    greeter?.close();
    health?.close();
    await killAllProcesses();
  });

  it('answers with REPLICA_NAME as hostname and in the message', async () => {
    const outcome = await sayHello(greeter, 'lab');
    expect(outcome).toEqual({
      ok: true,
      reply: { message: 'Hello, lab! (from replica-under-test)', hostname: 'replica-under-test' },
    });
  });

  it('logs one JSON line per call when LOG_CALLS=true', async () => {
    await sayHello(greeter, 'call-log-probe');
    const line = await server.waitForLine((candidate) => candidate.includes('"name":"call-log-probe"'));
    expect(JSON.parse(line)).toMatchObject({ replica: 'replica-under-test', event: 'call', code: 'OK' });
  });

  it.each([
    ['', 'name is required (1-64 characters)'],
    ['x'.repeat(300), 'name must be 1-64 characters, got 300'],
    ['   ', 'name must not be blank'],
    ['bad\u0007bell', 'name must not contain control characters, found U+0007 at position 4'],
  ])('rejects name %j with INVALID_ARGUMENT', async (name, details) => {
    const outcome = await sayHello(greeter, name);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe(status.INVALID_ARGUMENT);
    expect(outcome.error.details).toBe(details);
  });

  it('reports SERVING for "" and greeter.v1.Greeter, and the control API flips both', async () => {
    expect(await checkHealth(health, '')).toBe('SERVING');
    expect(await checkHealth(health, 'greeter.v1.Greeter')).toBe('SERVING');

    const down = await control(server.controlPort, 'POST', '/state', '{"health":"NOT_SERVING"}');
    expect(down).toEqual({
      status: 200,
      body: { replica: 'replica-under-test', health: 'NOT_SERVING', failRate: 0, failCode: 'UNAVAILABLE', latencyMs: 0 },
    });
    expect(await checkHealth(health, '')).toBe('NOT_SERVING');
    expect(await checkHealth(health, 'greeter.v1.Greeter')).toBe('NOT_SERVING');
    // NOT_SERVING is advice to load balancers, not a refusal: a direct call is still answered.
    expect((await sayHello(greeter, 'lab')).ok).toBe(true);

    await control(server.controlPort, 'POST', '/state', '{"health":"SERVING"}');
    expect(await checkHealth(health, 'greeter.v1.Greeter')).toBe('SERVING');
    await server.waitForLine((line) => line.includes('"event":"health"') && line.includes('"status":"SERVING"'));
  });

  it('fails every call with the chosen code at failRate 1, and stops after reset', async () => {
    const set = await control(server.controlPort, 'POST', '/state', '{"failRate":1,"failCode":"RESOURCE_EXHAUSTED"}');
    expect(set.status).toBe(200);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => sayHello(greeter, 'lab')));
    for (const outcome of outcomes) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(outcome.error.code).toBe(status.RESOURCE_EXHAUSTED);
    }
    await control(server.controlPort, 'POST', '/reset');
    expect((await sayHello(greeter, 'lab')).ok).toBe(true);
  });

  it('fails only part of the calls at failRate 0.5', async () => {
    await control(server.controlPort, 'POST', '/state', '{"failRate":0.5}');
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => sayHello(greeter, 'lab')));
    const failed = outcomes.filter((outcome) => !outcome.ok);
    // Binomial(200, 0.5): outside 50..150 has probability far below 1e-12.
    expect(failed.length).toBeGreaterThan(50);
    expect(failed.length).toBeLessThan(150);
    for (const outcome of failed) if (!outcome.ok) expect(outcome.error.code).toBe(status.UNAVAILABLE);
  });

  it('adds at least latencyMs before answering', async () => {
    const quick = performance.now();
    await sayHello(greeter, 'lab');
    const baseline = performance.now() - quick;

    await control(server.controlPort, 'POST', '/state', '{"latencyMs":400}');
    const started = performance.now();
    const outcome = await sayHello(greeter, 'lab');
    const elapsed = performance.now() - started;
    expect(outcome.ok).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(baseline).toBeLessThan(400);
  });

  it('serves GET /state and rejects bad bodies, unknown fields and paths with one-line errors', async () => {
    expect(await control(server.controlPort, 'GET', '/state')).toEqual({
      status: 200,
      body: { replica: 'replica-under-test', health: 'SERVING', failRate: 0, failCode: 'UNAVAILABLE', latencyMs: 0 },
    });
    const cases: Array<[string, string, string | undefined, number, string]> = [
      ['POST', '/state', '{not json', 400, 'body is not valid JSON'],
      ['POST', '/state', '{"failRate":2}', 400, 'failRate must be a number 0-1, got 2'],
      ['POST', '/state', '{"failCode":"OK"}', 400, 'failCode must be a gRPC status name other than OK'],
      ['POST', '/state', '{"latencyMs":60001}', 400, 'latencyMs must be an integer 0-60000, got 60001'],
      ['POST', '/state', '{"colour":"red"}', 400, 'unknown field "colour"'],
      ['GET', '/nope', undefined, 404, 'no such path /nope'],
      ['DELETE', '/state', undefined, 405, 'DELETE is not allowed on /state'],
    ];
    for (const [method, path, body, expectedStatus, message] of cases) {
      const answer = await control(server.controlPort, method, path, body);
      expect(answer.status, `${method} ${path} ${body}`).toBe(expectedStatus);
      const error = (answer.body as { error: string }).error;
      expect(error).toContain(message);
      expect(error).not.toContain('\n');
    }
    // Nothing above changed the state.
    expect((await control(server.controlPort, 'GET', '/state')).body).toMatchObject({ failRate: 0, latencyMs: 0 });
  });

  it('refuses control calls without its token, from a foreign Host, or with a non-JSON body, and changes nothing', async () => {
    const port = server.controlPort;
    const refusals: Array<[Record<string, string | undefined>, number, string]> = [
      [{ authorization: undefined }, 401, 'missing or wrong control token'],
      [{ authorization: 'Bearer not-the-token-at-all-0000' }, 401, 'missing or wrong control token'],
      [{ host: `attacker.example:${port}` }, 403, 'is not this server'],
      [{ host: `127.0.0.1:${port + 1}` }, 403, 'is not this server'],
      // What an HTML form on any page can send without a preflight.
      [{ 'content-type': 'text/plain' }, 415, 'must be JSON'],
    ];
    for (const [headers, expectedStatus, message] of refusals) {
      const answer = await control(port, 'POST', '/state', '{"failRate":1}', headers);
      expect(answer.status, JSON.stringify(headers)).toBe(expectedStatus);
      expect((answer.body as { error: string }).error).toContain(message);
    }
    expect((await control(port, 'GET', '/state', undefined, { authorization: undefined })).status).toBe(401);
    expect((await control(port, 'GET', '/state')).body).toMatchObject({ failRate: 0 });
  });

  it('logs each fault change as one event line', async () => {
    await control(server.controlPort, 'POST', '/state', '{"latencyMs":7}');
    const line = await server.waitForLine((candidate) => candidate.includes('"event":"fault"') && candidate.includes('"latencyMs":7'));
    expect(JSON.parse(line)).toMatchObject({ replica: 'replica-under-test', failRate: 0, failCode: 'UNAVAILABLE' });
  });

  it('offers server reflection listing the greeter and health services, with their descriptors', async () => {
    const [list, greeterFile, healthFile] = await reflect(server.grpcAddress, [
      { listServices: '*' },
      { fileContainingSymbol: 'greeter.v1.Greeter' },
      { fileContainingSymbol: 'grpc.health.v1.Health' },
    ]);
    expect(list?.listServicesResponse?.service.map((entry) => entry.name).sort()).toEqual([
      'greeter.v1.Greeter',
      'grpc.health.v1.Health',
    ]);
    // Descriptors are protobuf bytes; the method names appear in them verbatim.
    expect(Buffer.concat(greeterFile?.fileDescriptorResponse?.fileDescriptorProto ?? []).toString('latin1')).toContain('SayHello');
    expect(Buffer.concat(healthFile?.fileDescriptorResponse?.fileDescriptorProto ?? []).toString('latin1')).toContain('Check');
  });
});
