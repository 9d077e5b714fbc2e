import { discoveryExperiment } from './discovery.js';
import { drainExperiment } from './drain.js';
import type { Experiment } from './experiment.js';
import { flakyExperiment } from './flaky.js';
import { hangExperiment } from './hang.js';
import { healthExperiment } from './health.js';
import { killExperiment } from './kill.js';
import { l4VsL7Experiment } from './l4-vs-l7.js';
import { overloadExperiment } from './overload.js';
import { panicExperiment } from './panic.js';
import { scaleExperiment } from './scale.js';
import { slowExperiment } from './slow.js';
import { stickyExperiment } from './sticky.js';

/** Every experiment `lab experiment` knows, in the order the docs teach them. */
export const EXPERIMENTS: readonly Experiment[] = [
  l4VsL7Experiment,
  scaleExperiment,
  healthExperiment,
  killExperiment,
  drainExperiment,
  hangExperiment,
  flakyExperiment,
  slowExperiment,
  stickyExperiment,
  panicExperiment,
  overloadExperiment,
  discoveryExperiment,
];
