// The perf bench's measurement: the same load through Envoy and straight to the replicas, phase after phase, with
// the kernel's CPU account of every process read before and after each phase. Routes and clients alternate within
// a repeat, so a pair of figures to compare is always taken minutes, not hours, apart on a shared machine.
import { runLoad } from '../../../client/src/index.js';
import type { Client, Phase, PathFigures, Route } from './figures.js';
import { runGhz } from './ghz.js';
import { cpuMsOf } from './proc-usage.js';
import type { SystemUnderTest } from './system-under-test.js';

export interface PerfPlan {
  concurrency: number;
  rates: number[];
  durationS: number;
  repeats: number;
  /** Where ghz is; undefined: the load generator alone. */
  ghz?: string;
  /**
   * Also run the full-speed Envoy phase with the access log keeping this share of OK calls (set live through the
   * admin's runtime, then set back), so the log's cost is measured on the same processes, minutes apart.
   */
  accessLogOkVs?: number;
  /** The share npm start was started with (what the standard phases run). */
  accessLogOk: number;
  /** Worker threads of the load generator (runLoad's `workers`): 1 runs it on this thread alone. */
  loadWorkers: number;
}

/** The variant name of the phases run with the access log at `percent`. */
export const accessLogVariant = (percent: number): string => `access log ${percent} %`;

/** Runs every phase of every repeat; `say` gets one line per phase. */
export async function measure(sut: SystemUnderTest, plan: PerfPlan, say: (line: string) => void): Promise<Phase[]> {
  const clients: Client[] = plan.ghz ? ['load', 'ghz'] : ['load'];
  // A short closed-loop warm-up on each route: the first calls open connections and warm the JIT.
  for (const route of ['envoy', 'direct'] as const) await runClient(sut, plan, 'load', route, null, Math.min(2, plan.durationS));
  const phases: Phase[] = [];
  for (let repeat = 1; repeat <= plan.repeats; repeat += 1) {
    for (const rate of [null, ...plan.rates]) {
      for (const client of clients) {
        for (const route of ['envoy', 'direct'] as const) {
          const phase = await measurePhase(sut, plan, repeat, client, route, rate);
          phases.push(phase);
          const latency = phase.figures.latencyMs ? `, p50 ${phase.figures.latencyMs.p50.toFixed(2)} ms, p99 ${phase.figures.latencyMs.p99.toFixed(2)} ms` : '';
          say(`#${repeat} ${client} ${route} ${rate === null ? `max (c=${plan.concurrency})` : `${rate}/s`}: ${Math.round(phase.figures.callsPerS)} calls/s${latency}, ${phase.figures.failedCalls} failed`);
        }
      }
    }
    if (plan.accessLogOkVs !== undefined) {
      // The same full-speed phase through Envoy, its access log changed live: the pair to compare with the one above.
      await sut.setAccessLogOkPercent(plan.accessLogOkVs);
      const phase = { ...(await measurePhase(sut, plan, repeat, 'load', 'envoy', null)), variant: accessLogVariant(plan.accessLogOkVs) };
      await sut.setAccessLogOkPercent(plan.accessLogOk);
      phases.push(phase);
      say(`#${repeat} load envoy max, ${phase.variant}: ${Math.round(phase.figures.callsPerS)} calls/s, ${phase.figures.failedCalls} failed`);
    }
  }
  return phases;
}

async function measurePhase(sut: SystemUnderTest, plan: PerfPlan, repeat: number, client: Client, route: Route, rate: number | null): Promise<Phase> {
  const before = cpuByRole(sut);
  const figures = await runClient(sut, plan, client, route, rate, plan.durationS);
  const after = cpuByRole(sut);
  return {
    repeat,
    client,
    route,
    rate,
    figures,
    cpuMs: { envoy: after.envoy - before.envoy, replicas: after.replica - before.replica, supervisor: after.supervisor - before.supervisor },
  };
}

function runClient(sut: SystemUnderTest, plan: PerfPlan, client: Client, route: Route, rate: number | null, durationS: number): Promise<PathFigures> {
  if (client === 'ghz') {
    if (!plan.ghz) throw new Error('ghz is not available');
    const targets = route === 'envoy' ? [sut.envoyTarget] : sut.replicaAddresses;
    return runGhz(plan.ghz, { targets, concurrency: plan.concurrency, rate, durationS });
  }
  return runLoadGenerator(route === 'envoy' ? sut.envoyTarget : `ipv4:${sut.replicaAddresses.join(',')}`, plan.concurrency, rate, durationS, plan.loadWorkers);
}

/** The kit's own load generator, in this process (and its worker threads), one channel per thread (round robin over the replicas on the direct route). */
async function runLoadGenerator(target: string, concurrency: number, rate: number | null, durationS: number, workers: number): Promise<PathFigures> {
  // The whole process's CPU: with workers > 1 that includes every worker thread.
  const cpuBefore = process.cpuUsage();
  const report = await runLoad({ target, concurrency, ...(rate === null ? {} : { rate }), durationS, balancing: 'round_robin', name: 'bench', workers });
  const cpu = process.cpuUsage(cpuBefore);
  const latency = report.latencyMs.ok;
  return {
    okCalls: report.ok,
    failedCalls: report.failed,
    callsPerS: report.throughput.okPerS,
    latencyMs: latency ? { p50: latency.p50, p99: latency.p99, p99_9: latency.p99_9 } : null,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    hosts: Object.fromEntries(report.hosts.map((h) => [h.hostname, h.count])),
  };
}

/** CPU ms so far of Envoy, all replicas together and npm start. */
function cpuByRole(sut: SystemUnderTest): Record<'envoy' | 'replica' | 'supervisor', number> {
  const sums = { envoy: 0, replica: 0, supervisor: 0 };
  for (const p of sut.processes) sums[p.role] += cpuMsOf(p.pid) ?? 0;
  return sums;
}
