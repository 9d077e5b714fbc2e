// The lab on the Compose system, for real: the CLI names the project it drives and the replicas as
// `docker compose ps` does, a policy switch hands Envoy its new config with no call lost, and every experiment
// passes under the docker driver with the same bounds as under the local one.
import path from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runLoad } from '../../client/src/index.js';
import type { DockerDriver } from '../../scripts/drivers/index.js';
import { projectRoot, runningPolicy, serverInfo } from '../../scripts/envoy/index.js';
import Docker from 'dockerode';
import { ManagedProcess, pollUntil } from '../../scripts/stack/index.js';
import { ComposeProject } from '../helpers/compose-project.js';
import { testEveryExperiment } from '../helpers/experiment-run.js';

let project: ComposeProject;
let driver: DockerDriver;

beforeAll(async () => {
  project = await ComposeProject.create();
  await project.up(3);
  driver = project.driver();
}, 10 * 60_000);

afterAll(async () => {
  await project?.down();
}, 2 * 60_000);

/** The real `npm run lab -- <args>` for this project (its COMPOSE_PROJECT_NAME, no local system). */
async function lab(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | NodeJS.Signals; stdout: string[]; stderr: string[] }> {
  const child = new ManagedProcess(process.execPath, ['--import', 'tsx', path.join('scripts', 'lab', 'lab.ts'), ...args], {
    cwd: projectRoot,
    env,
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.onLine((line, stream) => (stream === 'stdout' ? stdout : stderr).push(line));
  return { code: await child.exited, stdout, stderr };
}

describe('lab CLI on the Compose project', () => {
  test('ps: the docker driver, the project it drives, one row per replica by container name', async () => {
    const stateFile = path.join(mkdtempSync(path.join(tmpdir(), 'lab-none-')), 'local-stack.json');
    const result = await lab({ ...project.env, LAB_STATE_FILE: stateFile }, 'ps', '--sample', '300');
    expect(result.code, result.stderr.join('\n')).toBe(0);
    expect(result.stdout[0]).toBe(`lab: driver docker, Compose project ${project.name} (a Docker engine answered and no local system runs)`);
    const rows = result.stdout.filter((line) => line.startsWith(`${project.name}-grpc-server-`));
    expect(rows.map((line) => line.split(/\s+/)[0])).toEqual([1, 2, 3].map((n) => `${project.name}-grpc-server-${n}`));
    expect(rows.every((line) => / running +healthy /.test(line))).toBe(true);
  });

  test('a live local system of this checkout wins over Docker', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lab-local-'));
    const stateFile = path.join(dir, 'local-stack.json');
    // Its owner is alive (this test process); the lab must pick it without asking Docker.
    const state = { pid: process.pid, controlUrl: 'http://127.0.0.1:9', token: 'x'.repeat(43), startedAt: new Date().toISOString(), processes: [] };
    writeFileSync(stateFile, JSON.stringify(state));
    try {
      const result = await lab({ ...project.env, LAB_STATE_FILE: stateFile }, 'policy');
      expect(result.stdout[0]).toBe(`lab: driver local, local system pid ${process.pid} (a local system of this checkout runs (${stateFile}))`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an Envoy that crashes is started again by the engine (restart: on-failure), and ps says so', async () => {
    // A crash, not a stop: SIGKILL the envoy process inside its container, as a segfault or the OOM killer would.
    const crash = await project.compose(
      'exec', '-T', 'envoy', 'sh', '-c', 'for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = envoy ] && kill -KILL ${p#/proc/}; done; true',
    );
    expect(crash.code, crash.stderr).toBe(0);
    await pollUntil('the engine to restart Envoy', async () => (await driver.envoyProcess()).restarts === 1, { timeoutMs: 30_000 });
    await project.waitForHealthy(3);
    const stateFile = path.join(mkdtempSync(path.join(tmpdir(), 'lab-none-')), 'local-stack.json');
    const result = await lab({ ...project.env, LAB_STATE_FILE: stateFile }, 'ps', '--sample', '300');
    expect(result.stdout[1]).toBe('envoy: running, restarted 1 time after dying');
  });

  test('kill takes the short name grpc-server-2 as `docker compose exec --index 2` does', async () => {
    await driver.kill('grpc-server-2');
    expect((await driver.replicas()).map((r) => r.state)).toEqual(['running', 'exited', 'running']);
    await driver.scale(3);
    expect((await driver.replicas()).map((r) => r.state)).toEqual(['running', 'running', 'running']);
    await project.waitForHealthy(3);
  });
});

test('scale works while a replica is NOT_SERVING, which Docker then calls unhealthy', async () => {
  const docker = new Docker();
  await driver.setFaults('grpc-server-3', { health: 'NOT_SERVING' });
  const id = (await docker.listContainers({ filters: { name: [`${project.name}-grpc-server-3`] } }))[0]?.Id ?? '';
  await pollUntil('Docker to mark it unhealthy', async () => (await docker.getContainer(id).inspect()).State.Health?.Status === 'unhealthy', {
    timeoutMs: 30_000,
    intervalMs: 500,
  });
  await driver.scale(4);
  expect((await driver.replicas()).map((r) => r.state)).toEqual(['running', 'running', 'running', 'running']);
  await driver.setFaults('grpc-server-3', { health: 'SERVING' });
  await driver.scale(3);
  await project.waitForHealthy(3);
}, 90_000);

describe('a policy switch under Compose', () => {
  test('is a hot restart of Envoy: options kept, read back from Envoy, 0 of ~200 calls/s lost', async () => {
    const adminUrl = await driver.adminUrl();
    const epoch = (await serverInfo(adminUrl)).restartEpoch;
    const stop = new AbortController();
    const load = runLoad({ target: project.target, rate: 200, concurrency: 100, durationS: 120, deadlineMs: 2000 }, { signal: stop.signal });
    try {
      await driver.setPolicy({ policy: 'ROUND_ROBIN', panicThresholdPercent: 50, perTryTimeoutMs: 500 });
      expect(await runningPolicy(adminUrl)).toEqual({ policy: 'ROUND_ROBIN', panicThresholdPercent: 50, perTryTimeoutMs: 500 });
      await driver.setPolicy({ policy: 'MAGLEV', hashHeader: 'x-user' });
      expect(await driver.policy()).toEqual({ policy: 'MAGLEV', hashHeader: 'x-user' });
      await driver.setPolicy({ policy: 'ROUND_ROBIN' });
      expect(await driver.policy()).toEqual({ policy: 'ROUND_ROBIN' });
    } finally {
      stop.abort();
    }
    const report = await load;
    expect((await serverInfo(adminUrl)).restartEpoch).toBe(epoch + 3);
    expect(report.sent).toBeGreaterThan(1000);
    expect(report.failed, JSON.stringify(report.failedByCode)).toBe(0);
  }, 120_000);
});

describe('every experiment under the docker driver', () => {
  testEveryExperiment(() => driver);
});
