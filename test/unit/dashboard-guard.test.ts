// The dashboard's request guard and its verb parser, case by case: the real server and page are driven in
// test/integration/lab-dashboard.test.ts; here every way a request can be refused is named once.
import { describe, expect, it } from 'vitest';
import { checkApiRequest, checkHost } from '../../scripts/lab/dashboard/guard.js';
import { ActionRequestError, parseActionRequest } from '../../scripts/lab/dashboard/actions.js';

const TOKEN = 'a'.repeat(48);
const ok = { method: 'GET', host: '127.0.0.1:8090', origin: undefined, token: TOKEN, contentType: undefined };

describe('dashboard guard', () => {
  it('lets the page through: its own Host (127.0.0.1 or localhost), its Origin, the token, JSON for a POST', () => {
    expect(checkApiRequest(ok, 8090, TOKEN)).toBeUndefined();
    expect(checkApiRequest({ ...ok, host: 'localhost:8090', origin: 'http://localhost:8090' }, 8090, TOKEN)).toBeUndefined();
    expect(checkApiRequest({ ...ok, method: 'POST', contentType: 'application/json' }, 8090, TOKEN)).toBeUndefined();
  });

  it.each([
    ['a rebinding name in Host', { host: 'evil.example:8090' }, 421],
    ['another port in Host', { host: '127.0.0.1:9999' }, 421],
    ['no Host', { host: undefined }, 421],
    ['another Origin', { origin: 'http://evil.example' }, 403],
    ['a null Origin (sandboxed frame)', { origin: 'null' }, 403],
    ['no token', { token: undefined }, 403],
    ['a token one character short', { token: TOKEN.slice(1) }, 403],
    ['a wrong token', { token: 'b'.repeat(48) }, 403],
    ['a form body', { method: 'POST', contentType: 'application/x-www-form-urlencoded' }, 415],
    ['a POST without a type', { method: 'POST', contentType: undefined }, 415],
  ])('refuses %s', (_what, change, status) => {
    expect(checkApiRequest({ ...ok, ...change }, 8090, TOKEN)?.status).toBe(status);
  });

  it('serves the page itself only to its own names', () => {
    expect(checkHost('127.0.0.1:8090', 8090)).toBeUndefined();
    expect(checkHost('LOCALHOST:8090', 8090)).toBeUndefined();
    expect(checkHost('attacker.example', 8090)?.status).toBe(421);
  });
});

describe('dashboard verbs', () => {
  it('reads a verb with its replica and argument', () => {
    expect(parseActionRequest({ verb: 'fail', replica: 'grpc-server-2', value: '0.5', code: 'INTERNAL' })).toEqual({
      verb: 'fail',
      replica: 'grpc-server-2',
      value: '0.5',
      code: 'INTERNAL',
    });
    expect(parseActionRequest({ verb: 'scale', value: '4' })).toEqual({ verb: 'scale', value: '4' });
  });

  it.each([
    [null, 'the body must be a JSON object'],
    [{ verb: 'rm -rf' }, 'verb must be one of scale, kill, stop, pause, resume, health, fail, latency, reset, policy, got "rm -rf"'],
    [{ verb: 'kill' }, 'kill needs a replica'],
    [{ verb: 'kill', replica: 7 }, 'replica must be a short string'],
  ])('refuses %j with one line', (body, message) => {
    expect(() => parseActionRequest(body)).toThrow(ActionRequestError);
    expect(() => parseActionRequest(body)).toThrow(message);
  });
});
