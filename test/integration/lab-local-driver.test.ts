// The `lab` command on the local driver: every verb against a real background system (replica processes, the
// DNS responder, a real Envoy), checked through Envoy's admin view and the processes themselves.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { callGreeter, createGreeterClient } from '../../client/src/greeter-call.js';
import { projectRoot } from '../../scripts/envoy/paths.js';
import { clusterHosts } from '../../scripts/envoy/admin.js';
import { LabError } from '../../scripts/drivers/driver.js';
import { LocalDriver } from '../../scripts/drivers/local-driver.js';
import { ManagedProcess } from '../../scripts/stack/managed-process.js';
import { pollUntil } from '../../scripts/stack/poll-until.js';
import { readStateFile } from '../../scripts/stack/state-file.js';
import { useLabSystem } from '../helpers/lab-system-fixture.js';

const system = useLabSystem(2);
const driver = (): LocalDriver => system.driver;

/** Runs the real CLI against this test's system; resolves with its exit code and lines. */
async function lab(...args: string[]): Promise<{ code: number | NodeJS.Signals; stdout: string[]; stderr: string[] }> {
  const child = new ManagedProcess(process.execPath, ['--import', 'tsx', path.join('scripts', 'lab', 'lab.ts'), '--driver', 'local', ...args], {
    cwd: projectRoot,
    env: { ...process.env, LAB_STATE_FILE: system.stateFile },
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.onLine((line, stream) => (stream === 'stdout' ? stdout : stderr).push(line));
  const code = await child.exited;
  return { code, stdout, stderr };
}

test('up started a background system that answers through Envoy, found through its state file', async () => {
  expect(readStateFile(system.stateFile)).toBeDefined();
  expect((await driver().replicas()).map((r) => [r.name, r.state])).toEqual([
    ['grpc-server-1', 'running'],
    ['grpc-server-2', 'running'],
  ]);
  const client = createGreeterClient(await driver().envoyTarget());
  try {
    expect(await callGreeter(client, 'lab', 3000)).toMatchObject({ ok: true });
  } finally {
    client.close();
  }
});

test('lab ps (CLI) names the driver and Envoy\'s process, then one row per replica with Envoy health and traffic share', async () => {
  const result = await lab('ps', '--sample', '200');
  expect(result.code, result.stderr.join('\n')).toBe(0);
  expect(result.stdout[0]).toMatch(/^lab: driver local, local system pid \d+ \(--driver local\)$/);
  expect(result.stdout[1]).toBe('envoy: running, restarted 0 times after dying');
  expect(result.stdout[2]).toBe('policy ROUND_ROBIN');
  expect(result.stdout[3]).toMatch(/^NAME\s+ADDRESS\s+STATE\s+ENVOY\s+ACTIVE\s+RQ\/S\s+ERR\/S\s+SHARE/);
  expect(result.stdout.slice(4)).toEqual([
    expect.stringMatching(new RegExp(`^grpc-server-1\\s+127\\.0\\.0\\.2:${system.serverPort}\\s+running\\s+healthy\\s`)),
    expect.stringMatching(new RegExp(`^grpc-server-2\\s+127\\.0\\.0\\.3:${system.serverPort}\\s+running\\s+healthy\\s`)),
  ]);
});

test('lab watch (CLI) draws frames with Envoy health, traffic and probe latency per replica', async () => {
  const result = await lab('watch', '--frames', '2', '--probe', '20');
  expect(result.code, result.stderr.join('\n')).toBe(0);
  const frames = result.stdout.filter((line) => line.startsWith('lab watch '));
  expect(frames).toHaveLength(2);
  const rows = result.stdout.filter((line) => /^grpc-server-\d/.test(line));
  expect(rows).toHaveLength(4);
  // The second frame: both replicas healthy, sharing the probe's traffic, with measured latency.
  for (const row of rows.slice(2)) expect(row).toMatch(/^grpc-server-\d\s+running\s+healthy\s+[\d.]+\s+0\.0\s+\S+\s+\d+%\s+[\d.]+\s+[\d.]+$/);
});

test('scale, health, pause/resume, kill and stop each do what they say, as Envoy sees it', async () => {
  const admin = await driver().adminUrl();
  const flagsOf = async (ip: string) => (await clusterHosts(admin, 'grpc_server')).find((h) => h.address.startsWith(`${ip}:`))?.healthFlags;

  await driver().scale(3);
  expect((await clusterHosts(admin, 'grpc_server')).filter((h) => h.healthy)).toHaveLength(3);

  expect(await driver().setFaults('grpc-server-2', { health: 'NOT_SERVING' })).toMatchObject({ replica: 'grpc-server-2', health: 'NOT_SERVING' });
  await pollUntil('grpc-server-2 failed_active_hc', async () => (await flagsOf('127.0.0.3'))?.includes('failed_active_hc'), { timeoutMs: 5000 });
  await driver().setFaults('grpc-server-2', { health: 'SERVING' });

  await driver().pause('grpc-server-3');
  expect((await driver().replicas()).find((r) => r.name === 'grpc-server-3')?.state).toBe('paused');
  await driver().resume('grpc-server-3');
  expect((await driver().replicas()).find((r) => r.name === 'grpc-server-3')?.state).toBe('running');

  await driver().kill('grpc-server-1');
  await driver().stop('grpc-server-3');
  expect((await driver().replicas()).map((r) => r.name)).toEqual(['grpc-server-2']);
  await pollUntil('Envoy to drop the two hosts', async () => (await clusterHosts(admin, 'grpc_server')).length === 1, { timeoutMs: 5000 });
  await driver().scale(2);
});

test('lab latency, reset, policy and envoy (CLI) each say what they did, and Envoy runs the switched policy', async () => {
  const latency = await lab('latency', 'grpc-server-1', '25');
  expect(latency.stdout.at(-1)).toBe('grpc-server-1: health=SERVING failRate=0 failCode=UNAVAILABLE latencyMs=25');
  const reset = await lab('reset', 'grpc-server-1');
  expect(reset.stdout.at(-1)).toBe('grpc-server-1: health=SERVING failRate=0 failCode=UNAVAILABLE latencyMs=0');

  const maglev = await lab('policy', 'maglev', '--hash-header', 'x-user');
  expect(maglev.code, maglev.stderr.join('\n')).toBe(0);
  expect(maglev.stdout.at(-1)).toBe('policy MAGLEV (hash on x-user), panic mode off');
  // Envoy's own live config says so, not just the lab's memory of what it asked for.
  const dump = await (await fetch(`${await driver().adminUrl()}/config_dump?resource=static_clusters`)).text();
  expect(dump).toContain('"lb_policy": "MAGLEV"');
  const back = await lab('policy', 'round_robin');
  expect(back.stdout.at(-1)).toBe('policy ROUND_ROBIN, panic mode off');

  const envoy = await lab('envoy');
  expect(envoy.code).toBe(0);
  expect(envoy.stdout[1]).toMatch(/^cluster grpc_server \(http:\/\/127\.0\.0\.1:\d+\/clusters\)$/);
  expect(envoy.stdout.filter((line) => /^  127\.0\.0\.\d+:\d+\s+healthy\s+rq_total=\d+/.test(line))).toHaveLength(2);
  expect(envoy.stdout).toContainEqual(expect.stringMatching(/^  hosts known \(DNS\)\s+2   membership_total$/));
});

test('a replica that does not exist is one clear error with exit code 2, and nothing changes', async () => {
  await expect(driver().kill('grpc-server-9')).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/no replica named grpc-server-9/) });
  expect(await driver().replicas()).toHaveLength(2);
  const result = await lab('kill', 'grpc-server-9');
  expect(result.code).toBe(2);
  expect(result.stderr).toEqual([expect.stringMatching(/^lab: no replica named grpc-server-9 \(live: grpc-server-\d, grpc-server-\d\)$/)]);
});

test('a bad verb or argument is one line and exit code 2', async () => {
  const verb = await lab('explode');
  expect(verb.code).toBe(2);
  expect(verb.stderr).toEqual(["lab: unknown command 'explode'"]);
  const rate = await lab('fail', 'grpc-server-1', '2');
  expect(rate.code).toBe(2);
  expect(rate.stderr).toEqual(['lab: rate must be a number 0-1, got "2"']);
});

test('with no local system running, a verb says how to start one (exit 1)', async () => {
  const lonely = new LocalDriver({ stateFile: path.join(path.dirname(system.stateFile), 'nothing-here.json') });
  await expect(lonely.replicas()).rejects.toBeInstanceOf(LabError);
  await expect(lonely.replicas()).rejects.toThrow('no local lab system is running; start one with `npm run lab -- up` or `npm start`');
});

test('lab experiment (CLI) prints the report as one JSON object and writes a self-contained HTML page', async () => {
  const reportFile = path.join(path.dirname(system.stateFile), 'l4-vs-l7.html');
  const result = await lab('experiment', 'l4-vs-l7', '--quick', '--json', '--report', reportFile);
  expect(result.code, result.stderr.join('\n')).toBe(0);
  expect(result.stdout).toHaveLength(1);
  const report = JSON.parse(result.stdout[0] ?? '{}') as { name: string; pass: boolean; reportFile: string; figures: unknown[] };
  expect(report).toMatchObject({ name: 'l4-vs-l7', pass: true, reportFile });
  expect(report.figures.length).toBeGreaterThan(3);
  // The progress went to stderr, each line naming the experiment.
  expect(result.stderr.some((line) => line.startsWith('experiment l4-vs-l7: '))).toBe(true);
  const html = readFileSync(reportFile, 'utf8');
  expect(html).toContain('<span class="verdict">PASS</span>');
  expect(html).toContain('<svg');
  expect(html).not.toMatch(/<script|src=|href=/);
});

test('lab experiment with a report file it cannot write: one line and exit 2 before anything runs', async () => {
  const started = Date.now();
  const result = await lab('experiment', 'l4-vs-l7', '--quick', '--report', '/proc/self/report.html');
  expect(result.code).toBe(2);
  expect(result.stderr).toEqual([expect.stringMatching(/^lab: cannot write the report to \/proc\/self\/report\.html: /)]);
  // Refused up front: no experiment line, and far sooner than a quick run takes.
  expect(result.stdout.some((line) => line.startsWith('experiment '))).toBe(false);
  expect(Date.now() - started).toBeLessThan(15_000);
});

test('lab discovery (CLI): shows DNS, switches to xDS and back with a hot restart, and refuses a bad word in one line', async () => {
  const shown = await lab('discovery');
  expect(shown.code, shown.stderr.join('\n')).toBe(0);
  expect(shown.stdout.at(-1)).toBe('discovery dns (Envoy polls DNS every second)');
  const toXds = await lab('discovery', 'xds');
  expect(toXds.code, toXds.stderr.join('\n')).toBe(0);
  expect(toXds.stdout.at(-1)).toMatch(/^discovery xds \(control plane: \d+ responses, \d+ pushed, 0 NACKs, \d+ ms CPU\)$/);
  expect(await driver().discovery()).toBe('xds');
  const back = await lab('discovery', 'dns');
  expect(back.code, back.stderr.join('\n')).toBe(0);
  expect(await driver().discovery()).toBe('dns');
  const bad = await lab('discovery', 'consul');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toEqual(['lab: discovery must be one of dns, xds, got "consul"']);
}, 60_000);
