/**
 * The replicas and the worker client run as compiled JavaScript under `npm start` and the lab, as they do in the
 * images: under tsx every replica carried a TypeScript compiler (about 35 MB more RSS each) and paid its loader on
 * start. dist/ is built on demand, with one line saying why, whenever it is missing or older than any source file,
 * so neither a fresh clone nor a test ever runs stale code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { projectRoot } from '../envoy/index.js';

/** The compiled entry points, relative to the project root. */
export const COMPILED_SERVER_ENTRY = path.join('dist', 'server', 'src', 'main.js');
export const COMPILED_CLIENT_ENTRY = path.join('dist', 'client', 'src', 'main.js');

/** Written after every successful build: the sources are compared with it. */
const STAMP = path.join(projectRoot, 'dist', '.build-stamp');
/** What tsconfig.build.json compiles, and the configs that shape it. */
const SOURCE_DIRS = ['gen', path.join('server', 'src'), path.join('client', 'src')];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** Why dist/ must be rebuilt ("missing", or the newest changed source), or undefined when it is current. */
export function staleReason(root = projectRoot): string | undefined {
  const stamp = path.join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp) || !existsSync(path.join(root, COMPILED_SERVER_ENTRY)) || !existsSync(path.join(root, COMPILED_CLIENT_ENTRY))) {
    return 'dist/ is missing';
  }
  const built = statSync(stamp).mtimeMs;
  const changed = [...CONFIG_FILES.map((f) => path.join(root, f)), ...SOURCE_DIRS.flatMap((dir) => filesUnder(path.join(root, dir)))].find(
    (file) => existsSync(file) && statSync(file).mtimeMs > built,
  );
  return changed ? `${path.relative(root, changed)} changed since the last build` : undefined;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * Builds dist/ (tsc -p tsconfig.build.json) when it is missing or stale, saying so in one line through `say`;
 * throws with tsc's first error line when the build fails.
 */
export function ensureCompiled(say: (line: string) => void): void {
  const reason = staleReason();
  if (!reason) return;
  say(`compiling the replicas and the client to dist/ (${reason}); takes a few seconds`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: projectRoot, stdio: 'pipe' });
  } catch (error) {
    const output = String((error as { stdout?: Buffer }).stdout ?? '').trim().split('\n')[0] ?? '';
    throw new Error(`building dist/ failed: ${output || 'tsc exited with an error'}`);
  }
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
}
