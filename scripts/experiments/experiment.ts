// What an experiment is, and what it leaves behind. An experiment is a short narrative over a Trial (trial.ts): it
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

/** A number an experiment measured. The same name in every run, whatever the driver, so runs can be compared. */
export interface Figure {
  name: string;
  value: number;
  /** ms, calls, %, x (a ratio), or '' for a plain count. */
  unit: string;
  /** The bound it was judged against; a figure without one is reported, not judged. */
  bound?: { op: '<=' | '>=' | '=='; value: number };
  /** Whether it kept its bound (present exactly when a bound is). */
  pass?: boolean;
}

/** A bar chart for the reports: one bar per label (replica, phase, policy...). */
export interface Chart {
  title: string;
  unit: string;
  bars: { label: string; value: number }[];
}

/** A finished experiment, as the text, JSON and HTML reports and the bench read it. */
export interface ExperimentReport {
  name: string;
  title: string;
  teaches: string;
  driver: 'docker' | 'local';
  startedAt: string;
  durationS: number;
  /** The steps, in the order they were taken. */
  steps: string[];
  figures: Figure[];
  /** Facts that are not numbers (who was ejected by which detector, shares per replica). */
  notes: string[];
  charts: Chart[];
  /** Every bounded figure kept its bound (and there was at least one). */
  pass: boolean;
}

/** "≤ 3000 ms", "= 0 calls": how a bound reads. */
export function formatBound(figure: Figure): string {
  if (!figure.bound) return '';
  const op = { '<=': '≤', '>=': '≥', '==': '=' }[figure.bound.op];
  return `${op} ${formatValue(figure.bound.value)}${figure.unit ? ` ${figure.unit}` : ''}`;
}

/** A figure's value as the reports print it: integers as they are, others to two decimals at most. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
}
