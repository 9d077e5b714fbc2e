// What the README promises of grpcurl, checked with the real grpcurl through Envoy and straight to a replica: it
// lists every service by reflection, describes each (a descriptor it rejects fails the whole service), and calls
// what the listener routes; what it does not route answers UNIMPLEMENTED with the reason.
import { afterEach, describe, expect, it } from 'vitest';
import { grpcurl } from '../helpers/grpcurl.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';
import { describeResult, killRunningCommands } from '../helpers/run-command.js';

const lab = useLocalStack({ replicas: 2 });

afterEach(() => {
  killRunningCommands();
});

describe.each([
  ['through Envoy', () => lab.stack.envoyTarget],
  ['straight to a replica', () => `${lab.stack.replicas()[0]!.address}:${lab.stack.replicas()[0]!.port}`],
])('grpcurl %s', (_where, target) => {
  it('lists the greeter and health services', async () => {
    const result = await grpcurl(target(), 'list');
    expect(result.code, describeResult(result)).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(['greeter.v1.Greeter', 'grpc.health.v1.Health']);
  });

  it.each([
    ['greeter.v1.Greeter', 'rpc SayHello ( .greeter.v1.SayHelloRequest ) returns ( .greeter.v1.SayHelloResponse );'],
    ['grpc.health.v1.Health', 'rpc Watch ( .grpc.health.v1.HealthCheckRequest ) returns ( stream .grpc.health.v1.HealthCheckResponse );'],
    ['grpc.health.v1.HealthListResponse', 'map<string, .grpc.health.v1.HealthCheckResponse> statuses = 1;'],
  ])('describes %s', async (symbol, expected) => {
    const result = await grpcurl(target(), 'describe', symbol);
    expect(result.code, describeResult(result)).toBe(0);
    expect(result.stdout).toContain(expected);
  });

  it('calls SayHello, with the request built from the reflected descriptor', async () => {
    const result = await grpcurl('-d', '{"name":"grpcurl"}', target(), 'greeter.v1.Greeter/SayHello');
    expect(result.code, describeResult(result)).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ message: expect.stringMatching(/^Hello, grpcurl! \(from grpc-server-\d\)$/) });
  });

  it('calls Health/Check for the server and for the greeter', async () => {
    for (const service of ['', 'greeter.v1.Greeter']) {
      const result = await grpcurl('-d', JSON.stringify({ service }), target(), 'grpc.health.v1.Health/Check');
      expect(result.code, describeResult(result)).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ status: 'SERVING' });
    }
  });
});

describe('what the public listener does not route', () => {
  it.each(['grpc.health.v1.Health/Watch', 'grpc.health.v1.Health/List'])('%s answers UNIMPLEMENTED with the reason', async (method) => {
    const result = await grpcurl(lab.stack.envoyTarget, method);
    expect(result.code, describeResult(result)).not.toBe(0);
    expect(result.stderr).toContain('Code: Unimplemented');
    expect(result.stderr).toContain('Message: not routed by this Envoy: only greeter.v1.Greeter, grpc.health.v1.Health/Check and reflection are');
  });

  it('Health/Watch still works straight to a replica (where Docker and Envoy health checks look)', async () => {
    const replica = lab.stack.replicas()[0]!;
    const result = await grpcurl('-max-time', '1', `${replica.address}:${replica.port}`, 'grpc.health.v1.Health/Watch');
    // The stream stays open until grpcurl's own time limit ends it, after its first answer.
    expect(result.stdout, describeResult(result)).toContain('"status": "SERVING"');
  });
});
