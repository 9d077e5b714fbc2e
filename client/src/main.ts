/**
 * The worker client program (`npm run client`, and `node dist/client/src/main.js` in the image): one SayHello per
 * interval through Envoy, one line per call, running and final summaries, until --count calls or a signal. The
 * calls themselves run on runLoad's loop (open loop at 1000 / interval per second, the in-flight cap from the
 * deadline), so the worker and the load generator share one schedule and one tally; this file is the wiring of
 * flags, signals, log lines and exit codes.
 */
import { LoadOptionsError, planLoad, type LoadPlan } from './load/load-options.js';
import { runLoadPlan } from './load/load-run.js';
import { ConfigError, HelpRequested, parseClientConfig, workerLoadOptions, type ClientConfig } from './worker-config.js';
import {
  formatCallLine,
  formatLifecycleLine,
  formatSummary,
  summaryCountsOf,
  type LifecycleEvent,
  type SummaryCounts,
} from './worker-log.js';

const PROGRAM = 'grpc-client';

/** Runs the worker client until --count calls settled or a signal arrives; returns the exit code. */
async function main(): Promise<number> {
  let config: ClientConfig;
  let plan: LoadPlan;
  try {
    config = parseClientConfig(process.argv.slice(2), process.env);
    // The loop checks what the settings become (rate, cap); a refusal is a user mistake like any bad flag.
    plan = planLoad(workerLoadOptions(config));
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(error.helpText);
      return 0;
    }
    if (error instanceof ConfigError || error instanceof LoadOptionsError) {
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
  const logSummary = (counts: SummaryCounts, final: boolean): void => {
    for (const line of formatSummary(counts, logFormat, { time: new Date(), final })) writeLine(line);
  };

  // A reader that went away (`| head`) is not a reason to die with a stack trace mid-run.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    process.exit(error.code === 'EPIPE' ? 0 : 1);
  });

  // First signal: stop starting calls and let those in flight finish (bounded by their deadline), so the final
  // summary accounts for every call. A second signal cancels them instead of waiting; later ones change nothing.
  // The loop reports when each took effect (onStopping, onCancelling) with the calls then in flight.
  const stop = new AbortController();
  const cancel = new AbortController();
  let reason = '';
  const onSignal = (signal: NodeJS.Signals): void => {
    reason = signal;
    if (!stop.signal.aborted) stop.abort();
    else cancel.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  logLifecycle({ event: 'start', config, maxInFlight: plan.concurrency });
  const report = await runLoadPlan(plan, {
    signal: stop.signal,
    cancelSignal: cancel.signal,
    onStopping: (progress) => logLifecycle({ event: 'stopping', reason, inFlight: progress.inFlight }),
    onCancelling: (progress) => logLifecycle({ event: 'cancelling', reason, inFlight: progress.inFlight }),
    onSettled: (call) => writeLine(formatCallLine(call, logFormat)),
    onSkipped: (inFlight, limit) => logLifecycle({ event: 'skip', inFlight, limit }),
    ...(config.summaryEveryS > 0 && {
      onProgress: (progress) => logSummary(progress, false),
      progressEveryMs: config.summaryEveryS * 1000,
    }),
  });
  logSummary(summaryCountsOf(report), true);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Only a bug gets here (user mistakes are ConfigError or LoadOptionsError above), so the stack is worth printing.
    process.stderr.write(`${PROGRAM}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
