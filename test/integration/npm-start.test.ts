// `npm start`: the Docker-free system from one command. It prints `ready` once Envoy reports every replica
// healthy, the worker client's lines show the replicas taking turns, and SIGTERM leaves nothing running.
import net from 'node:net';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { ManagedProcess } from '../../scripts/stack/managed-process.js';
import { pollUntil } from '../../scripts/stack/poll-until.js';
import { freePort } from '../../scripts/stack/free-port.js';
import { projectRoot } from '../../scripts/envoy/paths.js';
import { isLocalStackChild, readStateFile } from '../../scripts/stack/state-file.js';
import { LocalDriver } from '../../scripts/drivers/local-driver.js';
import { envoyForTests } from '../helpers/envoy-for-tests.js';
import { runLoad } from '../../client/src/index.js';

let start: ManagedProcess | undefined;

afterEach(async () => {
  await start?.stop('SIGKILL');
  start = undefined;
});

function startCommand(args: string[], env: NodeJS.ProcessEnv = {}): ManagedProcess {
  // Runs what `npm start -- <args>` runs, without npm in between, so the signal reaches it directly.
  return new ManagedProcess(process.execPath, ['--import', 'tsx', path.join('scripts', 'stack', 'start.ts'), ...args], {
    cwd: projectRoot,
    // Its own state file, so the test never meets (or replaces) a lab system the developer is running.
    env: { ...process.env, LAB_STATE_FILE: path.join(tmpdir(), `lab-state-${process.pid}-${Math.random()}.json`), ...env },
    stdin: 'pipe',
  });
}

function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `npm start` with 2 replicas on free ports and a fast client, its lines collected; resolves at its ready line. */
async function startTwoReplicas(): Promise<{
  run: ManagedProcess;
  lines: string[];
  port: number;
  adminPort: number;
  serverPort: number;
  stateFile: string;
}> {
  const envoy = await envoyForTests();
  const [port, adminPort, serverPort] = [await freePort(), await freePort(), await freePort()];
  const stateFile = path.join(mkdtempSync(path.join(tmpdir(), 'npm-start-test-')), 'local-stack.json');
  const run = startCommand(
    ['--replicas', '2', '--port', String(port), '--admin-port', String(adminPort), '--server-port', String(serverPort), '--interval', '100'],
    { ENVOY_BIN: envoy.path, LAB_STATE_FILE: stateFile },
  );
  start = run;
  const lines: string[] = [];
  run.onLine((line) => lines.push(line));
  await run.waitForLine(/ready in [\d.]+s: Envoy reports 2\/2 replicas healthy/, 30_000);
  return { run, lines, port, adminPort, serverPort, stateFile };
}

/** Replica pids, from their `listening ... pid=` start-up lines. */
function replicaPids(lines: string[]): number[] {
  return lines.flatMap((l) => /grpc-server-\d+ listening .* pid=(\d+)/.exec(l)?.[1] ?? []).map(Number);
}

test('npm start runs replicas, Envoy and the client; ready, balanced lines, live scaling, and SIGTERM stops every child', async () => {
  const { run, lines, port, adminPort, serverPort } = await startTwoReplicas();
  console.log(`npm start: ${lines.find((l) => l.includes('ready in'))}`);
  await pollUntil(
    'client lines from both replicas',
    () => ['grpc-server-1', 'grpc-server-2'].every((h) => lines.some((l) => l.startsWith('grpc-client') && l.includes(` ${h} `))),
    { timeoutMs: 10_000 },
  );
  // Scaling live from stdin, as a user types it: a third replica joins and Envoy reports it healthy.
  run.writeLine('scale 3');
  await run.waitForLine(/ready: Envoy reports 3\/3 replicas healthy after [\d.]+s/, 20_000);
  await pollUntil('client lines from grpc-server-3', () => lines.some((l) => l.startsWith('grpc-client') && l.includes(' grpc-server-3 ')), {
    timeoutMs: 10_000,
  });
  run.writeLine('hosts');
  await run.waitForLine(/grpc-server-3\s+127\.0\.0\.4:\d+\s+healthy/, 5000);

  const pids = replicaPids(lines);
  expect(pids).toHaveLength(3);

  run.signal('SIGTERM');
  expect(await run.exited).toBe(0);
  // The client printed its final summary, and no child outlived the parent: processes gone, ports free.
  expect(lines.some((l) => /grpc-client\s+\| summary sent=(\d+) ok=\1 failed=0/.test(l)), lines.slice(-15).join('\n')).toBe(true);
  for (const pid of pids) expect(isAlive(pid), `replica pid ${pid}`).toBe(false);
  expect(await portIsFree('127.0.0.1', port)).toBe(true);
  expect(await portIsFree('127.0.0.1', adminPort)).toBe(true);
  for (const replicaAddress of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) expect(await portIsFree(replicaAddress, serverPort)).toBe(true);
});

test('when the reader of its output goes away (npm start | head), it stops and leaves no process behind', async () => {
  const { run, lines, port } = await startTwoReplicas();
  const pids = replicaPids(lines);
  expect(pids).toHaveLength(2);
  // Close our end of its stdout: its next client line meets EPIPE.
  run.child.stdout?.destroy();
  await pollUntil('npm start to exit', () => !run.running, { timeoutMs: 10_000 });
  for (const pid of pids) await pollUntil(`replica pid ${pid} to be gone`, () => !isAlive(pid), { timeoutMs: 5000 });
  await pollUntil('the listener port to be free', () => portIsFree('127.0.0.1', port), { timeoutMs: 5000 });
});

test('a SIGKILLed npm start takes Envoy and every replica with it; lab down then clears what it left', async () => {
  const { run, port, serverPort, stateFile } = await startTwoReplicas();
  const children = readStateFile(stateFile)?.processes ?? [];
  expect(children.filter(isLocalStackChild), 'Envoy and 2 replicas').toHaveLength(3);
  // No exit handler runs on SIGKILL: only the kernel's parent-death signal can stop its children.
  run.signal('SIGKILL');
  await run.exited;
  for (const pid of children) await pollUntil(`child pid ${pid} to be gone`, () => !isAlive(pid), { timeoutMs: 5000 });
  expect(await portIsFree('127.0.0.1', port)).toBe(true);
  for (const replicaAddress of ['127.0.0.2', '127.0.0.3']) expect(await portIsFree(replicaAddress, serverPort)).toBe(true);

  expect(existsSync(stateFile), 'the state file a SIGKILL left').toBe(true);
  expect(await new LocalDriver({ stateFile }).down()).toMatch(/^down: the local system \(pid \d+\) had died; nothing of it was left$/);
  expect(existsSync(stateFile)).toBe(false);
});

test('an Envoy that dies is started again on the same ports, said in the log and by lab ps', async () => {
  const { run, lines, adminPort, stateFile } = await startTwoReplicas();
  const envoyPid = (readStateFile(stateFile)?.processes ?? []).find((pid) => isLocalStackChild(pid) && !replicaPids(lines).includes(pid));
  expect(envoyPid).toBeDefined();
  process.kill(envoyPid!, 'SIGKILL');
  await run.waitForLine(/stack\s+\| Envoy exited unexpectedly \(SIGKILL\); starting it again in \d+ ms/, 5000);
  await run.waitForLine(/stack\s+\| Envoy is back \(restart 1\), on the same ports/, 20_000);
  // Calls come back through the same listener, and the admin answers on the same port.
  const before = lines.length;
  await pollUntil('a client call answered after the restart', () => lines.slice(before).some((l) => /^grpc-client\s+\| .*grpc-server-\d /.test(l)), {
    timeoutMs: 10_000,
  });
  expect((await fetch(`http://127.0.0.1:${adminPort}/ready`)).status).toBe(200);
  expect(await new LocalDriver({ stateFile }).envoyProcess()).toEqual({ state: 'running', restarts: 1 });
  expect(readStateFile(stateFile)?.processes).not.toContain(envoyPid);
});

test('a bad flag is one line on stderr and exit code 2, with no stack trace', async () => {
  start = startCommand(['--replicas', 'zero']);
  const stderr: string[] = [];
  start.onLine((line, stream) => stream === 'stderr' && stderr.push(line));
  expect(await start.exited).toBe(2);
  expect(stderr).toEqual(['npm start: --replicas must be an integer from 1 to 50, got "zero"']);
});

test('a taken port is reported in one line before anything starts', async () => {
  const blocker = net.createServer();
  const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)));
  try {
    start = startCommand(['--port', String(port)]);
    const stderr: string[] = [];
    start.onLine((line, stream) => stream === 'stderr' && stderr.push(line));
    expect(await start.exited).toBe(1);
    expect(stderr).toEqual([`npm start: 127.0.0.1:${port} is already in use; choose another with --port`]);
  } finally {
    blocker.close();
  }
});

test('--prometheus without a usable Prometheus is one line saying how to get one, before anything starts', async () => {
  const ports = ['--port', String(await freePort()), '--admin-port', String(await freePort()), '--prometheus-port', String(await freePort())];
  start = startCommand(['--prometheus', '--no-client', '--server-port', String(await freePort()), ...ports], { PROMETHEUS_BIN: '/nonexistent/prometheus' });
  const stderr: string[] = [];
  start.onLine((line, stream) => stream === 'stderr' && stderr.push(line));
  expect(await start.exited).toBe(1);
  expect(stderr).toEqual(['npm start: PROMETHEUS_BIN=/nonexistent/prometheus is not an executable file']);
});

test('npm start -- --discovery xds: Envoy takes the replicas over EDS; scale-up, SIGKILL and a drain under load cost no call', async () => {
  const envoy = await envoyForTests();
  const [port, adminPort, serverPort] = [await freePort(), await freePort(), await freePort()];
  const stateFile = path.join(mkdtempSync(path.join(tmpdir(), 'npm-start-xds-')), 'local-stack.json');
  const run = startCommand(
    ['--discovery', 'xds', '--no-client', '--replicas', '3', '--port', String(port), '--admin-port', String(adminPort), '--server-port', String(serverPort)],
    { ENVOY_BIN: envoy.path, LAB_STATE_FILE: stateFile },
  );
  start = run;
  const lines: string[] = [];
  run.onLine((line) => lines.push(line));
  await run.waitForLine(/ready in [\d.]+s: Envoy reports 3\/3 replicas healthy.* xDS 127\.0\.0\.1:\d+ \(xds:\/\/\/grpc-server\)/, 30_000);
  const driver = new LocalDriver({ stateFile });
  expect(await driver.discovery()).toBe('xds');
  const abort = new AbortController();
  const load = runLoad({ target: `127.0.0.1:${port}`, rate: 100, untilStopped: true, concurrency: 50 }, { signal: abort.signal });
  try {
    await driver.scale(4);
    await driver.kill('grpc-server-1');
    await driver.stop('grpc-server-2');
  } finally {
    abort.abort();
  }
  const report = await load;
  expect(report.failed, `${JSON.stringify(report.failedByCode)}\n${lines.slice(-40).join('\n')}`).toBe(0);
  expect(report.ok).toBeGreaterThan(100);
  expect(lines.some((line) => /xds +\| .*endpoint grpc-server-2 .* DRAINING/.test(line)), 'DRAINING pushed before the stop').toBe(true);
  run.signal('SIGTERM');
  expect(await run.exited).toBe(0);
}, 90_000);
