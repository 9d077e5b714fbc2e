import { runLoad } from '../../../client/src/load/run-load.js';
import type { LoadOptions } from '../../../client/src/load/load-options.js';
import type { LoadReport } from '../../../client/src/load/load-report.js';

/** Load that runs in the background while an experiment changes something; stop() ends it and gives the report. */
export interface SteadyLoad {
  stop: () => Promise<LoadReport>;
}

/**
 * Starts open-loop load through Envoy (a fixed rate, whatever the answers) that runs until stop(). Its duration
 * cap only matters if stop() is never reached; every experiment stops it in a finally.
 */
export function startSteadyLoad(options: LoadOptions & { target: string; rate: number }): SteadyLoad {
  const abort = new AbortController();
  const report = runLoad({ concurrency: 100, deadlineMs: 2000, durationS: 300, ...options }, { signal: abort.signal });
  report.catch(() => undefined); // Awaited in stop(); this only keeps an early rejection from going unhandled.
  return {
    stop: () => {
      abort.abort();
      return report;
    },
  };
}
