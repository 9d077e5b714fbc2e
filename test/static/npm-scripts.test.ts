// Every npm script the README and docs name runs a program that exists and answers --help: a moved entry file
// (a refactor's easiest mistake) fails here, not on a user's first command.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { projectRoot } from '../../scripts/envoy/index.js';
import { describeResult, killRunningCommands, runCommand } from '../helpers/run-command.js';

const scripts = (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const programs = Object.entries(scripts).flatMap(([name, command]) => {
  const file = /^tsx (\S+\.ts)$/.exec(command)?.[1];
  return file ? [{ name, file }] : [];
});

afterEach(() => {
  killRunningCommands();
});

test('the npm scripts name their programs', () => {
  expect(programs.map((p) => p.name).sort()).toEqual(['bench', 'bench:perf', 'client', 'control', 'derive:envoy', 'gen:balancers', 'gen:xds', 'lab', 'load', 'server', 'setup:envoy', 'setup:observability', 'start', 'xds'].sort());
});

test.each(programs)('npm run $name: $file exists', ({ file }) => {
  expect(existsSync(path.join(projectRoot, file)), file).toBe(true);
});

// The server and setup:envoy take no flags (env vars, or nothing); every other program has a command line.
test.each(programs.filter((p) => !['server', 'setup:envoy'].includes(p.name)))('npm run $name -- --help prints its usage and exits 0', async ({ file }) => {
  const result = await runCommand(process.execPath, ['--import', 'tsx', file, '--help'], { cwd: projectRoot, timeoutMs: 20_000 });
  expect(result.code, describeResult(result)).toBe(0);
  expect(result.stdout).toMatch(/^Usage: /m);
}, 25_000);
