// The experiments' front door: the one harness that stages faults and measures them, for the lab (`lab experiment`),
// the bench (`npm run bench`) and the tests.
export { EXPERIMENTS } from './registry.js';
export { CUT_REPLY } from './trial.js';
export { BASELINE_REPLICAS, restoreBaseline, runExperiment } from './runner.js';
export { formatExperimentText } from './report-text.js';
export { formatExperimentHtml } from './report-html.js';
export type { Experiment } from './experiment.js';
export { formatBound, formatValue, type Chart, type ExperimentReport, type Figure } from './report.js';
