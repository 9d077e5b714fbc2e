import { runLoad } from '../../../client/src/load/run-load.js';
import type { LoadOptions } from '../../../client/src/load/load-options.js';
import type { LoadReport } from '../../../client/src/load/load-report.js';

/** Load that runs in the background while an experiment changes something. */
export interface SteadyLoad {
  /** Settles when the load ends by itself (its duration) or after stop(). */
  report: Promise<LoadReport>;
  /** Stops starting calls, lets those in flight settle, and gives the report. */
  stop: () => Promise<LoadReport>;
}

type SteadyLoadOptions = LoadOptions & { target: string; rate: number };

/**
 * Starts open-loop load through Envoy (a fixed rate, whatever the answers). Without a duration it runs until
 * stop(); its cap then only matters if stop() is never reached, and every experiment stops it in a finally.
 */
export function startSteadyLoad(options: SteadyLoadOptions): SteadyLoad {
  const abort = new AbortController();
  const report = runLoad({ concurrency: 100, deadlineMs: 2000, durationS: 300, ...options }, { signal: abort.signal });
  report.catch(() => undefined); // Awaited by the caller; this only keeps an early rejection from going unhandled.
  return {
    report,
    stop: () => {
      abort.abort();
      return report;
    },
  };
}

/** Every load phase one experiment starts, so a single finally stops them all: no load outlives run(). */
export class LoadPhases {
  private readonly started: SteadyLoad[] = [];

  constructor(private readonly options: SteadyLoadOptions) {}

  /** Starts a phase of `durationS` seconds; stop() ends it sooner. */
  start(durationS: number): SteadyLoad {
    const load = startSteadyLoad({ ...this.options, durationS });
    this.started.push(load);
    return load;
  }

  /** Stops every phase still running and waits until all have settled. */
  async stopAll(): Promise<void> {
    await Promise.allSettled(this.started.map((load) => load.stop()));
  }
}
