// ghz (github.com/bojand/ghz), a Go gRPC load tool, as the reference client: the same calls at the same concurrency
// or rate as the kit's own load generator, so both are judged against a client nobody here wrote. Optional:
// `npm run setup:ghz` installs the pinned version into .tools/bin.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findOnPath } from '../../cli/executables.js';
import { projectRoot } from '../../envoy/index.js';
import { percentilesOf, type PathFigures } from './figures.js';

/** Where ghz is: GHZ, then .tools/bin (setup:ghz), then PATH; undefined when nowhere. */
export function findGhz(): string | undefined {
  for (const candidate of [process.env.GHZ, path.join(projectRoot, '.tools', 'bin', 'ghz')]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return findOnPath('ghz');
}

/** One ghz run: closed loop at `concurrency`, or `rate` calls/s, for `durationS`, against each of `targets` at once. */
export interface GhzRun {
  targets: string[];
  concurrency: number;
  rate: number | null;
  durationS: number;
}

interface GhzJson {
  count: number;
  total: number;
  statusCodeDistribution?: Record<string, number>;
  details?: Array<{ latency: number; status: string }>;
}

/**
 * Runs ghz once per target, all at the same time (the direct path: ghz has no client-side round robin over a list
 * of addresses, so each replica gets its own ghz with its share of the concurrency and rate), and sums them up.
 * CPU is what bash's `times` reports for each ghz it ran: the kernel's account of the whole process.
 */
export async function runGhz(binary: string, run: GhzRun): Promise<PathFigures> {
  const dir = mkdtempSync(path.join(tmpdir(), 'grpc-envoy-lab-ghz-'));
  try {
    const share = run.targets.length;
    const parts = await Promise.all(
      run.targets.map(async (target, i) => {
        const out = path.join(dir, `ghz-${i}.json`);
        const args = [
          '--insecure',
          '--proto', path.join(projectRoot, 'protos', 'greeter', 'v1', 'greeter.proto'),
          '--import-paths', path.join(projectRoot, 'protos'),
          '--call', 'greeter.v1.Greeter.SayHello',
          '-d', '{"name":"bench"}',
          '-c', String(Math.max(1, Math.round(run.concurrency / share))),
          '-z', `${run.durationS}s`,
          ...(run.rate === null ? [] : ['--rps', String(Math.max(1, Math.round(run.rate / share)))]),
          '-O', 'json', '-o', out,
          target,
        ];
        const times = await bashTimes(binary, args, (run.durationS + 30) * 1000);
        return { json: JSON.parse(readFileSync(out, 'utf8')) as GhzJson, cpuMs: times };
      }),
    );
    const latenciesMs = parts.flatMap((p) => (p.json.details ?? []).filter((d) => d.status === 'OK').map((d) => d.latency / 1e6));
    const calls = parts.reduce((sum, p) => sum + (p.json.statusCodeDistribution?.OK ?? 0), 0);
    const seconds = Math.max(...parts.map((p) => p.json.total / 1e9));
    return {
      okCalls: calls,
      failedCalls: parts.reduce((sum, p) => sum + p.json.count, 0) - calls,
      callsPerS: seconds > 0 ? calls / seconds : 0,
      latencyMs: percentilesOf(latenciesMs),
      clientCpuMs: parts.reduce((sum, p) => sum + p.cpuMs, 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `binary args` under bash and returns the CPU ms bash's `times` accounts to it (user + system). */
function bashTimes(binary: string, args: string[], timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', '"$@" >/dev/null 2>&1; status=$?; times; exit $status', 'ghz', binary, ...args], { timeout: timeoutMs }, (error, stdout) => {
      if (error) {
        reject(new Error(`ghz failed (${error.code ?? error.signal}): is the target up?`));
        return;
      }
      // `times` prints the shell's own times, then its children's: "0m1.234s 0m0.456s".
      const children = stdout.trim().split('\n').at(-1) ?? '';
      const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      resolve(seconds.reduce((sum, s) => sum + s, 0) * 1000);
    });
  });
}
