// What an experiment is: a short narrative over a Trial (trial.ts). It
// stages one change on a running system through the lab driver (so it runs the same on Compose and on local
// processes), puts load through Envoy, watches Envoy's own view, and judges named figures against stated bounds.
import type { Trial } from './trial.js';

/** One experiment of `lab experiment <name>`. */
export interface Experiment {
  /** Short name used on the command line: l4-vs-l7, kill, flaky, ... */
  name: string;
  title: string;
  /** What it teaches, in two or three sentences, for the list and the report. */
  teaches: string;
  /** Stages, loads, watches and judges; everything it started is stopped by the runner, whatever happens. */
  run(trial: Trial): Promise<void>;
}
