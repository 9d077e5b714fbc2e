// How a control plane running as its own program (`npm run xds`) is found by the lab: a state file per Compose
// project, written atomically and readable by its owner alone (it holds the status API's token).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../envoy/index.js';

/** The port docker-compose.xds.yml's Envoy config (envoy-xds.yaml) dials, and `npm run xds` serves by default. */
export const DEFAULT_ADS_PORT = 18000;

/** The name Envoy's container reaches the host by (docker-compose.yml: extra_hosts host-gateway). */
export const HOST_GATEWAY_NAME = 'host.docker.internal';

export interface ControlPlaneStateFile {
  pid: number;
  project: string;
  /** host:port Envoy's container reaches (host.docker.internal there) and host clients dial. */
  ads: string;
  /** http://127.0.0.1:<port> of its status and policy API. */
  apiUrl: string;
  token: string;
}

/** .lab/xds-<project>.json (in LAB_STATE_FILE's folder when that is set, so a test's files stay its own). */
export function controlPlaneStatePath(project: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.LAB_STATE_FILE ? path.dirname(path.resolve(env.LAB_STATE_FILE)) : path.join(projectRoot, '.lab');
  return path.join(dir, `xds-${project}.json`);
}

export function writeControlPlaneState(file: string, state: ControlPlaneStateFile): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** The state of a running control plane, or undefined (no file, or its process is gone). */
export function readControlPlaneState(file: string): ControlPlaneStateFile | undefined {
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneStateFile;
    process.kill(state.pid, 0);
    return state;
  } catch {
    return undefined;
  }
}

export function removeControlPlaneState(file: string, pid: number): void {
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneStateFile).pid === pid) rmSync(file, { force: true });
  } catch {
    // Already gone.
  }
}
