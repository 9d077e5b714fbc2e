// The two control APIs (a replica's, on its control port, and the local system's, that `lab` drives) against callers
// that should not get anything done: no or a wrong token, a foreign Host (DNS rebinding), a form POST (CSRF), bodies
// too big or not JSON, and values crafted to reach what every object inherits. Each gets one clear 4xx, the faults
// and the replicas stay as they were, and everything still serves.
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StackControlApi } from '../../scripts/stack/index.js';
import { expectStillServing } from '../helpers/hostile.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

const REPLICAS = 2;
const lab = useLocalStack({ replicas: REPLICAS });
let api: StackControlApi;
let apiUrl: URL;

beforeAll(async () => {
  api = new StackControlApi(lab.stack);
  apiUrl = new URL(await api.listen(0));
});
afterAll(async () => {
  await api?.close();
});
afterEach(async () => {
  await expectStillServing(lab.stack, REPLICAS);
  const faults = await lab.stack.control(lab.stack.replicas()[0]!.name).getState();
  expect(faults).toMatchObject({ health: 'SERVING', failRate: 0, latencyMs: 0 });
});

interface Sent {
  method?: string;
  path: string;
  /** Defaults: Bearer <the system's token>, Host = the address called, JSON content type for a body. */
  headers?: Record<string, string>;
  body?: string;
}

/** One request over plain node:http (fetch cannot set Host), answering status and the error text. */
function send(base: URL, request: Sent): Promise<{ status: number; error: string }> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${lab.stack.controlToken}`,
    host: base.host,
    ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...request.headers,
  };
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ host: base.hostname, port: base.port, method: request.method ?? 'POST', path: request.path, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        let error = text;
        try {
          error = (JSON.parse(text) as { error?: string }).error ?? '';
        } catch {
          // Not JSON: the raw text is the message.
        }
        resolve({ status: response.statusCode ?? 0, error });
      });
    });
    outgoing.on('error', reject);
    outgoing.setTimeout(5000, () => outgoing.destroy(new Error(`no answer from ${base.host}${request.path} in 5 s`)));
    outgoing.end(request.body);
  });
}

const replicaApi = (): URL => {
  const replica = lab.stack.replicas()[0]!;
  return new URL(`http://${replica.address}:${replica.controlPort}`);
};

// Who is asking: refused before the body is read, on both APIs.
const WHO: Array<[string, Omit<Sent, 'path'>, number]> = [
  ['no token', { headers: { authorization: '' }, body: '{}' }, 401],
  ['a wrong token', { headers: { authorization: `Bearer ${'x'.repeat(43)}` }, body: '{}' }, 401],
  ['a token as a query string instead of the header', { headers: { authorization: '' }, body: '{}' }, 401],
  ['a foreign Host (DNS rebinding)', { headers: { host: 'evil.example:80' }, body: '{}' }, 403],
  ['a Host with the right name but another port', { headers: { host: 'localhost:1' }, body: '{}' }, 403],
  ['a form POST from another page (CSRF)', { headers: { 'content-type': 'text/plain', origin: 'http://evil.example' }, body: '{}' }, 415],
];

describe.each([
  ['a replica', () => replicaApi(), '/state'],
  ['the local system', () => apiUrl, '/scale'],
])('the control API of %s refuses', (_which, base, path) => {
  it.each(WHO)('%s', async (_name, request, status) => {
    const query = _name.startsWith('a token as a query') ? `?token=${lab.stack.controlToken}` : '';
    const answer = await send(base(), { path: `${path}${query}`, ...request });
    expect(answer.status, answer.error).toBe(status);
    expect(answer.error.length).toBeGreaterThan(0);
  });

  it('a body of 1 MB', async () => {
    const answer = await send(base(), { path, body: JSON.stringify({ pad: 'x'.repeat(1 << 20) }) });
    expect(answer.status, answer.error).toBe(413);
  });

  it('a body that is not JSON', async () => {
    const answer = await send(base(), { path, body: '{"failRate": 0.5' });
    expect(answer.status, answer.error).toBe(400);
  });
});

describe("a replica's control API refuses faults it cannot apply", () => {
  it.each([
    ['a rate above 1', { failRate: 2 }, /failRate must be a number 0-1/],
    ['a rate as a string', { failRate: '0.5' }, /failRate must be a number 0-1/],
    ['a latency of an hour', { latencyMs: 3_600_000 }, /latencyMs must be an integer/],
    ['an inherited name as a status', { failCode: 'toString' }, /failCode must be a gRPC status name/],
    ['an unknown field', { explode: true }, /unknown field "explode"/],
    ['an inherited name as a field', JSON.parse('{"__proto__": {"failRate": 1}}') as object, /unknown field "__proto__"/],
    ['a health that does not exist', { health: 'DANCING' }, /health/],
  ])('%s', async (_name, patch, message) => {
    const answer = await send(replicaApi(), { path: '/state', body: JSON.stringify(patch) });
    expect(answer.status, answer.error).toBe(400);
    expect(answer.error).toMatch(message);
  });
});

describe("the local system's control API refuses", () => {
  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'SIGKILL', ''])('the signal %j', async (signal) => {
    const name = lab.stack.replicas()[0]!.name;
    const answer = await send(apiUrl, { path: `/replicas/${name}/signal`, body: JSON.stringify({ signal }) });
    expect(answer.status, answer.error).toBe(400);
    expect(answer.error).toMatch(/^signal must be one of KILL, TERM, STOP, CONT/);
  });

  it('a signal to a replica that does not exist', async () => {
    const answer = await send(apiUrl, { path: '/replicas/grpc-server-99/signal', body: JSON.stringify({ signal: 'KILL' }) });
    expect(answer.status, answer.error).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
  });

  it.each([0, -1, 2.5, 1e9, '3', null])('a scale to %j', async (replicas) => {
    const answer = await send(apiUrl, { path: '/scale', body: JSON.stringify({ replicas }) });
    expect(answer.status, answer.error).toBe(400);
    expect(answer.error).toMatch(/^replicas must be an integer from 1 to \d+/);
  });

  it('a policy nobody knows', async () => {
    const answer = await send(apiUrl, { path: '/policy', body: JSON.stringify({ policy: 'RANDOMEST' }) });
    expect(answer.status, answer.error).toBe(400);
  });

  it('a path it does not serve', async () => {
    const answer = await send(apiUrl, { path: '/../../etc/passwd', body: '{}' });
    expect(answer.status, answer.error).toBe(404);
  });
});
