// The docker driver's own logic that needs no engine: what the control CLI printed, and whether an engine answers.
// Everything it does to containers is proven on a real engine in test/compose/lab-docker-driver.test.ts.
import { expect, test } from 'vitest';
import { dockerAvailable, parseState } from '../../scripts/drivers/docker-driver.js';

test('dockerAvailable: an engine that answers is true, one that refuses is false, a silent one times out', async () => {
  expect(await dockerAvailable({ ping: async () => 'OK' }, 1000)).toBe(true);

  const refused = Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' });
  const started = Date.now();
  expect(await dockerAvailable({ ping: () => Promise.reject(refused) }, 2000)).toBe(false);
  expect(Date.now() - started).toBeLessThan(1000);

  let aborted = false;
  const silent = {
    ping: (options?: { abortSignal?: AbortSignal }) =>
      new Promise<unknown>(() => options?.abortSignal?.addEventListener('abort', () => (aborted = true))),
  };
  expect(await dockerAvailable(silent, 50)).toBe(false);
  expect(aborted).toBe(true);
});

test("parseState reads the control CLI's last JSON line; anything else is one LabError line", () => {
  const state = { replica: 'lab-grpc-server-2', health: 'SERVING', failRate: 0.5, failCode: 'UNAVAILABLE', latencyMs: 0 };
  expect(parseState('lab-grpc-server-2', `warming up\n${JSON.stringify(state)}\n`)).toEqual(state);
  expect(() => parseState('r', 'not json')).toThrow('r: the control CLI printed no JSON state (got "not json")');
  expect(() => parseState('r', '{"replica":"r","health":"MAYBE"}')).toThrow(
    'r: the control CLI printed an unexpected state: {"replica":"r","health":"MAYBE"}',
  );
});
