// Hostile command lines and environments for the kit's own programs (npm start, lab, npm run load): each is refused
// before anything starts, with exactly one line naming the mistake, the right exit code, and never a stack trace or
// a silent default. A state file that is not one is an error, not "nothing runs".
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTs } from '../integration/server-process.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'hostile-usage-'));
const missingState = path.join(scratch, 'none.json');
const garbageState = path.join(scratch, 'garbage.json');
const wrongState = path.join(scratch, 'wrong.json');
writeFileSync(garbageState, 'not json {');
writeFileSync(wrongState, JSON.stringify({ pid: 'one', controlUrl: 42 }));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const START = 'scripts/stack/start.ts';
const LAB = 'scripts/lab/lab.ts';
const LOAD = 'client/src/load/main.ts';

interface UsageCase {
  program: string;
  args: string[];
  env?: Record<string, string>;
  code: number;
  line: string | RegExp;
}

const CASES: UsageCase[] = [
  { program: START, args: ['--server-port', '65535'], code: 2, line: 'npm start: --server-port must be an integer from 1 to 65534, got "65535"' },
  { program: START, args: ['--port', '15999', '--admin-port', '15999'], code: 2, line: 'npm start: --port and --admin-port must differ, both are 15999' },
  { program: START, args: ['--replicas', '1e3'], code: 2, line: 'npm start: --replicas must be an integer from 1 to 50, got "1e3"' },
  { program: START, args: ['--replicas', '0'], code: 2, line: 'npm start: --replicas must be an integer from 1 to 50, got "0"' },
  { program: START, args: ['--discovery', 'carrier-pigeon'], code: 2, line: 'npm start: --discovery must be dns or xds, got "carrier-pigeon"' },
  { program: START, args: ['--bogus'], code: 2, line: "npm start: unknown option '--bogus'" },
  { program: START, args: [], env: { LAB_STATE_FILE: garbageState }, code: 1, line: `npm start: ${garbageState} is not a lab state file; remove it, or set LAB_STATE_FILE to another path` },
  { program: START, args: [], env: { LAB_STATE_FILE: scratch }, code: 1, line: `npm start: cannot read the state file ${scratch} (EISDIR); set LAB_STATE_FILE to a file path` },
  { program: LAB, args: ['frobnicate'], code: 2, line: "lab: unknown command 'frobnicate'" },
  { program: LAB, args: ['--driver', 'kubernetes', 'ps'], code: 2, line: 'lab: --driver must be docker or local, got "kubernetes"' },
  { program: LAB, args: ['experiment', 'nope'], code: 2, line: /^lab: unknown experiment "nope"; one of l4-vs-l7, / },
  { program: LAB, args: ['--driver', 'local', 'scale', '-1'], code: 2, line: 'lab: the replica count must be an integer from 1 to 50, got "-1"' },
  { program: LAB, args: ['--driver', 'local', 'ps'], env: { LAB_STATE_FILE: wrongState }, code: 1, line: `lab: ${wrongState} is not a lab state file; remove it, or set LAB_STATE_FILE to another path` },
  { program: LAB, args: ['--driver', 'local', 'down'], env: { LAB_STATE_FILE: garbageState }, code: 1, line: `lab: ${garbageState} is not a lab state file; remove it, or set LAB_STATE_FILE to another path` },
  { program: LAB, args: ['--driver', 'local', 'ps'], env: { LAB_STATE_FILE: missingState }, code: 1, line: /no local lab system is running/ },
  { program: LOAD, args: ['--rate', '-5'], code: 2, line: 'grpc-load: --rate must be calls per second, above 0 and at most 100000, got "-5"' },
  { program: LOAD, args: ['--duration', '1e400'], code: 2, line: 'grpc-load: --duration must be seconds, above 0 and at most 2147483, got "1e400"' },
  { program: LOAD, args: ['--concurrency', '0x10'], code: 2, line: 'grpc-load: --concurrency must be an integer from 1 to 10000, got "0x10"' },
];

describe('hostile command lines and environments', () => {
  it.each(CASES)('$program $args $env: exit $code with one line', async ({ program, args, env, code, line }) => {
    const result = await runTs(program, args, { LAB_STATE_FILE: missingState, ...env }, 30_000);
    const lines = result.stderr.trimEnd().split('\n').filter((text) => text !== '');
    expect(result.stderr, 'no stack trace').not.toMatch(/^\s+at /m);
    expect(result.code, result.stderr).toBe(code);
    // lab may say first which driver it chose and why; the mistake is the last line, and the only other one.
    const mistake = lines.at(-1) ?? '';
    if (typeof line === 'string') expect(mistake).toBe(line);
    else expect(mistake).toMatch(line);
    expect(lines.length, result.stderr).toBeLessThanOrEqual(program === LAB ? 2 : 1);
  });
});
