// The compose runner's own mechanics with a real child process: a small node script stands in for `docker compose`,
// so argv, working directory, output, exit codes and a timeout (which real Compose cannot be made to hit on cue)
// are all observed on a real process. What real Compose does is proven in test/compose/.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { composeErrorLine, createComposeRunner } from '../../scripts/drivers/compose-cli.js';
import { LabError } from '../../scripts/drivers/driver.js';
import { pollUntil } from '../../scripts/stack/poll-until.js';

let dir: string;
let composeFile: string;
const pids: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'compose-cli-test-'));
  composeFile = path.join(dir, 'docker-compose.yml');
});

afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in `docker compose`: node running `script`; `--` keeps the runner's flags away from node itself. */
function standIn(script: string): [string, ...string[]] {
  return [process.execPath, '-e', script, '--'];
}

test('runs <command> -f <file> ...args in the project folder and returns its output and code', async () => {
  const lines: string[] = [];
  const run = createComposeRunner({
    composeFile,
    command: standIn(
      'console.log(JSON.stringify({ argv: process.argv.slice(1), cwd: process.cwd() }));' +
        'process.stderr.write(" Container a  Started\\nboom: it broke\\n"); process.exitCode = 3;',
    ),
    onLine: (line) => lines.push(line),
  });
  const result = await run(['up', '-d', '--scale', 'grpc-server=2']);
  expect(result.code).toBe(3);
  expect(JSON.parse(result.stdout)).toEqual({
    argv: ['-f', composeFile, 'up', '-d', '--scale', 'grpc-server=2'],
    cwd: dir,
  });
  expect(lines).toEqual([' Container a  Started', 'boom: it broke']);
  expect(composeErrorLine(result.stderr)).toBe('boom: it broke');
});

test('a command that outlives the timeout is killed and reported as a LabError', async () => {
  const pidFile = path.join(dir, 'pid');
  const run = createComposeRunner({
    composeFile,
    timeoutMs: 600,
    command: standIn(`require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`),
  });
  const error = await run(['up', '-d']).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(LabError);
  expect((error as LabError).message).toBe('docker compose up -d did not finish within 0.6 s');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  pids.push(pid);
  await pollUntil(
    'the timed-out stand-in to exit',
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    { timeoutMs: 2_000, intervalMs: 20 },
  );
});

test('a missing docker binary is one LabError line, not a spawn stack', async () => {
  const run = createComposeRunner({ composeFile, command: [path.join(dir, 'no-such-docker'), 'compose'] });
  await expect(run(['down'])).rejects.toMatchObject({
    name: 'LabError',
    message: `cannot run docker compose: ${path.join(dir, 'no-such-docker')} not found (install the Docker CLI with the compose plugin)`,
  });
});

test('composeErrorLine: the last non-empty line, or the missing compose plugin by name', () => {
  expect(composeErrorLine('first\n  second  \n\n')).toBe('second');
  expect(composeErrorLine('')).toBe('(no error output)');
  // What this machine's docker CLI prints for `docker compose` without the plugin.
  expect(composeErrorLine("docker: unknown command: docker compose\n\nRun 'docker --help' for more information\n")).toBe(
    'the docker CLI has no compose plugin (install Docker Compose v2)',
  );
});
