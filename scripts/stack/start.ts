// `npm start`: the whole system without Docker, in the foreground. N greeter replicas on 127.0.0.2, .3, ...,
// a loopback DNS responder standing in for Docker's DNS, a real Envoy configured from envoy.yaml, and the
// worker client. Ctrl-C (or SIGTERM) stops every child process. While it runs, lines typed on stdin change it
// live: `scale <n>` and `hosts` (Envoy's view of the replicas). With --prometheus, a real Prometheus scrapes it all.
import net from 'node:net';
import { createInterface } from 'node:readline';
import { InvalidArgumentError, Option } from 'commander';
import { commandLine, integerIn, messageOf } from '../cli/command-line.js';
import { requireEnvoy, type EnvoyBinary, projectRoot } from '../envoy/index.js';
import { requirePrometheus, type PrometheusBinary } from '../observability/index.js';
import { LocalStack, MAX_REPLICAS } from './local-stack.js';
import { COMPILED_CLIENT_ENTRY } from './compiled-entries.js';
import { LinePrinter } from './line-printer.js';
import { ManagedProcess, parentDeathSignalAvailable } from './managed-process.js';
import { StackControlApi } from './control-api.js';
import { readStateFile, removeStateFile, stateFilePath, writeStateFile, type StackStateFile } from './state-file.js';

const PROGRAM = 'npm start';
// Every line this process prints goes through one batching printer, so order is kept and lines cost little.
const printer = new LinePrinter();

const program = commandLine(PROGRAM)
  .description('Run the greeter replicas, a real Envoy and the worker client from local processes.')
  .option('--replicas <n>', 'greeter replicas to start', integerIn(1, MAX_REPLICAS, '--replicas'), 3)
  .option('--port <port>', "Envoy's gRPC listener on 127.0.0.1", integerIn(1, 65535, '--port'), 5000)
  .option('--admin-port <port>', "Envoy's admin on 127.0.0.1", integerIn(1, 65535, '--admin-port'), 9901)
  // 65534 at most: each replica's control API listens on the next port.
  .option('--server-port <port>', 'the port every replica binds on its own 127.0.0.N address (its control API: +1)', integerIn(1, 65534, '--server-port'), 8080)
  .option('--no-client', 'leave the worker client out (call Envoy yourself)')
  .option('--interval <ms>', "the worker client's call interval", integerIn(1, 3_600_000, '--interval'), 1000)
  .option('--envoy-log-level <level>', "Envoy's own log level (its access log is always on)", 'warning')
  .option('--envoy-workers <n>', "Envoy's worker threads (--concurrency); each keeps its own round robin", integerIn(1, 16, '--envoy-workers'), 2)
  .option('--access-log-ok <percent>', "share of OK calls in Envoy's access log (failed and retried calls: always)", integerIn(0, 100, '--access-log-ok'), 100)
  // LAB_PROMETHEUS=1 says the same: how `lab up --prometheus` asks the local system it starts for one.
  .addOption(new Option('--prometheus', "run Prometheus too (Debian's prometheus on PATH), scraping every replica and Envoy").env('LAB_PROMETHEUS'))
  .option('--prometheus-port <port>', "Prometheus's UI and API on 127.0.0.1", integerIn(1, 65535, '--prometheus-port'), 9090)
  // LAB_DISCOVERY says the same: how `lab up --discovery xds` asks the local system it starts.
  .addOption(
    new Option('--discovery <how>', 'how Envoy finds the replicas: dns (STRICT_DNS polling, envoy.yaml as is) or xds (EDS pushed by the control plane)')
      .argParser((value: string) => {
        if (value !== 'dns' && value !== 'xds') throw new InvalidArgumentError(`--discovery must be dns or xds, got "${value}"`);
        return value;
      })
      .default('dns')
      .env('LAB_DISCOVERY'),
  );

program.parse();
const options = program.opts<{
  replicas: number;
  port: number;
  adminPort: number;
  serverPort: number;
  client: boolean;
  interval: number;
  envoyLogLevel: string;
  accessLogOk: number;
  envoyWorkers: number;
  prometheus?: boolean;
  prometheusPort: number;
  discovery: 'dns' | 'xds';
}>();

const LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'error', 'critical', 'off'] as const;
type EnvoyLogLevel = (typeof LOG_LEVELS)[number];
if (!LOG_LEVELS.includes(options.envoyLogLevel as EnvoyLogLevel)) {
  fail(`--envoy-log-level must be one of ${LOG_LEVELS.join(', ')}, got "${options.envoyLogLevel}"`, 2);
}
// All three bind on 127.0.0.1 (Envoy) or beside it (replicas on 127.0.0.N, control API on the next port).
if (options.port === options.adminPort) fail(`--port and --admin-port must differ, both are ${options.port}`, 2);

function fail(message: string, code: number): never {
  printer.flush();
  console.error(`${PROGRAM}: ${message}`);
  process.exit(code);
}

function say(line: string): void {
  printer.print('start', line);
}

/** Fails with one line when a port is taken, instead of letting Envoy or a replica die with a bind error. */
async function assertPortFree(host: string, port: number, flag: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => fail(`${host}:${port} is already in use; choose another with ${flag}`, 1));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

const running = (() => {
  try {
    return readStateFile(stateFilePath());
  } catch (error) {
    return fail(messageOf(error), 1);
  }
})();
if (running) fail(`a local lab system already runs (pid ${running.pid}); stop it first, or set LAB_STATE_FILE for a second one`, 1);
await assertPortFree('127.0.0.1', options.port, '--port');
await assertPortFree('127.0.0.1', options.adminPort, '--admin-port');
for (let n = 1; n <= options.replicas; n += 1) await assertPortFree(`127.0.0.${n + 1}`, options.serverPort, '--server-port');
if (options.prometheus) await assertPortFree('127.0.0.1', options.prometheusPort, '--prometheus-port');

let prometheus: PrometheusBinary | undefined;
if (options.prometheus) {
  try {
    prometheus = await requirePrometheus();
  } catch (error) {
    fail(messageOf(error), 1);
  }
}

let envoy: EnvoyBinary;
try {
  envoy = await requireEnvoy((line) => say(line));
} catch (error) {
  fail(messageOf(error), 1);
}

const startedAt = Date.now();
const stack = new LocalStack({
  envoyBinary: envoy.path,
  replicas: options.replicas,
  listenerPort: options.port,
  adminPort: options.adminPort,
  replicaPort: options.serverPort,
  controlPort: options.serverPort + 1,
  metricsPort: options.serverPort + 2,
  ...(prometheus ? { prometheus: { binary: prometheus.prometheus, port: options.prometheusPort } } : {}),
  replicaAddressPrefix: '127.0.0',
  envoyLogLevel: options.envoyLogLevel as EnvoyLogLevel,
  discovery: options.discovery,
  accessLogOkPercent: options.accessLogOk,
  envoyConcurrency: options.envoyWorkers,
  // Prefix every line with its source, as `docker compose up` does.
  onLine: (source, line) => printer.print(source, line),
  // The state file names every child, so `lab down` can find leftovers should this process ever die unannounced.
  onProcesses: (pids) => {
    if (state) writeStateFile(stateFile, (state = { ...state, processes: pids }));
  },
});
let state: StackStateFile | undefined;

let client: ManagedProcess | undefined;
let controlApi: StackControlApi | undefined;
let stopping = false;
const stateFile = stateFilePath();

async function shutdown(reason: string, code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  say(`${reason}; stopping every process`);
  removeStateFile(stateFile, process.pid);
  await controlApi?.close();
  // The client first, so its final summary is printed while Envoy still runs.
  await client?.stop('SIGTERM', 5000);
  await stack.stop();
  say('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void shutdown('SIGINT', 0));
process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
// Output piped into a reader that went away (`npm start | head`): stop everything rather than die on EPIPE.
process.stdout.on('error', () => {
  if (!stopping) void shutdown('stdout closed', 0);
});
// The terminal closed: the system goes with it (`lab up` starts this in a session of its own, which no terminal hangs up).
process.on('SIGHUP', () => void shutdown('SIGHUP', 0));
if (!parentDeathSignalAvailable()) {
  say('note: no util-linux setpriv here, so a killed npm start (SIGKILL) would leave its processes running; `npm run lab -- down` finds them');
}
// Whatever ends this process, no child outlives it.
process.on('exit', () => {
  printer.flush();
  removeStateFile(stateFile, process.pid);
  client?.signal('SIGKILL');
  stack.killNow();
});

say(`Envoy ${envoy.version} (${envoy.source}), ${options.replicas} replicas on 127.0.0.2-${options.replicas + 1}:${options.serverPort}, discovery ${options.discovery}`);
if (prometheus) say(`Prometheus ${prometheus.version} (${prometheus.source}: ${prometheus.prometheus})`);
try {
  await stack.start();
  await stack.waitForHealthy(options.replicas, 30_000);
} catch (error) {
  await shutdown(`start-up failed: ${messageOf(error)}`, 1);
}
// `npm run lab -- <verb>` (local driver) finds this system through the state file and drives it over this API.
controlApi = new StackControlApi(stack);
state = { pid: process.pid, controlUrl: await controlApi.listen(), token: stack.controlToken, startedAt: new Date().toISOString(), processes: stack.pids() };
writeStateFile(stateFile, state);
const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
say(
  `ready in ${seconds}s: Envoy reports ${options.replicas}/${options.replicas} replicas healthy; ` +
    `gRPC ${stack.envoyTarget}, admin ${stack.adminUrl}/clusters, xDS ${stack.xdsAddress} (xds:///grpc-server)` +
    (stack.prometheusUrl ? `, Prometheus ${stack.prometheusUrl}/targets` : ''),
);

if (options.client) {
  client = new ManagedProcess(
    process.execPath,
    // Compiled, as in the image; LocalStack.start() has just built dist/ if it was missing or stale.
    ['--enable-source-maps', COMPILED_CLIENT_ENTRY, '--target', stack.envoyTarget, '--interval', String(options.interval)],
    { cwd: projectRoot, env: process.env, dieWithParent: true },
  );
  client.onLine((line) => printer.print('grpc-client', line));
  void client.exited.then((code) => {
    if (!stopping) void shutdown(`the client exited (${code})`, 1);
  });
}

/** Live commands typed on stdin, one per line: the Docker-free counterpart of `docker compose up --scale`. */
async function handleCommand(line: string): Promise<void> {
  const [verb, argument, ...rest] = line.split(/\s+/);
  if (verb === 'scale' && argument !== undefined && rest.length === 0) {
    const count = Number(argument);
    if (!/^\d+$/.test(argument) || count < 1 || count > MAX_REPLICAS) {
      say(`scale takes a replica count from 1 to ${MAX_REPLICAS}, got "${argument}"`);
      return;
    }
    const startedAt = Date.now();
    say(`scaling to ${count} replicas`);
    await stack.scale(count);
    await stack.waitForHealthy(count, 30_000);
    say(`ready: Envoy reports ${count}/${count} replicas healthy after ${((Date.now() - startedAt) / 1000).toFixed(1)}s`);
  } else if (verb === 'hosts' && argument === undefined) {
    const names = new Map(stack.replicas().map((r) => [`${r.address}:${r.port}`, r.name]));
    for (const host of await stack.hosts()) {
      say(`${(names.get(host.address) ?? '(gone)').padEnd(14)} ${host.address.padEnd(16)} ${host.healthFlags.join(',').padEnd(22)} rq_total=${host.stats.rq_total ?? 0}`);
    }
  } else if (verb !== '') {
    say(`unknown command "${line}"; type "scale <n>" or "hosts"`);
  }
}

let commands = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
  // One command at a time, in the order typed; a failed one is reported and the system keeps running.
  commands = commands
    .then(() => (stopping ? undefined : handleCommand(line.trim())))
    .catch((error: unknown) => say(`command failed: ${messageOf(error)}`));
});
