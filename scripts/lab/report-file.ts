import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { messageOf } from '../cli/command-line.js';
import { LabError } from '../drivers/index.js';

/**
 * Where a run's HTML report goes, checked before the run starts: a run of minutes must not end in "cannot write"
 * with its results gone. Throws a one-line LabError (exit 2) when the file cannot be created there.
 */
export function reportFileFor(requested: string | undefined, fallback: string): string {
  const file = path.resolve(requested ?? fallback);
  const existed = existsSync(file);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    closeSync(openSync(file, 'a'));
  } catch (error) {
    throw new LabError(`cannot write the report to ${file}: ${messageOf(error)}`, 2);
  }
  if (!existed) rmSync(file, { force: true });
  return file;
}

/** Writes the report; if that fails after all, says so in one line and returns false (the caller still prints it). */
export function writeReportFile(file: string, html: string, warn: (line: string) => void): boolean {
  try {
    writeFileSync(file, html);
    return true;
  } catch (error) {
    warn(`lab: cannot write the report to ${file}: ${messageOf(error)} (the results are printed above)`);
    return false;
  }
}
