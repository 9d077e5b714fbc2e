// `npm run bench`: measures the bounds the README states, on this machine, with a real Envoy and real replica
// processes on loopback. Each scenario runs --runs times on a fresh stack under steady load (50 calls/s); the
// report gives min / median / max per figure and every failed call. Bounded: a few seconds per run.
import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { integerIn, oneLineError } from '../cli/command-line.js';
import { requireEnvoy } from '../envoy/envoy-binary.js';
import { projectRoot } from '../envoy/project-paths.js';
import { LocalStack } from '../local/local-stack.js';
import { CallLoop } from './call-loop.js';
import {
  drainReplica,
  ejectFlakyReplica,
  flipHealth,
  hangReplica,
  killReplica,
  scaleIn,
  scaleOut,
  type ScenarioContext,
} from './fault-scenarios.js';

const program = new Command()
  .name('npm run bench --')
  .description('Measure discovery, health, failover, ejection and drain bounds with a real Envoy.')
  .option('--runs <n>', 'runs per scenario', integerIn(1, 50, '--runs'), 5)
  .configureOutput({ outputError: (message, write) => write(oneLineError('bench', message)) })
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
program.parse();
const { runs } = program.opts<{ runs: number }>();

type Figures = Record<string, number>;
const results = new Map<string, Figures[]>();

function record(scenario: string, figures: Figures): void {
  results.set(scenario, [...(results.get(scenario) ?? []), figures]);
  const text = Object.entries(figures).map(([k, v]) => `${k}=${Math.round(v)}`).join(' ');
  console.log(`bench: ${scenario} ${text}`);
}

const envoy = await requireEnvoy((line) => console.log(`bench: ${line}`));
let prefixCounter = 0;

/** Starts a fresh stack and a 50 calls/s load, runs `body`, and always tears both down. */
async function withStack(replicas: number, body: (ctx: ScenarioContext) => Promise<void>, serverEnv: Record<string, string> = {}) {
  prefixCounter += 1;
  const stack = new LocalStack({
    envoyBinary: envoy.path,
    replicas,
    replicaAddressPrefix: `127.201.${prefixCounter % 250}`,
    serverEnv: { LOG_FORMAT: 'text', ...serverEnv },
  });
  const startedAt = performance.now();
  try {
    await stack.start();
    await stack.waitForHealthy(replicas, 30_000);
    record(`startup (${replicas} replicas, to all healthy in Envoy)`, { ms: performance.now() - startedAt });
    const loop = new CallLoop(stack.envoyTarget, { intervalMs: 20 });
    try {
      await body({ stack, loop });
    } finally {
      await loop.stop();
    }
  } finally {
    await stack.stop();
  }
}

for (let run = 0; run < runs; run += 1) {
  await withStack(2, async (ctx) => {
    const out = await scaleOut(ctx, 4);
    const inward = await scaleIn(ctx, 2);
    record('scale 2->4->2', { discoveryMs: out.discoveryMs, scaleInRemovalMs: inward.removalMs, failedCalls: ctx.loop.failures.length });
  }, { DRAIN_DELAY_MS: '2500', SHUTDOWN_TIMEOUT_MS: '2000' });
  await withStack(3, async (ctx) => {
    const kill = await killReplica(ctx, 'grpc-server-2');
    record('SIGKILL one of 3', { removalMs: kill.removalMs, retries: kill.retries, failedCalls: ctx.loop.failures.length });
  });
  await withStack(3, async (ctx) => {
    const health = await flipHealth(ctx, 'grpc-server-3');
    record('NOT_SERVING and back', {
      unhealthyMs: health.unhealthyMs,
      callsWhileUnhealthy: health.callsWhileUnhealthy,
      healthyAgainMs: health.healthyAgainMs,
      failedCalls: ctx.loop.failures.length,
    });
  });
  // A fresh stack: right after a replica returns to healthy, an ejection can take about a second to reach
  // routing (seen on Envoy 1.40), which would blur this figure.
  await withStack(3, async (ctx) => {
    const ejection = await ejectFlakyReplica(ctx, 'grpc-server-1', 0.9);
    record('90% UNAVAILABLE', {
      ejectionMs: ejection.ejectionMs,
      retries: ejection.retries,
      requestsWhileEjected: ejection.requestsWhileEjected,
      failedCalls: ctx.loop.failures.length,
    });
  });
  await withStack(3, async (ctx) => {
    const hang = await hangReplica(ctx, 'grpc-server-2');
    record('SIGSTOP one of 3', {
      outOfRotationMs: hang.outOfRotationMs,
      slowestCallMs: hang.slowestCallMs,
      perTryTimeouts: hang.perTryTimeouts,
      failedCalls: ctx.loop.failures.length,
    });
  });
  await withStack(3, async (ctx) => {
    await ctx.stack.control('grpc-server-2').update({ latencyMs: 50 });
    const drain = await drainReplica(ctx, 'grpc-server-2', 10_000);
    record('SIGTERM drain (3 s + 5 s)', { exitMs: drain.exitMs, lastAnsweredAfterMs: drain.lastAnsweredAfterMs, failedCalls: ctx.loop.failures.length });
  }, { DRAIN_DELAY_MS: '3000', SHUTDOWN_TIMEOUT_MS: '5000' });
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, Envoy ${envoy.version}, ${process.platform}`;
const lines = [`Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; ${runs} runs each, 50 calls/s steady load.`, ''];
lines.push('| scenario | figure | min | median | max |', '| --- | --- | ---: | ---: | ---: |');
for (const [scenario, rows] of results) {
  for (const figure of Object.keys(rows[0] ?? {})) {
    const values = rows.map((r) => r[figure] ?? 0).sort((a, b) => a - b);
    const median = values[Math.floor(values.length / 2)] ?? 0;
    lines.push(`| ${scenario} | ${figure} | ${Math.round(values[0] ?? 0)} | ${Math.round(median)} | ${Math.round(values.at(-1) ?? 0)} |`);
  }
}
const report = lines.join('\n');
const outDir = path.join(projectRoot, '.lab');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'bench-bounds.md'), `${report}\n`);
writeFileSync(path.join(outDir, 'bench-bounds.json'), `${JSON.stringify({ machine, runs, results: Object.fromEntries(results) }, null, 2)}\n`);
console.log(`\n${report}\n\nbench: written to .lab/bench-bounds.md and .lab/bench-bounds.json`);
