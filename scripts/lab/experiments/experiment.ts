// What an experiment is: it sets up what it needs on a running system (through the LabDriver, so it works on
// both drivers), applies load, changes one thing, measures, and judges the measurement against an expectation
// stated with bounds. The runner restores the system afterwards and writes the reports.
import type { LabDriver } from '../lab-driver.js';

/** What an experiment gets to work with. */
export interface ExperimentContext {
  driver: LabDriver;
  /** Short durations (tests, CI); users get longer, steadier runs by default. */
  quick: boolean;
  /** One progress line (the runner prefixes and prints it). */
  log: (line: string) => void;
}

/** A bar chart for the report: one bar per label (replica, policy, phase...). */
export interface BarChart {
  title: string;
  unit: string;
  bars: { label: string; value: number }[];
}

/** What an experiment found. */
export interface ExperimentOutcome {
  /** What was done, in one or two sentences. */
  done: string;
  /** What was expected, with its bounds. */
  expected: string;
  /** What was measured, one fact per line. */
  measured: string[];
  pass: boolean;
  /** The numbers behind `measured`, for --json and for tests. */
  figures: Record<string, number | string | boolean>;
  charts: BarChart[];
}

/** One experiment of `lab experiment <name>`. */
export interface Experiment {
  /** Short name used on the command line: l4-vs-l7, kill, flaky, ... */
  name: string;
  title: string;
  /** What it teaches, for `lab experiment --list` and the report. */
  teaches: string;
  run(context: ExperimentContext): Promise<ExperimentOutcome>;
}

/** A finished experiment as the reports show it. */
export interface ExperimentReport extends ExperimentOutcome {
  name: string;
  title: string;
  teaches: string;
  driver: string;
  startedAt: string;
  durationS: number;
}
