import { Command, CommanderError } from 'commander';
import { ControlClient, ControlRequestError } from './control-client.js';
import {
  parseCodeArg,
  parseControlPortArg,
  parseHealthArg,
  parseLatencyArg,
  parseRateArg,
  UsageError,
} from './control-cli-args.js';
import type { FaultStateView } from './fault-state.js';

const PROGRAM = 'greeterctl';

interface GlobalOptions {
  host?: string;
  port?: string;
  token?: string;
  json?: boolean;
}

/** greeterctl: reads and changes a greeter replica's health, injected failures and latency. */
async function main(argv: string[]): Promise<void> {
  const program = new Command(PROGRAM)
    .description("Control a greeter replica's health and injected faults through its HTTP control API.")
    .option('--host <host>', 'control API host (env CONTROL_HOST, default 127.0.0.1)')
    .option('--port <port>', 'control API port (env CONTROL_PORT, default 8081)')
    .option('--token <token>', "the replica's control token (env CONTROL_TOKEN; default: the token file the replica wrote)")
    .option('--json', 'print the resulting state as JSON')
    .helpCommand(false)
    .exitOverride()
    .configureOutput({
      // Commander's own usage errors become the same single `greeterctl: ...` line as ours.
      outputError: (message, write) => write(`${PROGRAM}: ${message.replace(/^error: /, '').trim()}\n`),
    });

  const run = (operation: (client: ControlClient) => Promise<FaultStateView>) => async () => {
    const client = connect(program.opts<GlobalOptions>());
    printState(await operation(client), program.opts<GlobalOptions>().json === true);
  };

  program.command('status').description('print the current state').action(run((client) => client.getState()));
  program
    .command('health')
    .description('report SERVING or NOT_SERVING for every service')
    .argument('<status>', 'serving | not-serving')
    .action((raw: string) => run((client) => client.update({ health: parseHealthArg(raw) }))());
  program
    .command('fail')
    .description('fail this fraction of calls (0 stops failures)')
    .argument('<rate>', 'fraction of calls to fail, 0-1')
    .option('--code <name>', 'gRPC status to fail with, e.g. UNAVAILABLE, INTERNAL, RESOURCE_EXHAUSTED')
    .action((raw: string, options: { code?: string }) => {
      const patch = { failRate: parseRateArg(raw), ...(options.code === undefined ? {} : { failCode: parseCodeArg(options.code) }) };
      return run((client) => client.update(patch))();
    });
  program
    .command('latency')
    .description('delay every answer by this many milliseconds')
    .argument('<ms>', '0-60000')
    .action((raw: string) => run((client) => client.update({ latencyMs: parseLatencyArg(raw) }))());
  program.command('reset').description('SERVING, no failures, no latency').action(run((client) => client.reset()));

  // Without this, Commander answers a bare `greeterctl` (or one with only options) with the whole help on stderr.
  program.allowExcessArguments().action((_options: unknown, command: Command) => {
    const [first] = command.args;
    const commands = 'status | health <serving|not-serving> | fail <rate> [--code NAME] | latency <ms> | reset';
    throw new UsageError(
      first === undefined ? `missing command: ${commands}` : `unknown command ${JSON.stringify(first)}; use ${commands}`,
    );
  });
  await program.parseAsync(argv, { from: 'user' });
}

function connect(options: GlobalOptions): ControlClient {
  const host = options.host ?? process.env.CONTROL_HOST ?? '127.0.0.1';
  if (host === '') throw new UsageError('control host must not be empty');
  const port =
    options.port !== undefined
      ? parseControlPortArg('--port', options.port)
      : process.env.CONTROL_PORT !== undefined
        ? parseControlPortArg('CONTROL_PORT', process.env.CONTROL_PORT)
        : 8081;
  const token = options.token ?? process.env.CONTROL_TOKEN;
  if (token === '') throw new UsageError('control token must not be empty');
  return new ControlClient(host, port, token);
}

function printState(state: FaultStateView, json: boolean): void {
  const line = json
    ? JSON.stringify(state)
    : `replica=${state.replica} health=${state.health} failRate=${state.failRate} failCode=${state.failCode} latencyMs=${state.latencyMs}`;
  process.stdout.write(`${line}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Help and version are successful exits; everything else Commander reports is a usage error (already printed).
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  if (error instanceof UsageError) {
    process.stderr.write(`${PROGRAM}: ${error.message}\n`);
    process.exit(2);
  }
  if (error instanceof ControlRequestError) {
    process.stderr.write(`${PROGRAM}: ${error.message}\n`);
    process.exit(1);
  }
  console.error(`${PROGRAM}: unexpected error`, error);
  process.exit(1);
});
