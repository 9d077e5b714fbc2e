// Whether this run can drive a real Docker engine with Compose v2, decided once for the whole run in vitest.config.ts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { dockerAvailable } from '../../scripts/drivers/docker-driver.js';

/** Yes with the engine and Compose versions, or no with the reason, in one line each. */
export type EngineStatus = { available: true; versions: string } | { available: false; reason: string };

export async function dockerEngineStatus(): Promise<EngineStatus> {
  const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const docker = new Docker();
  if (!(await dockerAvailable(docker, 2000))) return { available: false, reason: `no Docker engine answers at ${where}` };
  try {
    const { stdout } = await promisify(execFile)('docker', ['compose', 'version', '--short'], { timeout: 10_000 });
    const engine = (await docker.version()) as { Version?: string };
    return { available: true, versions: `engine ${engine.Version ?? '?'} at ${where}, Compose ${stdout.trim()}` };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { available: false, reason: `the engine at ${where} answers, but \`docker compose\` does not run (${reason})` };
  }
}
