import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One entry of a Prometheus file_sd target list: where to scrape, and labels for every series scraped there. */
export interface ScrapeTargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * Writes a file_sd target list atomically (a temporary file renamed over the old one), as Prometheus asks: it
 * watches the file and must never read half of it.
 */
export function writeTargetFile(file: string, groups: readonly ScrapeTargetGroup[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(groups, null, 2)}\n`);
  renameSync(temporary, file);
}
