import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, isExecutable } from '../cli/executables.js';

const execFileAsync = promisify(execFile);

/** One line for anyone who has no Prometheus yet. */
export const INSTALL_HINT = "install Debian's package (apt-get install prometheus), or set PROMETHEUS_BIN to a prometheus binary";

/** Where the Prometheus binary and its promtool were found, and which version they say they are. */
export interface PrometheusBinary {
  prometheus: string;
  /** promtool from the same folder (Debian's package ships both in /usr/bin). */
  promtool: string;
  version: string;
  source: 'PROMETHEUS_BIN' | 'PATH';
}

/** No usable Prometheus: printed as one line, never a stack trace. */
export class PrometheusNotAvailableError extends Error {
  override name = 'PrometheusNotAvailableError';
}

/** `prometheus --version` prints "prometheus, version 2.42.0+ds (branch: ...)" on its first line. */
async function versionOf(binary: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync(binary, ['--version'], { timeout: 10_000 });
  const match = /version (\d+\.\d+\.\d+)/.exec(`${stdout}${stderr}`);
  if (!match?.[1]) throw new PrometheusNotAvailableError(`${binary} --version did not report a version`);
  return match[1];
}

/**
 * Finds Prometheus as Envoy is found: PROMETHEUS_BIN, then `prometheus` on PATH; promtool beside it. Throws
 * PrometheusNotAvailableError, with how to install it, when there is none.
 */
export async function requirePrometheus(): Promise<PrometheusBinary> {
  const fromEnv = process.env.PROMETHEUS_BIN;
  let prometheus: string | undefined;
  let source: PrometheusBinary['source'] = 'PATH';
  if (fromEnv !== undefined && fromEnv !== '') {
    // A set PROMETHEUS_BIN that does not work is a mistake to report, not a reason to fall back silently.
    if (!isExecutable(fromEnv)) throw new PrometheusNotAvailableError(`PROMETHEUS_BIN=${fromEnv} is not an executable file`);
    prometheus = fromEnv;
    source = 'PROMETHEUS_BIN';
  } else {
    prometheus = findOnPath('prometheus');
  }
  if (prometheus === undefined) throw new PrometheusNotAvailableError(`no prometheus on PATH; ${INSTALL_HINT}`);
  const promtool = path.join(path.dirname(prometheus), 'promtool');
  if (!isExecutable(promtool)) throw new PrometheusNotAvailableError(`no promtool beside ${prometheus}; ${INSTALL_HINT}`);
  return { prometheus, promtool, version: await versionOf(prometheus), source };
}
