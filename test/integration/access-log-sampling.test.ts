// envoy.yaml's access-log filter: with the OK share at 0 % (npm start --access-log-ok 0) a plain OK call leaves no
// line, while a failed call and a call that succeeded only after a retry always do; the share can be changed live
// through the admin's runtime, as docs/performance.md says.
import { expect, test } from 'vitest';
import { callGreeter, createGreeterClient } from '../../client/src/greeter-call.js';
import { pollUntil } from '../../scripts/stack/poll-until.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';

const lab = useLocalStack({ replicas: 2, accessLogOkPercent: 0 });

interface AccessLine {
  path: string;
  grpc_status: string;
  attempts: number;
}

const accessLines = (): AccessLine[] =>
  lab
    .recentLines()
    .split('\n')
    .filter((l) => l.startsWith('envoy | {') && l.includes('/greeter.v1.Greeter/SayHello'))
    .map((l) => JSON.parse(l.slice('envoy | '.length)) as AccessLine);

test('OK calls sampled at 0 %: failed and retried calls are still logged, and the share changes live', async () => {
  const client = createGreeterClient(lab.stack.envoyTarget);
  try {
    for (let i = 0; i < 5; i += 1) expect(await callGreeter(client, 'plain', 3000)).toMatchObject({ ok: true });
    // Replica 1 now answers UNAVAILABLE: Envoy retries those calls on replica 2, and they end OK after 2 attempts.
    await lab.stack.control('grpc-server-1').update({ failRate: 1, failCode: 'UNAVAILABLE' });
    for (let i = 0; i < 4; i += 1) expect(await callGreeter(client, 'retried', 3000)).toMatchObject({ ok: true });
    expect(await callGreeter(client, 'x'.repeat(65), 3000)).toMatchObject({ ok: false, codeName: 'INVALID_ARGUMENT' });
    // Lines come in the order calls ended, flushed every second: once the last call's line is here, all are.
    await pollUntil('the access-log line of the failed call', () => accessLines().some((l) => l.grpc_status === 'InvalidArgument'), { timeoutMs: 5000 });
    const lines = accessLines();
    expect(lines.filter((l) => l.grpc_status === 'OK' && l.attempts === 1)).toEqual([]);
    expect(lines.filter((l) => l.grpc_status === 'OK' && l.attempts > 1).length).toBeGreaterThanOrEqual(1);

    // Every OK call again, live, through the admin's runtime layer (loopback only).
    await lab.stack.control('grpc-server-1').reset();
    const modified = await fetch(`${lab.stack.adminUrl}/runtime_modify?access_log.ok_percent=100`, { method: 'POST' });
    expect(modified.status).toBe(200);
    expect(await callGreeter(client, 'logged', 3000)).toMatchObject({ ok: true });
    await pollUntil('a line for a plain OK call', () => accessLines().some((l) => l.grpc_status === 'OK' && l.attempts === 1), { timeoutMs: 5000 });
  } finally {
    client.close();
    await lab.stack.control('grpc-server-1').reset();
  }
});
