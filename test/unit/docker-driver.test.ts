// The docker driver against a fake engine: there is no Docker engine on this machine, so the narrow dockerode
// slice the driver depends on (DockerApi) is faked here and nowhere else, together with the compose runner.
// The one real-engine question, "does a missing engine fail fast?", is asked of the real dockerode client.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { parse } from 'yaml';
import type { ComposeResult } from '../../scripts/lab/compose-cli.js';
import {
  dockerAvailable,
  DockerDriver,
  type ContainerSummary,
  type DockerApi,
  type DockerContainerApi,
} from '../../scripts/lab/docker-driver.js';
import { LabError, type PolicyChoice } from '../../scripts/lab/lab-driver.js';

interface ExecReply {
  stdout: string;
  stderr?: string;
  exitCode: number;
}

/** Just the slice the driver uses: a container list, per-container calls recorded, exec with canned output. */
class FakeEngine implements DockerApi {
  readonly calls: string[] = [];
  readonly listOptions: Docker.ContainerListOptions[] = [];
  readonly execs: Array<{ id: string; cmd: string[] }> = [];
  /** What the next execs print and exit with, in order. */
  readonly replies: ExecReply[] = [];
  failWith: Error | undefined;

  constructor(private readonly containers: ContainerSummary[]) {}

  async listContainers(options: Docker.ContainerListOptions): Promise<ContainerSummary[]> {
    this.listOptions.push(options);
    return this.containers;
  }

  getContainer(id: string): DockerContainerApi {
    const record = async (call: string) => {
      this.calls.push(`${id} ${call}`);
      if (this.failWith) throw this.failWith;
    };
    return {
      kill: (options) => record(`kill ${JSON.stringify(options)}`),
      stop: (options) => record(`stop ${JSON.stringify(options)}`),
      pause: () => record('pause'),
      unpause: () => record('unpause'),
      exec: async (options) => {
        expect(options).toMatchObject({ AttachStdout: true, AttachStderr: true, Tty: false });
        this.execs.push({ id, cmd: options.Cmd ?? [] });
        const reply = this.replies.shift();
        if (!reply) throw new Error('test gave no exec reply');
        let inspections = 0;
        return {
          start: async () => Readable.from(splitAwkwardly(multiplexed(reply))),
          // The first inspection still says running, as the engine may right after the output ends.
          inspect: async () => ({ Running: inspections++ === 0, ExitCode: inspections > 1 ? reply.exitCode : null }),
        };
      },
    };
  }

  async ping(): Promise<unknown> {
    return 'OK';
  }
}

/** Docker's frames: 8-byte header [type, 0, 0, 0, length BE] before each payload. */
function frame(type: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

function multiplexed(reply: ExecReply): Buffer {
  return Buffer.concat([frame(1, reply.stdout), ...(reply.stderr ? [frame(2, reply.stderr)] : [])]);
}

/** Chunks that cut through headers and payloads, as a socket may deliver them. */
function splitAwkwardly(buffer: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; offset += 5) chunks.push(buffer.subarray(offset, offset + 5));
  return chunks;
}

function container(id: string, labels: Record<string, string>, state: string, networks: Record<string, string>): ContainerSummary {
  return {
    Id: id,
    Labels: labels,
    State: state,
    NetworkSettings: { Networks: Object.fromEntries(Object.entries(networks).map(([name, ip]) => [name, { IPAddress: ip }])) },
  };
}

function serverLabels(number: number, project = 'grpc-envoy-lab', service = 'grpc-server'): Record<string, string> {
  return {
    'com.docker.compose.project': project,
    'com.docker.compose.service': service,
    'com.docker.compose.container-number': String(number),
  };
}

const NET = 'grpc-envoy-lab_default';
const STATE = { replica: 'abc123', health: 'SERVING', failRate: 0, failCode: 'UNAVAILABLE', latencyMs: 0 };

let labDir: string;
let engine: FakeEngine;
let composeCalls: string[][];
let composeReplies: ComposeResult[];

function driver(env: NodeJS.ProcessEnv = {}): DockerDriver {
  return new DockerDriver({
    docker: engine,
    runCompose: async (args) => {
      composeCalls.push(args);
      return composeReplies.shift() ?? { code: 0, stdout: '', stderr: '' };
    },
    renderPolicyConfig: (choice) => {
      if (choice.hashHeader === 'Bad Header') throw new LabError('invalid hash header "Bad Header"', 2);
      return `# derived\npolicy: ${choice.policy}\nheader: ${choice.hashHeader ?? ''}\n`;
    },
    policyOf: (yaml): PolicyChoice => {
      const parsed = parse(yaml) as { policy: PolicyChoice['policy']; header: string | null };
      return parsed.header ? { policy: parsed.policy, hashHeader: parsed.header } : { policy: parsed.policy };
    },
    labDir,
    env,
  });
}

beforeEach(() => {
  labDir = path.join(mkdtempSync(path.join(tmpdir(), 'docker-driver-test-')), '.lab');
  composeCalls = [];
  composeReplies = [];
  engine = new FakeEngine([
    container('c10', serverLabels(10), 'running', { [NET]: '172.20.0.12' }),
    container('c2', serverLabels(2), 'paused', { bridge: '172.17.0.5', [NET]: '172.20.0.4' }),
    container('c1', serverLabels(1), 'exited', {}),
    container('envoy', serverLabels(1, 'grpc-envoy-lab', 'envoy'), 'running', { [NET]: '172.20.0.9' }),
    container('other', serverLabels(3, 'some-other-project'), 'running', { other_default: '172.21.0.3' }),
    container('oneoff', { ...serverLabels(4), 'com.docker.compose.oneoff': 'True' }, 'running', { [NET]: '172.20.0.8' }),
  ]);
});

afterEach(() => {
  rmSync(path.dirname(labDir), { recursive: true, force: true });
});

test('replicas() names by container number, reads the project-network address and state, sorted by number', async () => {
  expect(await driver().replicas()).toEqual([
    { name: 'grpc-server-1', address: '', state: 'exited' },
    { name: 'grpc-server-2', address: '172.20.0.4', state: 'paused' },
    { name: 'grpc-server-10', address: '172.20.0.12', state: 'running' },
  ]);
  expect(engine.listOptions).toEqual([
    {
      all: true,
      filters: { label: ['com.docker.compose.project=grpc-envoy-lab', 'com.docker.compose.service=grpc-server'] },
    },
  ]);
});

test('kill, stop, pause and resume call the right method on the right container', async () => {
  const lab = driver();
  await lab.kill('grpc-server-10');
  await lab.stop('grpc-server-2');
  await lab.pause('grpc-server-10');
  await lab.resume('grpc-server-2');
  expect(engine.calls).toEqual(['c10 kill {"signal":"SIGKILL"}', 'c2 stop {"t":10}', 'c10 pause', 'c2 unpause']);
});

test('an unknown replica is a usage error listing the live names, and nothing is touched', async () => {
  const lab = driver();
  for (const verb of ['kill', 'stop', 'pause', 'resume'] as const) {
    const error = await lab[verb]('grpc-server-9').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LabError);
    expect(error).toMatchObject({
      message: 'no replica named grpc-server-9 (live: grpc-server-1, grpc-server-2, grpc-server-10)',
      exitCode: 2,
    });
  }
  await expect(lab.setFaults('grpc-server-9', { latencyMs: 5 })).rejects.toMatchObject({ exitCode: 2 });
  expect(engine.calls).toEqual([]);
  expect(engine.execs).toEqual([]);
});

test('an engine refusal is one LabError line with the engine message; stopping a stopped replica is done', async () => {
  engine.failWith = Object.assign(new Error('(HTTP code 409) unexpected - Container c10 is not running\n'), {
    statusCode: 409,
    json: { message: 'Container c10 is not running' },
  });
  await expect(driver().pause('grpc-server-10')).rejects.toMatchObject({
    name: 'LabError',
    message: 'cannot pause grpc-server-10: Container c10 is not running',
    exitCode: 1,
  });
  engine.failWith = Object.assign(new Error('(HTTP code 304) container already stopped'), { statusCode: 304 });
  await expect(driver().stop('grpc-server-1')).resolves.toBeUndefined();
});

test('up, scale and down pass the exact compose argv', async () => {
  const lab = driver();
  await lab.up(3);
  await lab.scale(5);
  await lab.scale(0);
  await lab.down();
  expect(composeCalls).toEqual([
    ['up', '-d', '--build', '--scale', 'grpc-server=3'],
    ['up', '-d', '--no-recreate', '--scale', 'grpc-server=5'],
    ['up', '-d', '--no-recreate', '--scale', 'grpc-server=0'],
    ['down'],
  ]);
  await expect(lab.up(0)).rejects.toMatchObject({ message: 'replicas must be an integer 1-100, got 0', exitCode: 2 });
  await expect(lab.scale(1.5)).rejects.toMatchObject({ exitCode: 2 });
  expect(composeCalls).toHaveLength(4);
});

test('a failing compose command is a LabError with its last stderr line', async () => {
  composeReplies.push({
    code: 1,
    stdout: '',
    stderr: ' Container grpc-envoy-lab-grpc-server-1  Starting\nError response from daemon: driver failed programming external connectivity: port is already allocated\n\n',
  });
  await expect(driver().scale(2)).rejects.toMatchObject({
    name: 'LabError',
    message: 'docker compose up failed: Error response from daemon: driver failed programming external connectivity: port is already allocated',
    exitCode: 1,
  });
});

test('setFaults runs the control CLI in the container once per field and returns the JSON state it printed', async () => {
  const final = { ...STATE, health: 'NOT_SERVING', failRate: 0.5, failCode: 'INTERNAL', latencyMs: 200 };
  engine.replies.push(
    { stdout: `${JSON.stringify({ ...STATE, health: 'NOT_SERVING' })}\n`, exitCode: 0 },
    { stdout: `${JSON.stringify({ ...final, latencyMs: 0 })}\n`, exitCode: 0 },
    { stdout: `${JSON.stringify(final)}\n`, exitCode: 0 },
  );
  const state = await driver().setFaults('grpc-server-2', { health: 'NOT_SERVING', failRate: 0.5, failCode: 'INTERNAL', latencyMs: 200 });
  expect(state).toEqual(final);
  const cli = ['node', 'dist/server/src/control-cli.js', '--json'];
  expect(engine.execs).toEqual([
    { id: 'c2', cmd: [...cli, 'health', 'not-serving'] },
    { id: 'c2', cmd: [...cli, 'fail', '0.5', '--code', 'INTERNAL'] },
    { id: 'c2', cmd: [...cli, 'latency', '200'] },
  ]);
});

test('setFaults with only a code keeps the current rate; an empty patch reads the state', async () => {
  engine.replies.push(
    { stdout: `${JSON.stringify({ ...STATE, failRate: 0.25 })}\n`, exitCode: 0 },
    { stdout: `${JSON.stringify({ ...STATE, failRate: 0.25, failCode: 'INTERNAL' })}\n`, exitCode: 0 },
    { stdout: `${JSON.stringify(STATE)}\n`, exitCode: 0 },
  );
  const lab = driver();
  expect(await lab.setFaults('grpc-server-10', { failCode: 'INTERNAL' })).toMatchObject({ failRate: 0.25, failCode: 'INTERNAL' });
  expect(await lab.setFaults('grpc-server-10', {})).toEqual(STATE);
  expect(engine.execs.map((exec) => exec.cmd.slice(3))).toEqual([['status'], ['fail', '0.25', '--code', 'INTERNAL'], ['status']]);
});

test('setFaults: a failing control CLI is its one stderr line; a bad patch fails before any exec', async () => {
  engine.replies.push({ stdout: '', stderr: 'greeterctl: server is shutting down; health stays NOT_SERVING\n', exitCode: 1 });
  await expect(driver().setFaults('grpc-server-10', { health: 'SERVING' })).rejects.toMatchObject({
    name: 'LabError',
    message: 'grpc-server-10: greeterctl: server is shutting down; health stays NOT_SERVING',
    exitCode: 1,
  });
  await expect(driver().setFaults('grpc-server-10', { latencyMs: -1 })).rejects.toMatchObject({
    message: 'latencyMs must be an integer 0-60000, got -1',
    exitCode: 2,
  });
  expect(engine.execs).toHaveLength(1);
});

test('setPolicy writes the derived config and an override mounting it, recreates Envoy; ROUND_ROBIN removes them', async () => {
  const lab = driver();
  const override = path.join(labDir, 'compose.policy.yml');
  const active = path.join(labDir, 'envoy.active.yaml');
  expect(await lab.policy()).toEqual({ policy: 'ROUND_ROBIN' });

  await lab.setPolicy({ policy: 'RING_HASH', hashHeader: 'x-lab-key' });
  expect(readFileSync(active, 'utf8')).toBe('# derived\npolicy: RING_HASH\nheader: x-lab-key\n');
  expect(parse(readFileSync(override, 'utf8'))).toEqual({
    services: { envoy: { volumes: [{ type: 'bind', source: active, target: '/etc/envoy/envoy.yaml', read_only: true }] } },
  });
  expect(await lab.policy()).toEqual({ policy: 'RING_HASH', hashHeader: 'x-lab-key' });
  // Later compose commands keep the override, or they would recreate Envoy with the plain envoy.yaml.
  await lab.scale(2);

  await lab.setPolicy({ policy: 'ROUND_ROBIN' });
  expect(existsSync(override)).toBe(false);
  expect(existsSync(active)).toBe(false);
  expect(await lab.policy()).toEqual({ policy: 'ROUND_ROBIN' });
  expect(composeCalls).toEqual([
    ['-f', override, 'up', '-d', '--no-deps', '--force-recreate', 'envoy'],
    ['-f', override, 'up', '-d', '--no-recreate', '--scale', 'grpc-server=2'],
    ['up', '-d', '--no-deps', '--force-recreate', 'envoy'],
  ]);
});

test('a setPolicy that compose refuses or that is invalid leaves the previous policy files; down removes them', async () => {
  const lab = driver();
  await lab.setPolicy({ policy: 'LEAST_REQUEST' });
  composeReplies.push({ code: 1, stdout: '', stderr: 'service "envoy" refers to undefined volume\n' });
  await expect(lab.setPolicy({ policy: 'MAGLEV' })).rejects.toMatchObject({
    message: 'docker compose up failed: service "envoy" refers to undefined volume',
  });
  expect(await lab.policy()).toEqual({ policy: 'LEAST_REQUEST' });
  await expect(lab.setPolicy({ policy: 'ROUND_ROBIN', hashHeader: 'Bad Header' })).rejects.toMatchObject({ exitCode: 2 });
  expect(await lab.policy()).toEqual({ policy: 'LEAST_REQUEST' });
  expect(composeCalls).toHaveLength(2);
  await lab.down();
  expect(existsSync(path.join(labDir, 'compose.policy.yml'))).toBe(false);
  expect(await lab.policy()).toEqual({ policy: 'ROUND_ROBIN' });
});

test('adminUrl and envoyTarget follow PORT_ADMIN and PORT_PROXY; a bad value is one usage error', async () => {
  expect(await driver().adminUrl()).toBe('http://127.0.0.1:9901');
  expect(await driver().envoyTarget()).toBe('127.0.0.1:5000');
  expect(await driver({ PORT_ADMIN: '19901', PORT_PROXY: '15000' }).adminUrl()).toBe('http://127.0.0.1:19901');
  expect(await driver({ PORT_ADMIN: '19901', PORT_PROXY: '15000' }).envoyTarget()).toBe('127.0.0.1:15000');
  await expect(driver({ PORT_ADMIN: 'abc' }).adminUrl()).rejects.toMatchObject({
    name: 'LabError',
    message: 'PORT_ADMIN must be an integer 1-65535, got "abc"',
    exitCode: 2,
  });
  await expect(driver({ PORT_PROXY: '70000' }).envoyTarget()).rejects.toMatchObject({ exitCode: 2 });
  // Compose would publish the bad value too: nothing is run.
  await expect(driver({ PORT_ADMIN: '' }).up(1)).rejects.toMatchObject({ exitCode: 2 });
  expect(composeCalls).toEqual([]);
});

test('dockerAvailable: the real client without an engine answers false quickly; a silent engine times out', async () => {
  const started = Date.now();
  expect(await dockerAvailable(new Docker(), 2_000)).toBe(false);
  expect(Date.now() - started).toBeLessThan(1_000);

  let aborted = false;
  const silent = {
    ping: (options?: { abortSignal?: AbortSignal }) =>
      new Promise<unknown>(() => options?.abortSignal?.addEventListener('abort', () => (aborted = true))),
  };
  expect(await dockerAvailable(silent, 50)).toBe(false);
  expect(aborted).toBe(true);
  expect(await dockerAvailable(engine, 50)).toBe(true);
});

test('an engine that cannot be reached is one LabError line naming it', async () => {
  const unreachable: DockerApi = {
    listContainers: async () => {
      throw Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' });
    },
    getContainer: (id) => engine.getContainer(id),
    ping: () => engine.ping(),
  };
  const lab = new DockerDriver({
    docker: unreachable,
    runCompose: async () => ({ code: 0, stdout: '', stderr: '' }),
    renderPolicyConfig: () => '',
    policyOf: () => ({ policy: 'ROUND_ROBIN' }),
    labDir,
    env: {},
  });
  await expect(lab.kill('grpc-server-1')).rejects.toMatchObject({
    name: 'LabError',
    message: 'cannot list containers: no Docker engine answers (connect ENOENT /var/run/docker.sock)',
    exitCode: 1,
  });
});
