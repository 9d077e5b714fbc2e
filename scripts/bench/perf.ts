// `npm run bench:perf`: what the Envoy hop costs, measured side by side in one run on this machine. `npm start`
// (3 replicas, no worker client) is started on free ports; the same calls then go through Envoy and straight to
// the replicas (client-side round robin, the fair direct path), at full speed and at fixed rates (open loop), from
// the kit's load generator and, when it is installed, ghz. CPU is the kernel's account of each process. Ratios
// are what it judges: a shared machine makes absolute times noisy, pairs taken a minute apart much less so.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { commandLine, integerIn, messageOf } from '../cli/command-line.js';
import { requireEnvoy, projectRoot } from '../envoy/index.js';
import { findGhz } from './perf/ghz.js';
import { measure } from './perf/perf-run.js';
import { summarise } from './perf/perf-summary.js';
import { htmlOf, markdownOf, type PerfResult } from './perf/perf-report.js';
import { loadAverage, rssMbOf } from './perf/proc-usage.js';
import { SystemUnderTest } from './perf/system-under-test.js';
import { measureScale } from './perf/scale-run.js';
import { scaleHtmlOf, scaleMarkdownOf } from './perf/scale-report.js';

const PROGRAM = 'bench:perf';
const program = commandLine(PROGRAM)
  .description('Measure what the Envoy hop costs: Envoy vs straight to the replicas, side by side, in one run.')
  .option('--replicas <n>', 'replicas under npm start', integerIn(1, 50, '--replicas'), 3)
  .option('--concurrency <n>', 'calls in flight at full speed (and the cap at fixed rates)', integerIn(1, 1000, '--concurrency'), 50)
  .option('--rates <list>', 'fixed rates, calls/s, comma-separated (open loop)', (value: string) => {
    const rates = value.split(',').map((r) => Number(r.trim()));
    if (rates.some((r) => !Number.isInteger(r) || r < 1 || r > 20_000)) throw new InvalidArgumentError(`--rates must be integers from 1 to 20000, got "${value}"`);
    return rates;
  }, [200, 500, 1000, 2000])
  .option('--duration <s>', 'seconds of each phase', integerIn(1, 120, '--duration'), 5)
  .option('--repeats <n>', 'repeats of every phase (medians and min–max are reported)', integerIn(1, 20, '--repeats'), 3)
  .option('--quick', 'one repeat of 1 s phases at 500 calls/s (what the tests run)')
  .option('--access-log-ok <percent>', "npm start --access-log-ok: share of OK calls in Envoy's access log", integerIn(0, 100, '--access-log-ok'), 100)
  .option('--access-log-ok-vs <percent>', 'also measure Envoy at full speed with the access log at this share of OK calls (set live, paired)', integerIn(0, 100, '--access-log-ok-vs'))
  .option('--envoy-workers <n>', "npm start --envoy-workers: Envoy's worker threads", integerIn(1, 16, '--envoy-workers'), 2)
  .option('--load-workers <n>', "the load generator's worker threads (npm run load --workers)", integerIn(1, 16, '--load-workers'), 1)
  .option('--scale <counts>', 'instead: start npm start with each count of replicas (e.g. 1,10,25,50), time it and weigh it', (value: string) => {
    const counts = value.split(',').map((c) => Number(c.trim()));
    if (counts.some((c) => !Number.isInteger(c) || c < 1 || c > 50)) throw new InvalidArgumentError(`--scale must be replica counts from 1 to 50, got "${value}"`);
    return counts;
  })
  .option('--no-ghz', 'leave ghz out even when it is installed')
  .option('--out <dir>', 'where perf.md, perf.json and perf.html go', path.join(projectRoot, '.lab', 'perf'));
program.parse();
const options = program.opts<{ replicas: number; concurrency: number; rates: number[]; duration: number; repeats: number; quick?: boolean; accessLogOk: number; accessLogOkVs?: number; envoyWorkers: number; loadWorkers: number; scale?: number[]; ghz: boolean; out: string }>();
const say = (line: string): void => console.log(`${PROGRAM}: ${line}`);
const plan = options.quick
  ? { concurrency: options.concurrency, rates: [500], durationS: 1, repeats: 1 }
  : { concurrency: options.concurrency, rates: options.rates, durationS: options.duration, repeats: options.repeats };

let envoyVersion: string;
try {
  envoyVersion = (await requireEnvoy(say)).version;
} catch (error) {
  console.error(`${PROGRAM}: ${messageOf(error)}`);
  process.exit(1);
}
const startArgs = ['--access-log-ok', String(options.accessLogOk), '--envoy-workers', String(options.envoyWorkers)];
if (options.scale) {
  const loadAtStart = loadAverage();
  const steps = await measureScale(options.scale, startArgs, say).catch((error: unknown) => {
    console.error(`${PROGRAM}: ${messageOf(error)}`);
    process.exit(1);
  });
  const cpu = cpus();
  const heading = `npm run bench:perf -- ${process.argv.slice(2).join(' ')}, ${new Date().toISOString()}: ${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, Envoy ${envoyVersion}; load average ${loadAtStart.join(' ')} before, ${loadAverage().join(' ')} after`;
  mkdirSync(options.out, { recursive: true });
  writeFileSync(path.join(options.out, 'scale.json'), `${JSON.stringify({ heading, steps }, null, 2)}\n`);
  writeFileSync(path.join(options.out, 'scale.md'), `${scaleMarkdownOf(steps)}\n`);
  writeFileSync(path.join(options.out, 'scale.html'), scaleHtmlOf(steps, heading));
  console.log(`\n${scaleMarkdownOf(steps)}\n`);
  say(heading);
  say(`written: ${path.relative(process.cwd(), options.out)}/scale.{md,json,html}`);
  process.exit(0);
}
const ghz = options.ghz ? findGhz() : undefined;
if (!ghz) say(options.ghz ? 'ghz not found (npm run setup:ghz installs it into .tools/bin): the load generator alone, no reference client' : 'ghz left out (--no-ghz)');

const loadBefore = loadAverage();
say(`starting npm start with ${options.replicas} replicas (load average ${loadBefore.join(' ')})`);
const sut = await SystemUnderTest.start(options.replicas, startArgs).catch((error: unknown) => {
  console.error(`${PROGRAM}: ${messageOf(error)}`);
  process.exit(1);
});
let result: PerfResult;
try {
  say(`ready in ${(sut.startMs / 1000).toFixed(1)} s; Envoy at ${sut.envoyTarget}, replicas at ${sut.replicaAddresses.join(', ')}`);
  const idle = new Map(sut.processes.map((p) => [p.name, rssMbOf(p.pid) ?? Number.NaN]));
  const phases = await measure(
    sut,
    { ...plan, accessLogOk: options.accessLogOk, loadWorkers: options.loadWorkers, ...(options.accessLogOkVs === undefined ? {} : { accessLogOkVs: options.accessLogOkVs }), ...(ghz ? { ghz } : {}) },
    say,
  );
  const memoryMb = sut.processes.map((p) => ({ name: p.name, idle: idle.get(p.name) ?? Number.NaN, afterLoad: rssMbOf(p.pid) ?? Number.NaN }));
  memoryMb.push({ name: 'load client (this process)', idle: Number.NaN, afterLoad: process.memoryUsage.rss() / 2 ** 20 });
  const cpu = cpus();
  result = {
    command: `npm run bench:perf -- ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: `${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, Envoy ${envoyVersion}, ${process.platform}`,
    loadAverage: { before: loadBefore, after: loadAverage() },
    replicas: options.replicas,
    startMs: sut.startMs,
    ghz: ghz ?? null,
    memoryMb,
    rows: summarise(phases, plan.rates, options.replicas),
  };
  mkdirSync(options.out, { recursive: true });
  writeFileSync(path.join(options.out, 'perf.json'), `${JSON.stringify({ ...result, phases }, null, 2)}\n`);
} finally {
  await sut.stop();
}
const markdown = markdownOf(result);
writeFileSync(path.join(options.out, 'perf.md'), `${markdown}\n`);
writeFileSync(path.join(options.out, 'perf.html'), htmlOf(result));
console.log(`\n${markdown}\n`);
say(`machine: ${result.machine}; load average ${result.loadAverage.before.join(' ')} before, ${result.loadAverage.after.join(' ')} after`);
say(`written: ${path.relative(process.cwd(), options.out)}/perf.{md,json,html}`);
