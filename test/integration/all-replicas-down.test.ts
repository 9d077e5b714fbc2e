// All replicas down: the real worker client keeps running and reports UNAVAILABLE; when replicas come back, its
// calls succeed again without restarting anything.
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { useLocalStack } from '../helpers/local-stack-fixture.js';
import { pollUntil } from '../../scripts/stack/poll-until.js';
import { ManagedProcess } from '../../scripts/stack/managed-process.js';
import { projectRoot } from '../../scripts/envoy/paths.js';

const lab = useLocalStack({ replicas: 2 });
let client: ManagedProcess | undefined;

afterAll(async () => {
  await client?.stop('SIGKILL');
});

test('the worker client survives every replica being killed and recovers by itself when they return', async () => {
  const lines: string[] = [];
  client = new ManagedProcess(
    process.execPath,
    ['--import', 'tsx', path.join('client', 'src', 'main.ts'), '--target', lab.stack.envoyTarget, '--interval', '100', '--deadline', '1000'],
    { cwd: projectRoot, env: { ...process.env, LOG_FORMAT: 'text' } },
  );
  client.onLine((line) => lines.push(line));
  const okLines = () => lines.filter((l) => / grpc-server-\d+ [\d.]+ms OK$/.test(l)).length;
  const unavailableLines = () => lines.filter((l) => / UNAVAILABLE /.test(l)).length;

  await pollUntil('the client to succeed through Envoy', () => okLines() >= 3, { timeoutMs: 10_000 });

  await Promise.all(lab.stack.replicas().map((r) => lab.stack.signalReplica(r.name, 'SIGKILL')));
  await pollUntil('UNAVAILABLE lines from the client', () => unavailableLines() >= 5, { timeoutMs: 10_000 });
  expect(client.running).toBe(true);
  const downSample = lines.filter((l) => / UNAVAILABLE /.test(l)).at(-1);
  console.log(`all down: client line: ${downSample}`);

  const okBefore = okLines();
  const backAt = Date.now();
  await lab.stack.scale(2);
  await pollUntil('the client to succeed again', () => okLines() >= okBefore + 3, { timeoutMs: 15_000 });
  console.log(`all down: calls succeeded again ${Date.now() - backAt} ms after the replicas were restarted`);
  expect(client.running).toBe(true);

  // Its accounting holds across the outage: the final summary adds up.
  await client.stop('SIGTERM', 5000);
  const summary = lines.find((l) => l.startsWith('summary '));
  const match = /sent=(\d+) ok=(\d+) failed=(\d+)/.exec(summary ?? '');
  expect(match, lines.slice(-20).join('\n')).not.toBeNull();
  const [sent, ok, failed] = [Number(match?.[1]), Number(match?.[2]), Number(match?.[3])];
  expect(sent).toBe(ok + failed);
  expect(failed).toBeGreaterThanOrEqual(5);
});
