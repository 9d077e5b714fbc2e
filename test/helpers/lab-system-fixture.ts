import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { LocalDriver } from '../../scripts/drivers/local-driver.js';
import { freePort } from '../../scripts/stack/free-port.js';
import { envoyForTests } from './envoy-for-tests.js';

/** A background local lab system (what `npm run lab -- up` starts) owned by one test file. */
export interface LabSystemUnderTest {
  driver: LocalDriver;
  /** LAB_STATE_FILE of this system, for running the real `lab` CLI against it. */
  stateFile: string;
  /** The port every replica binds (on 127.0.0.2, .3, ...). */
  serverPort: number;
}

/**
 * Starts a local lab system with `replicas` replicas on free ports and its own state file before the file's
 * tests, and takes it down after them. Its replicas use 127.0.0.2, .3, ... as `npm start` does.
 */
export function useLabSystem(replicas = 3): LabSystemUnderTest {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-system-'));
  const system = { stateFile: path.join(dir, 'local-stack.json') } as LabSystemUnderTest;
  beforeAll(async () => {
    process.env.ENVOY_BIN = (await envoyForTests()).path;
    system.serverPort = await freePort();
    system.driver = new LocalDriver({
      stateFile: system.stateFile,
      ports: { port: await freePort(), adminPort: await freePort(), serverPort: system.serverPort },
    });
    await system.driver.up(replicas);
  });
  afterAll(async () => {
    await system.driver?.down();
    rmSync(dir, { recursive: true, force: true });
  });
  return system;
}
