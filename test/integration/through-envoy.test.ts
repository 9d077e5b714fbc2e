// What a caller sees through Envoy besides balancing: the x-upstream-host response header, the JSON access log,
// server reflection (what grpcurl and Postman use), deadlines honoured end to end, and errors that are not retried.
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { expect, test } from 'vitest';
import { callGreeter, createGreeterClient } from '../../client/src/greeter-call.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';
import { pollUntil } from '../../scripts/stack/poll-until.js';

const lab = useLocalStack({ replicas: 2 });

test('every response names the replica address that served it in x-upstream-host', async () => {
  const client = createGreeterClient(lab.stack.envoyTarget);
  try {
    const seen = await new Promise<{ header: string; hostname: string }>((resolve, reject) => {
      let header = '';
      const call = client.sayHello({ name: 'lab' }, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (error, reply) =>
        error ? reject(error) : resolve({ header, hostname: reply.hostname }),
      );
      call.on('metadata', (metadata) => (header = String(metadata.get('x-upstream-host')[0] ?? '')));
    });
    const replica = lab.stack.replica(seen.hostname);
    expect(seen.header).toBe(`${replica.address}:${replica.port}`);
  } finally {
    client.close();
  }
});

test('the access log has one JSON line per call with upstream host, grpc status, duration and attempts', async () => {
  const client = createGreeterClient(lab.stack.envoyTarget);
  try {
    expect(await callGreeter(client, 'access-log', 3000)).toMatchObject({ ok: true });
  } finally {
    client.close();
  }
  // Lines reach the fixture through Envoy's stdout, flushed every second (--file-flush-interval-msec).
  const line = await pollUntil(
    'an access-log line for the call',
    () => lab.recentLines().split('\n').find((l) => l.startsWith('envoy | {') && l.includes('/greeter.v1.Greeter/SayHello')),
    { timeoutMs: 5000 },
  );
  const entry = JSON.parse(line.slice('envoy | '.length)) as Record<string, unknown>;
  expect(entry).toMatchObject({ path: '/greeter.v1.Greeter/SayHello', grpc_status: 'OK', attempts: 1 });
  expect(String(entry.upstream_host)).toMatch(/^127\.\d+\.\d+\.\d+:\d+$/);
  expect(typeof entry.duration_ms).toBe('number');
});

test('server reflection through Envoy lists the greeter and health services (what grpcurl uses)', async () => {
  const require = createRequire(import.meta.url);
  const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const definition = protoLoader.loadSync(reflectionProto, { keepCase: true, longs: String, enums: String });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const client = new loaded.grpc.reflection.v1.ServerReflection(lab.stack.envoyTarget, grpc.credentials.createInsecure());
  try {
    const services = await listServices(client);
    expect(services).toEqual(expect.arrayContaining(['greeter.v1.Greeter', 'grpc.health.v1.Health']));
  } finally {
    client.close();
  }
});

interface ReflectionResponse {
  list_services_response?: { service?: { name: string }[] };
  error_response?: { error_message: string };
}
type ReflectionStub = { ServerReflectionInfo(options: grpc.CallOptions): grpc.ClientDuplexStream<object, ReflectionResponse> };

/** Asks ServerReflectionInfo for the list of services, as `grpcurl list` does. */
function listServices(client: grpc.Client): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const stream = (client as unknown as ReflectionStub).ServerReflectionInfo({ deadline: Date.now() + 3000 });
    stream.on('data', (response) => {
      if (response.error_response) reject(new Error(response.error_response.error_message));
      else resolve((response.list_services_response?.service ?? []).map((service: { name: string }) => service.name));
      stream.end();
    });
    stream.on('error', reject);
    stream.write({ list_services: '' });
  });
}

test("the client's deadline is honoured end to end: a slow replica costs the caller its deadline, not Envoy's timeouts", async () => {
  await Promise.all(lab.stack.replicas().map((r) => lab.stack.control(r.name).update({ latencyMs: 3000 })));
  const client = createGreeterClient(lab.stack.envoyTarget);
  try {
    const result = await callGreeter(client, 'lab', 400);
    expect(result).toMatchObject({ ok: false, codeName: 'DEADLINE_EXCEEDED' });
    // Well under the 1 s per-try timeout and the 15 s route timeout.
    expect(result.latencyMs).toBeLessThan(900);
  } finally {
    client.close();
    await Promise.all(lab.stack.replicas().map((r) => lab.stack.control(r.name).reset()));
  }
});

test('INVALID_ARGUMENT comes back through Envoy as is, and is not retried', async () => {
  const client = createGreeterClient(lab.stack.envoyTarget);
  try {
    const result = await callGreeter(client, 'x'.repeat(65), 3000);
    expect(result).toMatchObject({ ok: false, codeName: 'INVALID_ARGUMENT' });
    if (!result.ok) expect(result.details).toMatch(/name/);
  } finally {
    client.close();
  }
  const line = await pollUntil(
    'the access-log line of the rejected call',
    () => lab.recentLines().split('\n').find((l) => l.startsWith('envoy | {') && l.includes('"InvalidArgument"')),
    { timeoutMs: 5000 },
  );
  expect(JSON.parse(line.slice('envoy | '.length))).toMatchObject({ attempts: 1 });
});
