import type { Experiment } from './experiment.js';
import { l4VsL7Experiment } from './l4-vs-l7.js';
import { overloadExperiment } from './overload.js';
import { panicExperiment } from './panic.js';

/** Every experiment `lab experiment` knows, in the order the README teaches them. */
export const EXPERIMENTS: readonly Experiment[] = [l4VsL7Experiment, panicExperiment, overloadExperiment];
