import { callGreeter, createGreeterClient } from './greeter-call.js';
import { CallWorker, maxInFlightFor } from './worker.js';
import { ConfigError, HelpRequested, parseClientConfig, type ClientConfig } from './worker-config.js';
import { formatCallLine, formatLifecycleLine, formatSummary, type LifecycleEvent } from './worker-log.js';

const PROGRAM = 'grpc-client';

/** Runs the worker client until --count calls settled or a signal arrives; returns the exit code. */
async function main(): Promise<number> {
  let config: ClientConfig;
  try {
    config = parseClientConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(error.helpText);
      return 0;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`${PROGRAM}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const { logFormat } = config;
  const writeLine = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const logLifecycle = (entry: LifecycleEvent): void => writeLine(formatLifecycleLine(new Date(), entry, logFormat));

  // A reader that went away (`| head`) is not a reason to die with a stack trace mid-run.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    process.exit(error.code === 'EPIPE' ? 0 : 1);
  });

  const client = createGreeterClient(config.target);
  const maxInFlight = maxInFlightFor(config.intervalMs, config.deadlineMs);
  const worker = new CallWorker(
    { intervalMs: config.intervalMs, count: config.count, summaryEveryMs: config.summaryEveryS * 1000, maxInFlight },
    {
      call: (signal) => callGreeter(client, config.name, config.deadlineMs, signal),
      onCall: (record) => writeLine(formatCallLine(record, logFormat)),
      onSummary: (snapshot, final) => {
        for (const line of formatSummary(snapshot, logFormat, { time: new Date(), final })) writeLine(line);
      },
      onSkip: (inFlight, limit) => logLifecycle({ event: 'skip', inFlight, limit }),
    },
  );

  // First signal: stop starting calls and let those in flight finish (bounded by their deadline), so the final
  // summary accounts for every call. A second signal cancels them instead of waiting.
  let signalsSeen = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalsSeen++;
    if (signalsSeen === 1) {
      logLifecycle({ event: 'stopping', reason: signal, inFlight: worker.tally.inFlight });
      void worker.stop();
    } else {
      logLifecycle({ event: 'cancelling', reason: signal, inFlight: worker.tally.inFlight });
      worker.cancelInFlight();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  logLifecycle({ event: 'start', config, maxInFlight });
  worker.start();
  await worker.finished;
  client.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Only a bug gets here (user mistakes are ConfigError above), so the stack is worth printing.
    process.stderr.write(`${PROGRAM}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
