// Finds the balancer programs a local scorecard run starts, the way scripts/envoy/binary.ts finds Envoy: a variable
// naming the binary wins, then PATH, then the sbin folders Debian installs daemons into (often off a user's PATH).
import { findOnPath, isExecutable } from '../cli/executables.js';
import { LabError } from '../drivers/index.js';

const TOOLS = {
  nginx: { variable: 'NGINX_BIN', install: 'sudo apt-get install nginx-light' },
  haproxy: { variable: 'HAPROXY_BIN', install: 'sudo apt-get install haproxy' },
} as const;

export type LocalTool = keyof typeof TOOLS;

const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

/** The path of `tool`, or a LabError with the one line that says how to install it. */
export function findTool(tool: LocalTool, env: NodeJS.ProcessEnv = process.env): string {
  const { variable, install } = TOOLS[tool];
  const given = env[variable];
  if (given !== undefined && given !== '') {
    if (!isExecutable(given)) throw new LabError(`${variable}=${given} is not an executable file`);
    return given;
  }
  const found = findOnPath(tool, { env, extraDirs: SBIN });
  if (!found) throw new LabError(`${tool} not found (${variable}, PATH, ${SBIN.join(', ')}): install it with \`${install}\``);
  return found;
}
