// Finding the programs the kit runs but does not ship (Envoy, Prometheus, nginx, HAProxy, ghz, grpcurl, kustomize):
// one lookup, so every finder treats PATH the same way (empty entries skipped, only executable files count).
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** True when `file` exists and this process may execute it. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first executable `command` in PATH's folders and then in `extraDirs` (for example the sbin folders Debian
 * installs daemons into), or undefined when there is none.
 */
export function findOnPath(command: string, { env = process.env, extraDirs = [] }: { env?: NodeJS.ProcessEnv; extraDirs?: readonly string[] } = {}): string | undefined {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== ''), ...extraDirs];
  return dirs.map((dir) => path.join(dir, command)).find(isExecutable);
}
