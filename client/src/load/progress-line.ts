import type { LoadProgress } from './run-load.js';

/** Runs at least this long (planned, or so far) print a progress line each second; shorter ones stay quiet. */
export const PROGRESS_AFTER_S = 3;

/** Whether this progress report should be printed: the run is planned to, or already did, last over 3 s. */
export function wantsProgressLine(progress: LoadProgress): boolean {
  return (progress.plannedDurationS ?? 0) > PROGRESS_AFTER_S || progress.elapsedS > PROGRESS_AFTER_S;
}

/** One progress line, e.g. `load  5s/10s  sent=512 ok=510 failed=2 rate=101/s p99=4.2ms`. */
export function formatProgressLine(progress: LoadProgress): string {
  const elapsed = `${Math.round(progress.elapsedS)}s`;
  const time = progress.plannedDurationS !== null ? `${elapsed}/${formatSeconds(progress.plannedDurationS)}` : elapsed;
  const sent = progress.plannedCount !== null ? `${progress.sent}/${progress.plannedCount}` : String(progress.sent);
  const p99 = progress.p99Ms === null ? '-' : `${progress.p99Ms.toFixed(1)}ms`;
  return `load  ${time}  sent=${sent} ok=${progress.ok} failed=${progress.failed} rate=${Math.round(progress.ratePerS)}/s p99=${p99}`;
}

function formatSeconds(seconds: number): string {
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
}
