// deploy/swarm/stack.yml for real, on a one-node Swarm of the engine the run found: Envoy resolving
// tasks.grpc-server spreads calls over the tasks; scaling, a killed task and a rolling update (start-first, waiting
// for the health check) lose no call; the admin faces no network; and an Envoy pointed at the service's virtual IP
// instead sees one host and pins the calls of a connection to one task: the L4-vs-L7 lesson on an orchestrator.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runLoad, type LoadReport } from '../../client/src/index.js';
import { CLUSTER_NAME, clusterHosts, clusterStat, deriveSwarmEnvoyConfig, envoyYamlPath, projectRoot } from '../../scripts/envoy/index.js';
import { CUT_REPLY } from '../../scripts/experiments/index.js';
import { pollUntil } from '../../scripts/stack/index.js';
import { SwarmStack, type SwarmTask } from '../helpers/swarm-stack.js';

let stack: SwarmStack;
let admin: string;
const startedAt = Date.now();

/** One line per event, with the seconds since the file began: the run's story, for the docs and for a failure. */
function say(line: string): void {
  console.log(`swarm +${((Date.now() - startedAt) / 1000).toFixed(1)}s ${line}`);
}

beforeAll(async () => {
  stack = await SwarmStack.create();
  await stack.joinOrMakeSwarm();
  await stack.buildImages();
  say(`images ${stack.images.server}, ${stack.images.client} built`);
  admin = await stack.deploy();
  await stack.waitForEnvoy(admin, 3);
  say(`stack ${stack.name} deployed; Envoy routes to 3 healthy tasks`);
}, 12 * 60_000);

afterAll(async () => {
  await stack?.remove();
}, 3 * 60_000);

/** Steady open-loop load from the host through Envoy's published port while `during` runs. */
async function underLoad(rate: number, during: () => Promise<void>): Promise<LoadReport> {
  const stop = new AbortController();
  const load = runLoad({ target: stack.target, rate, concurrency: 50, untilStopped: true, deadlineMs: 2000 }, { signal: stop.signal });
  try {
    await during();
  } finally {
    stop.abort();
  }
  return load;
}

/** How many of `calls` each task answered, by name. */
function sharesOf(report: LoadReport): Map<string, number> {
  return new Map(report.hosts.map((host) => [host.hostname, host.count]));
}

function shareLine(shares: Map<string, number>, total: number): string {
  return [...shares].map(([name, count]) => `${name} ${((100 * count) / total).toFixed(0)}%`).join(', ');
}

describe('docker stack deploy of deploy/swarm/stack.yml on a one-node Swarm', () => {
  test('Envoy resolves tasks.grpc-server: each of the 3 tasks is a healthy host of its own', async () => {
    const tasks = await stack.tasks('grpc-server');
    const hosts = await clusterHosts(admin, CLUSTER_NAME);
    expect(tasks).toHaveLength(3);
    expect(hosts.map((host) => host.address).sort()).toEqual(tasks.map((task) => `${task.ip}:8080`).sort());
    expect(hosts.every((host) => host.healthy)).toBe(true);
  });

  test('calls on one connection rotate over the 3 tasks, each answering with its task (container) name', async () => {
    const tasks = await stack.tasks('grpc-server');
    const report = await runLoad({ target: stack.target, count: 30, concurrency: 1 });
    expect(report.failed, JSON.stringify(report.failedByCode)).toBe(0);
    // Round robin per call: 10 calls each, and the names are the containers' (<stack>_grpc-server.<slot>.<task id>).
    expect(Object.fromEntries(sharesOf(report))).toEqual(Object.fromEntries(tasks.map((task) => [task.name, 10])));
    for (const task of tasks) expect(task.name).toMatch(new RegExp(`^${stack.service('grpc-server')}\\.\\d+\\.[a-z0-9]{25}$`));
    say(`30 calls on one connection: ${shareLine(sharesOf(report), 30)}`);
  });

  test("the stack's worker client logs its calls through envoy:5000, answered by the tasks by name", async () => {
    const names = (await stack.tasks('grpc-server')).map((task) => task.name);
    const calls = await pollUntil(
      'three OK calls in the worker client log',
      async () => {
        const lines = (await stack.logs('grpc-client')).filter((line) => / #\d+ \S+ [\d.]+ms OK$/.test(line));
        return lines.length >= 3 ? lines : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    for (const line of calls.slice(-3)) expect(names).toContain(line.split(' ')[2]);
  });

  test('every task runs as a non-root user, read-only, with no capabilities, CPU, memory and pid limits, an init, no Docker socket', async () => {
    const tasks = [...(await stack.tasks('envoy')), ...(await stack.tasks('grpc-server')), ...(await stack.tasks('grpc-client'))];
    expect(tasks).toHaveLength(5);
    const engine = new Docker();
    for (const task of tasks) {
      const info = await engine.getContainer(task.containerId).inspect();
      expect(info.Config.User, `${task.name} user`).not.toMatch(/^(|0|root)(:|$)/);
      expect(info.HostConfig.ReadonlyRootfs, `${task.name} read-only`).toBe(true);
      expect(info.HostConfig.CapDrop, `${task.name} cap_drop`).toEqual(['ALL']);
      expect(info.HostConfig.CapAdd ?? [], `${task.name} cap_add`).toEqual([]);
      expect(info.HostConfig.Privileged, `${task.name} privileged`).toBe(false);
      expect(info.HostConfig.Init, `${task.name} init`).toBe(true);
      expect(info.HostConfig.Memory, `${task.name} memory limit`).toBeGreaterThan(0);
      expect(info.HostConfig.PidsLimit, `${task.name} pids limit`).toBeGreaterThan(0);
      expect(info.HostConfig.NanoCpus, `${task.name} cpu limit`).toBeGreaterThan(0);
      expect(info.Mounts.map((m) => m.Source).filter((source) => source.includes('docker.sock')), task.name).toEqual([]);
    }
  });

  test("Envoy's admin faces no network: a unix socket on the manager (0600, uid 101), no published port, refused on the overlay", async () => {
    const socket = statSync(stack.adminSocketOf(admin));
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    expect(socket.uid).toBe(101);
    expect(await (await fetch(`${admin}/ready`)).text()).toBe('LIVE\n');

    // Published: the gRPC port only, in host mode (no ingress mesh); Envoy's own name needs no virtual IP.
    expect(await stack.endpointOf('envoy')).toEqual({ mode: 'dnsrr', ports: [{ target: 5000, publishMode: 'host' }] });

    // From a replica on the same overlay network: 9901 is refused while 5000 answers, so the refusal is the
    // admin's absence from the network, not a network that reaches nothing.
    const [envoy] = await stack.tasks('envoy');
    const [replica] = await stack.tasks('grpc-server');
    const probe = [
      "const net = require('node:net');",
      'const tryPort = (port) => new Promise((done) => {',
      '  const socket = net.connect(port, process.argv[1]);',
      "  socket.setTimeout(2000, () => { socket.destroy(); done('timeout'); });",
      "  socket.on('connect', () => { socket.destroy(); done('open'); });",
      "  socket.on('error', (error) => done(error.code));",
      '});',
      "Promise.all([tryPort(9901), tryPort(5000)]).then((results) => console.log(results.join(' ')));",
    ].join('\n');
    const answer = await stack.exec(replica!, ['node', '-e', probe, envoy!.ip]);
    expect(answer.trim()).toBe('ECONNREFUSED open');
  });
});

describe('changing the stack under 50 calls/s through Envoy, with no failed call', () => {
  test('scale 3 -> 5, SIGKILL a task, a rolling update (start-first) of all 5, then back to 3', async () => {
    let killed: SwarmTask | undefined;
    let updated: SwarmTask[] = [];
    let replaced: string[] = [];
    const report = await underLoad(50, async () => {
      await stack.scale('grpc-server', 5);
      await stack.waitForEnvoy(admin, 5);
      say('scaled to 5: Envoy routes to 5 healthy tasks');

      killed = (await stack.tasks('grpc-server'))[1];
      await stack.kill(killed!);
      await pollUntil(
        `a new task in place of ${killed!.name}`,
        async () => {
          const tasks = await stack.tasks('grpc-server');
          return tasks.length === 5 && !tasks.some((task) => task.name === killed!.name);
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await stack.waitForEnvoy(admin, 5);
      say(`SIGKILL ${killed!.name}: Swarm replaced it, Envoy routes to 5 healthy tasks`);

      replaced = (await stack.tasks('grpc-server')).map((task) => task.name);
      const updateStarted = Date.now();
      await stack.forceUpdate('grpc-server');
      await stack.waitForEnvoy(admin, 5);
      updated = await stack.tasks('grpc-server');
      say(`rolling update of 5 tasks (docker service update --force) completed in ${((Date.now() - updateStarted) / 1000).toFixed(1)} s`);

      await stack.scale('grpc-server', 3);
      await stack.waitForEnvoy(admin, 3);
      say('scaled back to 3');
    });
    say(`load: ${report.sent} calls at 50/s, ${report.failed} failed, ${report.hosts.length} tasks answered, p99 ${report.latencyMs.all?.p99.toFixed(0)} ms`);
    // A SIGKILL may cut one reply mid-write, after Envoy began forwarding it (CUT_REPLY): at most that one.
    const cut = Math.min(report.failedByCode[CUT_REPLY.code] ?? 0, 1);
    expect(report.failed - cut, JSON.stringify(report.failedByCode)).toBe(0);
    expect(report.sent).toBeGreaterThan(500);
    // The update replaced every task, and each new one served calls before the load stopped.
    expect(updated).toHaveLength(5);
    for (const task of updated) expect(replaced).not.toContain(task.name);
    const answered = new Set(report.hosts.map((host) => host.hostname));
    for (const task of updated) expect(answered, `${task.name} answered no call`).toContain(task.name);
    expect(answered).toContain(killed!.name);
  }, 5 * 60_000);
});

describe("the virtual IP: an Envoy pointed at grpc-server (the service's VIP) instead of tasks.grpc-server", () => {
  test('sees one host, the VIP, and the calls of one connection through it all go to one task', async () => {
    await stack.scale('grpc-server', 3);
    await stack.waitForEnvoy(admin, 3);
    const base = readFileSync(envoyYamlPath, 'utf8');
    const vip = await stack.virtualIp('grpc-server');
    const atVip = await stack.addEnvoy(
      'envoy-vip',
      deriveSwarmEnvoyConfig(base, { replicasName: 'grpc-server', replicasReason: "The service's virtual IP: one address." }),
    );
    const hosts = await pollUntil('the VIP Envoy to resolve grpc-server', async () => {
      const found = await clusterHosts(atVip.adminUrl, CLUSTER_NAME);
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250 });
    // Where the stack's Envoy sees every task, this one sees a single address: it cannot balance what it cannot see.
    expect(hosts.map((host) => host.address)).toEqual([`${vip}:8080`]);

    // Does the VIP route? Swarm implements it with the kernel's IPVS; Envoy's own health checks tell.
    const routes = await pollUntil('a verdict from health checks of the VIP', async () => {
      const success = await clusterStat(atVip.adminUrl, CLUSTER_NAME, 'health_check.success');
      const failure = await clusterStat(atVip.adminUrl, CLUSTER_NAME, 'health_check.failure');
      if (success > 0) return 'routes';
      return failure >= 3 ? 'no route' : undefined;
    }, { timeoutMs: 30_000, intervalMs: 250 });

    let pinned = atVip;
    let through = `the VIP ${vip}`;
    if (routes === 'no route') {
      // No IPVS in this kernel (no module support here): the VIP leads nowhere. The same lesson, measured through
      // what IPVS is, a per-connection balancer over the tasks, in the VIP's place.
      say(`the VIP ${vip} does not route on this kernel (no IPVS): measuring through an L4 balancer in its place`);
      await stack.addL4Balancer('l4', readFileSync(path.join(projectRoot, 'test/fixtures/swarm/l4-balancer.yaml'), 'utf8'));
      pinned = await stack.addEnvoy(
        'envoy-l4',
        deriveSwarmEnvoyConfig(base, { replicasName: 'l4', replicasReason: 'A per-connection balancer, as the VIP is.' }),
      );
      through = 'a per-connection L4 balancer (in place of the VIP)';
    }
    await pollUntil('the single-address Envoy to see its one host healthy', async () => {
      const found = await clusterHosts(pinned.adminUrl, CLUSTER_NAME);
      return found.length === 1 && found[0]!.healthy;
    }, { timeoutMs: 60_000, intervalMs: 250 });

    const calls = 90;
    const viaSingle = await runLoad({ target: pinned.target, count: calls, concurrency: 1 });
    const viaTasks = await runLoad({ target: stack.target, count: calls, concurrency: 1 });
    expect(viaSingle.failed, JSON.stringify(viaSingle.failedByCode)).toBe(0);
    expect(viaTasks.failed, JSON.stringify(viaTasks.failedByCode)).toBe(0);
    const single = sharesOf(viaSingle);
    const spread = sharesOf(viaTasks);
    say(`${calls} calls on one connection through Envoy -> ${through}: ${shareLine(single, calls)}`);
    say(`${calls} calls on one connection through Envoy -> tasks.grpc-server: ${shareLine(spread, calls)}`);
    // Pinned: one connection from Envoy to that one address, and the L4 hop sends all of it to one task.
    expect(Math.max(...single.values()) / calls).toBeGreaterThanOrEqual(0.99);
    // Spread: Envoy balances every call over the 3 tasks it sees.
    expect(spread.size).toBe(3);
    for (const count of spread.values()) expect(Math.abs(count - calls / 3) / (calls / 3)).toBeLessThanOrEqual(0.05);
  }, 3 * 60_000);
});
