/**
 * The `npm run load` program (and `node dist/client/src/load/main.js` in the image): parses the flags, runs one
 * load, prints its report on stdout and progress on stderr, and turns signals into stop and cancel. A bad flag is
 * one line and exit 2; only a bug prints a stack.
 */
import { formatProgressLine, LoadHelpRequested, parseLoadArgs, wantsProgressLine, type LoadCliConfig } from './load-cli.js';
import { LoadOptionsError } from './load-options.js';
import { formatLoadReportJson, formatLoadReportText } from './load-report-format.js';
import { runLoadPlan } from './load-run.js';

const PROGRAM = 'grpc-load';

/** `npm run load -- <flags>`: runs one load, prints its report on stdout (progress on stderr), returns the exit code. */
async function main(): Promise<number> {
  let config: LoadCliConfig;
  try {
    config = parseLoadArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof LoadHelpRequested) {
      process.stdout.write(error.helpText);
      return 0;
    }
    if (error instanceof LoadOptionsError) {
      process.stderr.write(`${PROGRAM}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  // A reader that went away (`| head`) is not a reason to die with a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    process.exit(error.code === 'EPIPE' ? 0 : 1);
  });

  // First signal: stop starting calls and let those in flight settle (they have deadlines), so the partial report
  // still accounts for every call. A second signal cancels them instead of waiting.
  const stop = new AbortController();
  const cancel = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stop.signal.aborted) {
      process.stderr.write(`${PROGRAM}: ${signal}: stopping, waiting for the calls in flight (again to cancel them)\n`);
      stop.abort();
    } else if (!cancel.signal.aborted) {
      process.stderr.write(`${PROGRAM}: ${signal}: cancelling the calls in flight\n`);
      cancel.abort();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const report = await runLoadPlan(config.plan, {
    signal: stop.signal,
    cancelSignal: cancel.signal,
    onProgress: (progress) => {
      if (wantsProgressLine(progress)) process.stderr.write(`${formatProgressLine(progress)}\n`);
    },
  });
  const lines = config.json ? [formatLoadReportJson(report)] : formatLoadReportText(report);
  process.stdout.write(`${lines.join('\n')}\n`);
  // The report stands either way; a run in which not one call got through is a failed run, and says why.
  if (report.sent > 0 && report.ok === 0 && !report.interrupted) {
    process.stderr.write(`${PROGRAM}: all ${report.sent} calls to ${report.target} failed; the last: ${report.lastFailure ?? 'unknown'}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Only a bug gets here (user mistakes are LoadOptionsError above), so the stack is worth printing.
    process.stderr.write(`${PROGRAM}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
