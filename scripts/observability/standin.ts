// The Prometheus stand-in image: where the Docker engine reaches no image registry (CI on this machine kind), the
// observability profile's Prometheus is built locally from Debian's prometheus package, the way
// ../shared/docker-engine/engine.sh makes its node and envoy stand-ins, and tagged exactly as the official image.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { composeFilePath, prometheusStandinDockerfile } from './paths.js';

const execFileAsync = promisify(execFile);

/** A build that goes wrong, or no docker CLI: one line for the user. */
export class StandinError extends Error {
  override name = 'StandinError';
}

/** The image docker-compose.yml's prometheus service runs: the tag the stand-in must carry. */
export function composePrometheusImage(composeText = readFileSync(composeFilePath, 'utf8')): string {
  const compose = YAML.parse(composeText) as { services?: Record<string, { image?: unknown }> };
  const image = compose.services?.prometheus?.image;
  if (typeof image !== 'string' || !/^prom\/prometheus:v\d+\.\d+\.\d+$/.test(image)) {
    throw new StandinError(`docker-compose.yml: the prometheus service must run prom/prometheus:v<x.y.z>, got ${String(image)}`);
  }
  return image;
}

/** True when the engine has an image under this tag (pulled, or an earlier stand-in). */
export async function imageExists(tag: string): Promise<boolean> {
  try {
    await execFileAsync('docker', ['image', 'inspect', '--format', '{{.Id}}', tag], { timeout: 30_000 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new StandinError('no docker CLI on PATH');
    return false;
  }
}

/**
 * Builds the stand-in under `tag` unless the engine already has that tag. Resolves with what it did. The classic
 * builder (DOCKER_BUILDKIT=0), as engine.sh builds: it needs no buildx plugin on engine 20.10.
 */
export async function ensurePrometheusStandin(tag: string, log: (line: string) => void): Promise<'present' | 'built'> {
  if (await imageExists(tag)) return 'present';
  log(`building the stand-in ${tag} from local/debian:bookworm and Debian's prometheus package`);
  try {
    await execFileAsync(
      'docker',
      ['build', '-q', '-t', tag, '-f', prometheusStandinDockerfile, path.dirname(prometheusStandinDockerfile)],
      { timeout: 10 * 60_000, env: { ...process.env, DOCKER_BUILDKIT: '0' }, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? (error as Error).message);
    const last = stderr.trim().split('\n').at(-1) ?? 'docker build failed';
    throw new StandinError(`docker build of ${tag} failed: ${last}`);
  }
  return 'built';
}
