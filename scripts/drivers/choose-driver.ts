import Docker from 'dockerode';
import { readStateFile, stateFilePath } from '../stack/index.js';
import { createDockerDriver, dockerAvailable } from './docker-driver.js';
import { LabError, type LabDriver } from './driver.js';
import { LocalDriver } from './local-driver.js';

export type DriverChoice = 'docker' | 'local';

/** How long to wait for a Docker engine before deciding there is none. */
const DOCKER_PING_TIMEOUT_MS = 1500;

/**
 * The driver for this run, and why it was chosen (said on the first line of every `lab` command): the one asked
 * for; else local while this checkout's `npm start` system runs (its state file names a live process); else docker
 * when a Docker engine answers; else local.
 */
export async function chooseDriver(choice: DriverChoice | undefined): Promise<{ driver: LabDriver; reason: string }> {
  if (choice === 'local') return { driver: new LocalDriver(), reason: '--driver local' };
  if (choice === undefined && readStateFile(stateFilePath()) !== undefined) {
    return { driver: new LocalDriver(), reason: `a local system of this checkout runs (${stateFilePath()})` };
  }
  const docker = new Docker();
  const engine = await dockerAvailable(docker, DOCKER_PING_TIMEOUT_MS);
  if (choice === 'docker') {
    if (!engine) throw new LabError('--driver docker: no Docker engine answers (is the daemon running? DOCKER_HOST?)');
    return { driver: createDockerDriver({ docker }), reason: '--driver docker' };
  }
  return engine
    ? { driver: createDockerDriver({ docker }), reason: 'a Docker engine answered and no local system runs' }
    : { driver: new LocalDriver(), reason: 'no Docker engine answered' };
}
