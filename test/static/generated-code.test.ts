// gen/ is committed, so it can drift from protos/ or from the ts-proto version in the lockfile. This regenerates it
// (buf generate with ts-proto, then the reflection descriptors) into a scratch copy of the repo's buf setup and
// demands byte-identical output.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../scripts/envoy/paths.js';
import { describeResult, killRunningCommands, runCommand } from '../helpers/run-command.js';

const buf = path.join(projectRoot, 'node_modules', '.bin', 'buf');
const scratchDirs: string[] = [];

/**
 * A scratch copy of buf.yaml, buf.gen.yaml and protos/, with node_modules linked in so buf.gen.yaml's relative
 * plugin path (node_modules/.bin/protoc-gen-ts_proto) resolves there. Generating in place would let
 * buf.gen.yaml's `clean: true` delete the real gen/.
 */
function scratchCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'buf-generate-'));
  scratchDirs.push(dir);
  for (const file of ['buf.yaml', 'buf.gen.yaml']) cpSync(path.join(projectRoot, file), path.join(dir, file));
  cpSync(path.join(projectRoot, 'protos'), path.join(dir, 'protos'), { recursive: true });
  symlinkSync(path.join(projectRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Every file under `root`, as sorted paths relative to it. */
function listFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** The files that differ between two trees: missing on either side, or with different bytes. */
function differences(expectedRoot: string, actualRoot: string): string[] {
  const expected = listFiles(expectedRoot);
  const actual = listFiles(actualRoot);
  const problems: string[] = [];
  for (const file of expected) if (!actual.includes(file)) problems.push(`${file}: committed but no longer generated`);
  for (const file of actual) if (!expected.includes(file)) problems.push(`${file}: generated but not committed`);
  for (const file of expected.filter((candidate) => actual.includes(candidate))) {
    if (!readFileSync(path.join(expectedRoot, file)).equals(readFileSync(path.join(actualRoot, file)))) {
      problems.push(`${file}: content differs from a fresh \`npm run gen\``);
    }
  }
  return problems;
}

/** What `npm run gen` does, in `dir`: buf generate, then the reflection descriptors from buf build. */
async function generate(dir: string): Promise<void> {
  const generated = await runCommand(buf, ['generate'], { cwd: dir, timeoutMs: 30_000 });
  expect(generated.code, describeResult(generated)).toBe(0);
  const descriptors = await runCommand(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'scripts/gen/reflection-descriptors.ts'), dir], {
    cwd: projectRoot,
    timeoutMs: 30_000,
  });
  expect(descriptors.code, describeResult(descriptors)).toBe(0);
}

afterEach(() => {
  killRunningCommands();
});

afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

describe('generated code (gen/)', () => {
  it('is byte-identical to a fresh buf generate from protos/', async () => {
    const dir = scratchCopy();
    await generate(dir);
    const problems = differences(path.join(projectRoot, 'gen'), path.join(dir, 'gen'));
    expect(problems, 'gen/ is stale: run `npm run gen` and commit the result').toEqual([]);
  }, 60_000);

  it('really differs when the proto changes (so the check above can fail)', async () => {
    const dir = scratchCopy();
    const proto = path.join(dir, 'protos/greeter/v1/greeter.proto');
    const original = readFileSync(proto, 'utf8');
    const changed = original.replace(/(message SayHelloRequest \{)/, '$1\n  string shout = 99;');
    expect(changed, 'SayHelloRequest not found in the proto').not.toBe(original);
    writeFileSync(proto, changed);
    await generate(dir);
    const problems = differences(path.join(projectRoot, 'gen'), path.join(dir, 'gen'));
    expect(problems).toContain('greeter/v1/greeter.ts: content differs from a fresh `npm run gen`');
    expect(problems).toContain('reflection/descriptors.ts: content differs from a fresh `npm run gen`');
  }, 60_000);

  it('comes from protos that pass buf lint', async () => {
    const result = await runCommand(buf, ['lint'], { cwd: projectRoot, timeoutMs: 30_000 });
    expect(result.code, describeResult(result)).toBe(0);
    expect(result.stdout.trim(), describeResult(result)).toBe('');
  }, 60_000);
});
