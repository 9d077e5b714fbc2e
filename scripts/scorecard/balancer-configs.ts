// The contenders' configs in balancers/ (written for the Compose network) and what a local run changes in them:
// listen addresses, the replicas' addresses and port, the DNS server, writable paths. Every change must find the
// one line it expects, so a config edited out of shape fails here with one line, not as a puzzling measurement.
// The Envoy configs are derived in scripts/envoy (deriveLocalEnvoyConfig, deriveL4EnvoyConfig).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { envoyYamlPath, projectRoot } from '../envoy/index.js';
import { LabError } from '../drivers/index.js';

export const BALANCERS_DIR = path.join(projectRoot, 'balancers');
export const CONFIG_FILES = {
  'envoy-l7': envoyYamlPath,
  'envoy-l4': path.join(BALANCERS_DIR, 'envoy-l4.yaml'),
  nginx: path.join(BALANCERS_DIR, 'nginx.conf'),
  haproxy: path.join(BALANCERS_DIR, 'haproxy.cfg'),
} as const;

/** A contender config that no longer has the line a derivation or a feature needs. */
export class BalancerConfigShapeError extends LabError {
  override name = 'BalancerConfigShapeError';
}

/** The Compose service name and port the configs name the replicas by (docker-compose.yml, envoy.yaml). */
const SERVICE = 'grpc-server:8080';

/** Replaces the one match of `pattern` in `text`; anything but exactly one match is a shape error naming `file`. */
function replaceOnce(text: string, pattern: RegExp, replacement: (match: RegExpExecArray) => string, file: string): string {
  const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  const matches = [...text.matchAll(global)];
  if (matches.length !== 1) throw new BalancerConfigShapeError(`${path.basename(file)} must have exactly one line matching ${pattern} (found ${matches.length})`);
  const match = matches[0] as RegExpExecArray;
  return text.slice(0, match.index) + replacement(match) + text.slice(match.index + match[0].length);
}

/**
 * nginx.conf for local processes: listen on `listen` (loopback), one upstream server per replica address (what
 * open-source nginx makes of the service name when it starts: it resolves it once), writable paths in `dir`.
 */
export function deriveLocalNginxConfig(text: string, options: { listen: string; replicas: string[]; dir: string }): string {
  const file = CONFIG_FILES.nginx;
  let out = replaceOnce(text, /^(\s*)listen 5000 http2;.*$/m, (m) => `${m[1]}listen ${options.listen} http2; # local run: loopback only.`, file);
  out = replaceOnce(
    out,
    new RegExp(`^(\\s*)server ${SERVICE}( [^;]*)?;.*$`, 'm'),
    (m) => options.replicas.map((address) => `${m[1]}server ${address}${m[2] ?? ''}; # local run: ${SERVICE} as resolved at start.`).join('\n'),
    file,
  );
  return out.replaceAll('/tmp/', `${options.dir}/`);
}

/** haproxy.cfg for local processes: bind on `bind` (loopback), the loopback DNS responder, the replicas' port. */
export function deriveLocalHaproxyConfig(text: string, options: { bind: string; dns: string; replicaPort: number }): string {
  const file = CONFIG_FILES.haproxy;
  let out = replaceOnce(text, /^(\s*)bind :5000 proto h2.*$/m, (m) => `${m[1]}bind ${options.bind} proto h2 # local run: loopback only.`, file);
  out = replaceOnce(out, /^(\s*)nameserver dns 127\.0\.0\.11:53.*$/m, (m) => `${m[1]}nameserver dns ${options.dns} # local run: the stack's DNS responder.`, file);
  return replaceOnce(out, new RegExp(`^(\\s*server-template .*)${SERVICE}(.*)$`, 'm'), (m) => `${m[1]}grpc-server:${options.replicaPort}${m[2]}`, file);
}

/** A setting a contender needed, with the very line of its config that turns it on. */
export interface Feature {
  name: string;
  /** Path from the repository root. */
  file: string;
  /** The setting as the file spells it (its comment left out). */
  line: string;
}

/** The first line of `file` (from the repository root) matching `pattern`, without its trailing comment. */
export function featureLine(name: string, file: string, pattern: RegExp): Feature {
  const text = readFileSync(path.join(projectRoot, file), 'utf8');
  const line = text.split('\n').find((l) => pattern.test(l) && !/^\s*(#|\/\/|\*)/.test(l));
  if (line === undefined) throw new BalancerConfigShapeError(`${file} has no line matching ${pattern} (the ${name} feature)`);
  return { name, file, line: line.replace(/\s+(#|\/\/) .*$/, '').trim() };
}
