// docker-compose.yml is linted by the real dclint (Compose-spec schema validation plus its rules), because with no
// Docker engine here a linter and contract checks are the only proof the file is right before `docker compose up`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../scripts/envoy/paths.js';
import { describeResult, killRunningCommands, runCommand, type CommandResult } from '../helpers/run-command.js';

const dclint = path.join(projectRoot, 'node_modules', '.bin', 'dclint');
const composeFile = path.join(projectRoot, 'docker-compose.yml');

interface DclintMessage {
  rule: string;
  type: 'error' | 'warning';
  message: string;
  line: number;
}

interface DclintFileReport {
  filePath: string;
  messages: DclintMessage[];
  errorCount: number;
  warningCount: number;
}

/** Runs dclint with its JSON formatter from the repo root, so the repo's own dclint config (if any) applies. */
async function lint(file: string): Promise<{ result: CommandResult; reports: DclintFileReport[] }> {
  const result = await runCommand(dclint, [file, '--formatter', 'json', '--no-color'], {
    cwd: projectRoot,
    timeoutMs: 20_000,
  });
  let reports: DclintFileReport[] = [];
  try {
    reports = JSON.parse(result.stdout) as DclintFileReport[];
  } catch {
    // Left empty: the assertions below then fail and print dclint's raw output.
  }
  return { result, reports };
}

function listMessages(reports: DclintFileReport[]): string {
  return reports
    .flatMap((report) => report.messages.map((m) => `${report.filePath}:${m.line} ${m.type} ${m.rule}: ${m.message}`))
    .join('\n');
}

const scratchDirs: string[] = [];

afterEach(() => {
  killRunningCommands();
});

afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

describe('docker-compose.yml under dclint', () => {
  it('passes dclint with no errors and no warnings', async () => {
    const { result, reports } = await lint(composeFile);
    expect(result.code, describeResult(result)).toBe(0);
    expect(reports, describeResult(result)).toHaveLength(1);
    expect(listMessages(reports), 'dclint found problems').toBe('');
    expect(reports[0]?.errorCount).toBe(0);
    expect(reports[0]?.warningCount).toBe(0);
  }, 30_000);

  it('really fails a broken copy (so the check above can fail)', async () => {
    // The same file with two mistakes dclint must catch: the obsolete `version:` key and an unpinned image.
    const dir = mkdtempSync(path.join(tmpdir(), 'compose-lint-'));
    scratchDirs.push(dir);
    const broken = path.join(dir, 'docker-compose.yml');
    const original = readFileSync(composeFile, 'utf8');
    const unpinned = original.replace(/image: envoyproxy\/envoy:\S+/, 'image: envoyproxy/envoy:latest');
    expect(unpinned, 'the Envoy image line was not found to break').not.toBe(original);
    writeFileSync(broken, `version: '3.8'\n${unpinned}`);

    const { result, reports } = await lint(broken);
    expect(result.code, describeResult(result)).not.toBe(0);
    const rules = reports.flatMap((report) => report.messages.filter((m) => m.type === 'error').map((m) => m.rule));
    expect(rules).toContain('no-version-field');
    expect(rules).toContain('service-image-require-explicit-tag');
  }, 30_000);
});
