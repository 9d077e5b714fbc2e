// `npm run lab -- <verb>`: one command over both ways to run the system. The docker driver drives the Compose
// project, the local driver drives the Docker-free one (`npm start`); the verbs and their output are the same.
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { commandLine, integerIn } from '../cli/command-line.js';
import { LB_POLICIES, PolicyChoiceError, projectRoot, type LbPolicy } from '../envoy/index.js';
import { chooseDriver, type DriverChoice, LabError, LocalDriver, type LabDriver } from '../drivers/index.js';
import { formatEnvoyView, formatReplicaTable, sampleReplicaRows } from './replica-table.js';
import { EXPERIMENTS, formatExperimentHtml, formatExperimentText, runExperiment } from '../experiments/index.js';
import { formatScorecardHtml, formatScorecardText, runScorecard } from '../scorecard/index.js';
import { watch } from './watch.js';
import { reportFileFor, writeReportFile } from './report-file.js';
import { startDashboard } from './dashboard/server.js';
import { type FaultStateView, parseCodeArg, parseHealthArg, parseLatencyArg, parseRateArg, UsageError } from '../../server/src/index.js';
import { DISCOVERIES, MAX_REPLICAS, StateFileError, type Discovery } from '../stack/index.js';


const PROGRAM = 'lab';

function usage(parse: (raw: string) => unknown) {
  return (raw: string) => {
    try {
      return parse(raw);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof UsageError ? error.message : String(error));
    }
  };
}

function stateLine(state: FaultStateView): string {
  return `${state.replica}: health=${state.health} failRate=${state.failRate} failCode=${state.failCode} latencyMs=${state.latencyMs}`;
}

/** Builds the command tree; `run` gets the chosen driver for every verb. */
function buildProgram(run: (action: (driver: LabDriver) => Promise<void>) => Promise<void>): Command {
  const program = commandLine(PROGRAM)
    .description('Scale, break and inspect the greeter replicas behind Envoy, with Docker or local processes.')
    .option('--driver <driver>', 'docker or local (default: local while this checkout runs `npm start`, else docker when an engine answers)');

  program
    .command('up')
    .description('start the system (Compose, or local processes in the background)')
    .option('--replicas <n>', 'greeter replicas', integerIn(1, MAX_REPLICAS, '--replicas'), 3)
    .option('--port <port>', "Envoy's gRPC port on the host (default 5000)", integerIn(1, 65535, '--port'))
    .option('--admin-port <port>', "Envoy's admin on 127.0.0.1 (default 9901)", integerIn(1, 65535, '--admin-port'))
    .option('--server-port <port>', 'local processes: the port each replica binds on its 127.0.0.N (default 8080)', integerIn(1, 65534, '--server-port'))
    .option('--prometheus', 'with Prometheus (local: Debian\'s prometheus; docker: the observability profile, Grafana too)')
    .action((options: { replicas: number; port?: number; adminPort?: number; serverPort?: number; prometheus?: boolean }) =>
      run(async (driver) => {
        if (options.port !== undefined && options.port === options.adminPort) {
          throw new LabError(`--port and --admin-port must differ, both are ${options.port}`, 2);
        }
        // Both drivers take their environment from this process: Compose reads COMPOSE_PROFILES, the local system
        // `npm start` reads LAB_PROMETHEUS (its --prometheus). A system already up keeps what it runs.
        if (options.prometheus) {
          process.env.COMPOSE_PROFILES = 'observability';
          process.env.LAB_PROMETHEUS = '1';
        }
        await driver.up(options.replicas, {
          ...(options.port === undefined ? {} : { proxy: options.port }),
          ...(options.adminPort === undefined ? {} : { admin: options.adminPort }),
          ...(options.serverPort === undefined ? {} : { server: options.serverPort }),
        });
        console.log(`up: ${options.replicas} replicas; gRPC ${await driver.envoyTarget()}, admin ${await driver.adminUrl()}`);
        if (options.prometheus) console.log(`up: ${await observabilityLine(driver)}`);
      }),
    );
  program.command('down').description('stop and remove everything the lab started').action(() =>
    run(async (driver) => {
      // The profile named, so Prometheus and Grafana go too if `up --prometheus` started them (a plain `down` leaves them).
      process.env.COMPOSE_PROFILES = 'observability';
      console.log(await driver.down());
    }),
  );
  program
    .command('scale')
    .argument('<n>', 'replicas', integerIn(1, MAX_REPLICAS, 'the replica count'))
    .description('set the number of greeter replicas')
    .action((count: number) =>
      run(async (driver) => {
        await driver.scale(count);
        console.log(`scaled to ${count} replicas`);
      }),
    );
  program
    .command('ps')
    .description("replicas with Envoy's health, active requests and share of recent traffic")
    .option('--sample <ms>', 'how long to measure traffic (3 s: three calls of the 1-a-second worker client)', integerIn(100, 60_000, '--sample'), 3000)
    .action((options: { sample: number }) =>
      run(async (driver) => {
        const envoy = await driver.envoyProcess();
        console.log(`envoy: ${envoy.state}, restarted ${envoy.restarts} time${envoy.restarts === 1 ? '' : 's'} after dying`);
        const rows = await sampleReplicaRows(await driver.replicas(), await driver.adminUrl(), options.sample);
        console.log(formatReplicaTable(rows, await driver.policy(), options.sample));
      }),
    );
  const signalVerbs: [string, string, (driver: LabDriver, name: string) => Promise<void>][] = [
    ['kill', 'SIGKILL one replica', (d, n) => d.kill(n)],
    ['stop', 'stop one replica gracefully (SIGTERM, drain) and wait for it', (d, n) => d.stop(n)],
    ['pause', 'freeze one replica (a hung process: connections open, no answers)', (d, n) => d.pause(n)],
    ['resume', 'unfreeze a paused replica', (d, n) => d.resume(n)],
  ];
  for (const [verb, description, act] of signalVerbs) {
    program
      .command(verb)
      .argument('<replica>', 'e.g. grpc-server-2')
      .description(description)
      .action((name: string) =>
        run(async (driver) => {
          await act(driver, name);
          console.log(`${verb}: ${name}`);
        }),
      );
  }
  program
    .command('health')
    .argument('<replica>')
    .argument('<status>', 'serving or not-serving', usage(parseHealthArg))
    .description("set one replica's gRPC health")
    .action((name: string, health: 'SERVING' | 'NOT_SERVING') => run(async (driver) => console.log(stateLine(await driver.setFaults(name, { health })))));
  program
    .command('fail')
    .argument('<replica>')
    .argument('<rate>', 'share of calls to fail, 0-1', usage(parseRateArg))
    .option('--code <status>', 'gRPC status of the failures', usage(parseCodeArg), 'UNAVAILABLE')
    .description('make one replica fail a share of its calls')
    .action((name: string, failRate: number, options: { code: string }) =>
      run(async (driver) => console.log(stateLine(await driver.setFaults(name, { failRate, failCode: options.code })))),
    );
  program
    .command('latency')
    .argument('<replica>')
    .argument('<ms>', 'added to every answer', usage(parseLatencyArg))
    .description('add latency to one replica')
    .action((name: string, latencyMs: number) => run(async (driver) => console.log(stateLine(await driver.setFaults(name, { latencyMs })))));
  program
    .command('reset')
    .argument('<replica>')
    .description('SERVING, no failures, no latency')
    .action((name: string) =>
      run(async (driver) => console.log(stateLine(await driver.setFaults(name, { health: 'SERVING', failRate: 0, latencyMs: 0 })))),
    );
  program
    .command('policy')
    .argument('[policy]', LB_POLICIES.join(' | '), (value: string) => {
      const upper = value.toUpperCase().replace(/-/g, '_');
      if (!LB_POLICIES.includes(upper as LbPolicy)) throw new InvalidArgumentError(`policy must be one of ${LB_POLICIES.join(', ')}, got "${value}"`);
      return upper as LbPolicy;
    })
    .option('--hash-header <name>', 'request header RING_HASH and MAGLEV hash on (default x-lab-key)')
    .option('--panic <percent>', "Envoy's healthy panic threshold (envoy.yaml: 0, off; Envoy's default: 50)", integerIn(0, 100, '--panic'))
    .option('--per-try-timeout <ms>', "the route's per-try timeout (envoy.yaml: 1000; 0: none)", integerIn(0, 60_000, '--per-try-timeout'))
    .description("show or switch Envoy's load-balancing policy (a config derived from envoy.yaml, taken over by Envoy's hot restart: no call lost)")
    .action((policy: LbPolicy | undefined, options: { hashHeader?: string; panic?: number; perTryTimeout?: number }) =>
      run(async (driver) => {
        if (!policy && (options.hashHeader !== undefined || options.panic !== undefined || options.perTryTimeout !== undefined)) {
          throw new LabError('--hash-header, --panic and --per-try-timeout go with a policy to switch to, e.g. `lab policy ROUND_ROBIN --panic 50`', 2);
        }
        if (policy) {
          await driver.setPolicy({
            policy,
            ...(options.hashHeader ? { hashHeader: options.hashHeader } : {}),
            ...(options.panic !== undefined ? { panicThresholdPercent: options.panic } : {}),
            ...(options.perTryTimeout !== undefined ? { perTryTimeoutMs: options.perTryTimeout } : {}),
          });
        }
        const current = await driver.policy();
        const hash = current.hashHeader ? ` (hash on ${current.hashHeader})` : '';
        const panic = current.panicThresholdPercent !== undefined ? `, panic threshold ${current.panicThresholdPercent} %` : ', panic mode off';
        const perTry = current.perTryTimeoutMs !== undefined ? `, per-try timeout ${current.perTryTimeoutMs || 'none'}${current.perTryTimeoutMs ? ' ms' : ''}` : '';
        console.log(`policy ${current.policy}${hash}${panic}${perTry}`);
      }),
    );
  program
    .command('discovery')
    .argument('[how]', 'dns | xds', (value: string) => {
      if (!DISCOVERIES.includes(value as Discovery)) throw new InvalidArgumentError(`discovery must be one of ${DISCOVERIES.join(', ')}, got "${value}"`);
      return value as Discovery;
    })
    .description(
      'show or switch how Envoy finds the replicas: dns (STRICT_DNS polling, envoy.yaml) or xds (EDS pushed by the control plane); ' +
        'a hot restart onto a config derived from envoy.yaml, no call lost',
    )
    .action((how: Discovery | undefined) =>
      run(async (driver) => {
        if (how) await driver.setDiscovery(how);
        const current = await driver.discovery();
        const cost = current === 'xds' ? await driver.xdsCost() : undefined;
        console.log(
          `discovery ${current}` +
            (cost ? ` (control plane: ${cost.responses} responses, ${cost.pushes} pushed, ${cost.nacks} NACKs, ${cost.cpuMs.toFixed(0)} ms CPU)` : ' (Envoy polls DNS every second)'),
        );
      }),
    );
  program.command('envoy').description("Envoy's view: hosts, health flags, retries, ejections, overflows").action(() =>
    run(async (driver) => console.log(await formatEnvoyView(await driver.adminUrl()))),
  );
  program
    .command('watch')
    .description("a live view, redrawn every second: Envoy's health, traffic share, errors and probe latency per replica")
    .option('--probe <rate>', 'calls per second the view sends itself, for latency (0: none)', integerIn(0, 1000, '--probe'), 10)
    .option('--frames <n>', 'stop after n frames (default: until Ctrl-C)', integerIn(0, 1_000_000, '--frames'), 0)
    .action((options: { probe: number; frames: number }) =>
      run(async (driver) => {
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        process.once('SIGTERM', () => stop.abort());
        // On a terminal the frame is redrawn in place; in a pipe or file, frames follow one another.
        const redraw = process.stdout.isTTY === true;
        await watch(driver, {
          probeRate: options.probe,
          frames: options.frames,
          intervalMs: 1000,
          signal: stop.signal,
          render: (frame) => process.stdout.write(redraw ? `\x1b[H\x1b[2J${frame}\n` : `${frame}\n\n`),
        });
      }),
    );
  program
    .command('dashboard')
    .description('a live page on 127.0.0.1: per-replica share, calls, errors, p50/p99, faults, charts, every verb and the experiments')
    .option('--port <port>', 'the page on 127.0.0.1:<port> (0: any free port)', integerIn(0, 65535, '--port'), 8090)
    .option('--probe <rate>', 'calls per second the dashboard sends itself, for latency (0: none)', integerIn(0, 1000, '--probe'), 10)
    .action((options: { port: number; probe: number }) =>
      run(async (driver) => {
        const log = (line: string): void => console.log(`${PROGRAM} dashboard: ${line}`);
        const dashboard = await startDashboard(driver, { port: options.port, probeRate: options.probe, log }).catch((error: unknown) => {
          throw new LabError(`cannot start the dashboard: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
        });
        log(`${dashboard.url} (Ctrl-C to stop)`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        await dashboard.close();
        log('stopped');
      }),
    );
  program
    .command('experiment')
    .argument('[name]', EXPERIMENTS.map((e) => e.name).join(' | '))
    .option('--quick', 'short durations (what the tests run)')
    .option('--json', 'print the report as one JSON object (progress goes to stderr)')
    .option('--report <file>', 'write the HTML report here (default .lab/reports/<name>.html)')
    .description('run an experiment: set up, load, change one thing, measure, restore; PASS/FAIL against its bounds')
    .action(async (name: string | undefined, options: { quick?: boolean; json?: boolean; report?: string }) => {
      if (name === undefined) {
        for (const experiment of EXPERIMENTS) console.log(`${experiment.name.padEnd(10)} ${experiment.title}`);
        return;
      }
      const experiment = EXPERIMENTS.find((e) => e.name === name);
      if (!experiment) throw new LabError(`unknown experiment "${name}"; one of ${EXPERIMENTS.map((e) => e.name).join(', ')}`, 2);
      machineReadable = options.json === true;
      await run(async (driver) => {
        const file = reportFileFor(options.report, path.join(projectRoot, '.lab', 'reports', `${name}.html`));
        const say = (line: string): void => void (machineReadable ? console.error(line) : console.log(line));
        const report = await runExperiment(experiment, driver, { quick: options.quick === true, log: (line) => say(`experiment ${name}: ${line}`) });
        const written = writeReportFile(file, formatExperimentHtml(report), (line) => console.error(line));
        if (machineReadable) console.log(JSON.stringify({ ...report, reportFile: written ? file : null }));
        else console.log(`${formatExperimentText(report)}${written ? `\nreport: ${file}` : ''}`);
        // A failed expectation is a result, not an error: exit 1 so scripts and CI can act on it.
        if (!report.pass || !written) process.exitCode = 1;
      });
    });
  program
    .command('scorecard')
    .option('--quick', 'short windows and two faults (what the tests run): a few minutes')
    .option('--json', 'print the report as one JSON object (progress goes to stderr)')
    .option('--report <file>', 'write the HTML report here (default .lab/reports/scorecard.html)')
    .description('every way to balance gRPC (Envoy L7 and L4, nginx, HAProxy, grpc-js round_robin, L4 + max_connection_age) on the same replicas, scored side by side')
    .action(async (options: { quick?: boolean; json?: boolean; report?: string }) => {
      machineReadable = options.json === true;
      await run(async (driver) => {
        const file = reportFileFor(options.report, path.join(projectRoot, '.lab', 'reports', 'scorecard.html'));
        const say = (line: string): void => void (machineReadable ? console.error(line) : console.log(line));
        const report = await runScorecard(driver, { quick: options.quick === true, log: (line) => say(`scorecard: ${line}`) });
        const written = writeReportFile(file, formatScorecardHtml(report), (line) => console.error(line));
        // Infinity (max/min with an idle replica) has no JSON spelling: it is written as null.
        if (machineReadable) console.log(JSON.stringify({ ...report, reportFile: written ? file : null }));
        else console.log(`${formatScorecardText(report)}${written ? `\nreport: ${file}` : ''}`);
        // A lesson that did not hold is a result, not an error: exit 1 so scripts and CI can act on it.
        if (!report.pass || !written) process.exitCode = 1;
      });
    });
  return program;
}

/** Where Prometheus (and under Compose, Grafana) can be opened, after `up --prometheus`. */
async function observabilityLine(driver: LabDriver): Promise<string> {
  if (driver instanceof LocalDriver) {
    const url = (await driver.info()).prometheusUrl;
    return url ? `Prometheus ${url}` : 'no Prometheus: this local system was started without --prometheus (stop it with `lab down` first)';
  }
  return `Prometheus http://127.0.0.1:${process.env.PORT_PROMETHEUS ?? 9090}, Grafana http://127.0.0.1:${process.env.PORT_GRAFANA ?? 3000}`;
}

let driverOption: DriverChoice | undefined;
/** With --json, stdout carries only the JSON; the driver line and progress go to stderr. */
let machineReadable = false;
const program = buildProgram(async (action) => {
  const { driver, reason } = await chooseDriver(driverOption);
  // Which system every verb acts on, said first: a second checkout or a COMPOSE_PROJECT_NAME changes it.
  (machineReadable ? console.error : console.log)(`${PROGRAM}: driver ${driver.kind}, ${await driver.describe()} (${reason})`);
  await action(driver);
});
program.hook('preAction', (thisCommand) => {
  const value = thisCommand.opts<{ driver?: string }>().driver;
  if (value !== undefined && value !== 'docker' && value !== 'local') {
    throw new LabError(`--driver must be docker or local, got "${value}"`, 2);
  }
  driverOption = value;
});

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof LabError || error instanceof PolicyChoiceError || error instanceof StateFileError) {
    console.error(`${PROGRAM}: ${error.message}`);
    process.exit(error instanceof LabError ? error.exitCode : error instanceof StateFileError ? 1 : 2);
  }
  // Not a user mistake: keep the stack, it is the only clue to a bug.
  console.error(`${PROGRAM}: unexpected error`, error);
  process.exit(1);
}
