// Polling against push, and a proxy against none, on the same replicas under the same load. Three rounds:
//   dns       — Envoy's STRICT_DNS cluster (envoy.yaml as is): it asks DNS every second;
//   xds       — Envoy's cluster over EDS: the control plane pushes a replica the moment it listens or goes;
//   proxyless — no Envoy: the load generator's own grpc-js channel dials xds:///grpc-server through the same
//               control plane and balances over the replicas itself.
// Each round scales 3 → 4 under load (when does the new replica get its first call?) and SIGKILLs one replica (when
// did anyone last route a call to it, and did a caller see a failure?), and reads the control plane's own cost.
import type { SettledCall } from '../../client/src/index.js';
import type { Discovery } from '../stack/index.js';
import type { Experiment } from './experiment.js';
import { CUT_REPLY, type Trial } from './trial.js';

type Round = 'dns' | 'xds' | 'proxyless';
const ROUNDS: readonly Round[] = ['dns', 'xds', 'proxyless'];
const FIRST_CALL_LIMIT_MS = 15_000;
const QUIET_MS = 300;
// envoy.yaml's dns_refresh_rate: push must bring a new replica its first call well inside one refresh.
const DNS_REFRESH_MS = 1000;
const PUSH_FIRST_CALL_BOUND_MS = DNS_REFRESH_MS / 2;
const KILL_OUT_BOUND_MS = 3000;

interface RoundResult {
  /** The slowest of the scale-ups (a replica that never got a call: undefined). */
  readyToFirstCallMs: number | undefined;
  /** Every scale-up's, in order. */
  samplesMs: (number | undefined)[];
  deathToLastRoutedMs: number | undefined;
  failed: number;
  /** Of the failed, replies the kill cut mid-write (CUT_REPLY): at most one, which no proxy can retry. */
  cutReplies: number;
  sent: number;
  /** Discovery updates Envoy applied (cluster.grpc_server.update_attempt: DNS refreshes, or EDS pushes). */
  envoyUpdates: number | undefined;
  controlPlaneCpuMs: number;
  controlPlaneBusyMs: number;
  controlPlanePushes: number;
}

export const discoveryExperiment: Experiment = {
  name: 'discovery',
  title: 'Discovery: DNS polling vs xDS push vs proxyless gRPC, on scale-up and SIGKILL',
  teaches:
    'STRICT_DNS polls: a new replica waits for the next refresh. A control plane pushes the endpoint list the moment ' +
    'it changes, to Envoy (EDS) or straight to proxyless gRPC clients, so a new replica gets calls within ' +
    'milliseconds of listening. Envoy in the middle still retries what a killed replica dropped; a proxyless client ' +
    'retries by the routes the control plane sent it. The control plane costs milliseconds of work per change.',
  async run(t) {
    const startedWith = await t.driver.discovery();
    const results = new Map<Round, RoundResult>();
    try {
      for (const round of ROUNDS) results.set(round, await runRound(t, round));
    } finally {
      t.step(`discovery back to ${startedWith}`);
      await t.driver.setDiscovery(startedWith);
    }
    const dns = results.get('dns');
    const xds = results.get('xds');
    const proxyless = results.get('proxyless');
    for (const [round, result] of [['xds', xds], ['dns', dns]] as const) {
      t.figure(`${round}: ${CUT_REPLY.figure}`, result?.cutReplies, 'calls');
      t.exactly(`${round}: failed calls, apart from those`, result === undefined ? undefined : result.failed - result.cutReplies, 0, 'calls');
    }
    t.atMost('xds: new replica ready → first call', xds?.readyToFirstCallMs, PUSH_FIRST_CALL_BOUND_MS, 'ms');
    t.atMost('proxyless: new replica ready → first call', proxyless?.readyToFirstCallMs, PUSH_FIRST_CALL_BOUND_MS, 'ms');
    t.atMost('xds: killed replica → last call Envoy routed to it', xds?.deathToLastRoutedMs, KILL_OUT_BOUND_MS, 'ms');
    t.figure('dns: new replica ready → first call', dns?.readyToFirstCallMs, 'ms');
    t.figure('dns: killed replica → last call Envoy routed to it', dns?.deathToLastRoutedMs, 'ms');
    t.figure('proxyless: failed calls', proxyless?.failed, 'calls');
    for (const [round, result] of results) {
      t.figure(`${round}: discovery updates Envoy ran`, result.envoyUpdates, '');
      t.figure(`${round}: control plane pushes`, result.controlPlanePushes, '');
      t.figure(`${round}: control plane busy`, result.controlPlaneBusyMs, 'ms');
      t.figure(`${round}: CPU of the control plane's process`, result.controlPlaneCpuMs, 'ms');
      if (result.samplesMs.length > 1) t.note(`${round}: ready → first call per scale-up: ${result.samplesMs.map((v) => (v === undefined ? 'never' : `${Math.round(v)} ms`)).join(', ')}`);
    }
    t.chart('New replica: from listening to its first call (slowest scale-up)', 'ms', ROUNDS.map((r) => ({ label: r, value: results.get(r)?.readyToFirstCallMs ?? 0 })));
    t.chart('Killed replica: from SIGKILL to the last call routed to it (Envoy rounds)', 'ms', [
      { label: 'dns', value: dns?.deathToLastRoutedMs ?? 0 },
      { label: 'xds', value: xds?.deathToLastRoutedMs ?? 0 },
    ]);
    t.chart('Calls that failed, per round', 'calls', ROUNDS.map((r) => ({ label: r, value: results.get(r)?.failed ?? 0 })));
    t.note(
      'proxyless has no "last call routed" figure: no proxy counts calls per replica, and grpc-js drops a killed ' +
        "replica's connection the moment the kernel closes it; its failed calls say what the kill cost.",
    );
  },
};

async function runRound(t: Trial, round: Round): Promise<RoundResult> {
  const rate = t.pick(50, 100);
  const envoyDiscovery: Discovery = round === 'dns' ? 'dns' : 'xds';
  t.step(`${round}: Envoy discovers by ${envoyDiscovery}${round === 'proxyless' ? ' (unused: the client dials xds:///grpc-server itself)' : ''}`);
  await t.driver.setDiscovery(envoyDiscovery);
  await t.driver.scale(3);
  await t.waitHealthy(3);
  const calls: SettledCall[] = [];
  const shape = round === 'proxyless' ? { target: 'xds:///grpc-server', xdsBootstrap: await t.driver.xdsBootstrap('lab-discovery-proxyless') } : {};
  const load = t.startLoad({ rate, ...shape }, (call) => calls.push(call));
  // Warm: a proxyless channel first resolves through the control plane; failures are counted from here on.
  await firstAnswered(calls, () => true, FIRST_CALL_LIMIT_MS);
  const countedFrom = Date.now();
  const costBefore = await t.driver.xdsCost();
  const updates = await t.counting('update_attempt');
  const watch = t.watchEnvoy();

  const scaleUps = t.pick(1, 5);
  t.step(`${round}: ${rate} calls/s; scaling 3 → 4 → 3 ${scaleUps === 1 ? 'once' : `${scaleUps} times`} (the newest drains on the way back)`);
  const samplesMs: (number | undefined)[] = [];
  let newest: Awaited<ReturnType<Trial['replicas']>>[number] | undefined;
  for (let i = 0; i < scaleUps; i += 1) {
    const before = new Set((await t.replicas()).map((r) => r.name));
    const from = calls.length; // The same name comes back on every scale-up: only calls from now on count.
    await t.driver.scale(4);
    newest = (await t.replicas()).find((r) => !before.has(r.name));
    const added = newest;
    const firstCall = added ? await firstAnswered(calls, (c) => c.result.ok && c.result.hostname === added.name, FIRST_CALL_LIMIT_MS, from) : undefined;
    const readyAt = added ? await t.driver.readyAt(added.name) : undefined;
    samplesMs.push(firstCall === undefined || readyAt === undefined ? undefined : Math.max(0, firstCall - readyAt));
    if (i < scaleUps - 1) await t.driver.scale(3);
  }

  // The newest dies: scaling in takes the highest-numbered replica too, so every round adds and removes the same one.
  const victim = newest ?? (await t.replica(4));
  t.step(`${round}: SIGKILL ${victim.name} under the same load`);
  const killedAt = Date.now();
  const killedMs = watch.now();
  await t.driver.kill(victim.name);
  const lastRouted = round === 'proxyless' ? undefined : await watch.lastRouted(victim.host, QUIET_MS, 10_000, killedMs);
  await t.window(t.pick(0.5, 2));
  await load.stop();
  const costAfter = await t.driver.xdsCost();
  const counted = calls.filter((c) => c.startedAt.getTime() >= countedFrom);
  const failed = counted.filter((c) => !c.result.ok);
  if (failed.length > 0) t.note(`${round}: failed calls: ${[...new Set(failed.map((c) => (c.result.ok ? '' : c.result.codeName)))].join(', ')}`);
  const result: RoundResult = {
    readyToFirstCallMs: samplesMs.some((v) => v === undefined) ? undefined : Math.max(...(samplesMs as number[])),
    samplesMs,
    deathToLastRoutedMs: lastRouted === undefined ? undefined : Math.max(0, watch.epochMs(lastRouted) - killedAt),
    failed: failed.length,
    cutReplies: Math.min(1, failed.filter((c) => !c.result.ok && CUT_REPLY.matches(c.result)).length),
    sent: counted.length,
    envoyUpdates: round === 'proxyless' ? undefined : await updates.since(),
    controlPlaneCpuMs: Math.round(costAfter.cpuMs - costBefore.cpuMs),
    controlPlaneBusyMs: Math.round((costAfter.busyMs - costBefore.busyMs) * 10) / 10,
    controlPlanePushes: costAfter.pushes - costBefore.pushes,
  };
  await t.driver.scale(3);
  return result;
}

/** When (epoch ms, the answer's arrival) the first recorded call matching `match` settled; waits up to limitMs. */
async function firstAnswered(calls: SettledCall[], match: (call: SettledCall) => boolean, limitMs: number, from = 0): Promise<number | undefined> {
  const deadline = Date.now() + limitMs;
  for (let seen = from; ; ) {
    for (; seen < calls.length; seen += 1) {
      const call = calls[seen] as SettledCall;
      if (call.result.ok && match(call)) return call.startedAt.getTime() + call.result.latencyMs;
    }
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
