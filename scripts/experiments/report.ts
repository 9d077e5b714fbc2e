// What an experiment leaves behind: named figures judged against bounds, notes, charts, and the verdict. The text
// and HTML reports, the JSON of `lab experiment --json` and the bench all read this one shape.

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
