// vitest strips types without checking them, so a type error would pass every other test. This runs the real
// compiler over the whole repo (server, client, scripts, tests, generated code) with the project's strict settings.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../scripts/envoy/paths.js';
import { describeResult, killRunningCommands, runCommand } from '../helpers/run-command.js';

const tsc = path.join(projectRoot, 'node_modules', '.bin', 'tsc');

afterEach(() => {
  killRunningCommands();
});

describe('TypeScript', () => {
  it('type-checks the whole repo with tsc --noEmit', async () => {
    const result = await runCommand(tsc, ['--noEmit', '--pretty', 'false', '-p', 'tsconfig.json'], {
      cwd: projectRoot,
      timeoutMs: 55_000,
    });
    expect(result.code, describeResult(result)).toBe(0);
  }, 60_000);

  it("type-checks the dashboard's browser page with the DOM (its own tsconfig)", async () => {
    const result = await runCommand(tsc, ['--noEmit', '--pretty', 'false', '-p', 'scripts/lab/dashboard/page/tsconfig.json'], {
      cwd: projectRoot,
      timeoutMs: 55_000,
    });
    expect(result.code, describeResult(result)).toBe(0);
  }, 60_000);
});
