// The scorecard's contender configs (balancers/) are checked by their own tools, as envoy.yaml is by Envoy:
// `nginx -t`, `haproxy -c`, `envoy --mode validate`, on the files as written and as a local run derives them; and
// each keeps the project's rule of a reason beside every setting. No skip: a missing tool fails with how to install it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireEnvoy } from '../../scripts/envoy/binary.js';
import { deriveL4EnvoyConfig, envoyYamlPath, projectRoot } from '../../scripts/envoy/index.js';
import { BALANCER_IMAGES, CONFIG_FILES, contenders, deriveLocalHaproxyConfig, deriveLocalNginxConfig, findTool } from '../../scripts/scorecard/index.js';
import { findUncommentedSettings } from './envoy-comment-rule.js';
import { describeResult, killRunningCommands, runCommand } from '../helpers/run-command.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'balancer-configs-'));
let envoy: string;

beforeAll(async () => {
  envoy = (await requireEnvoy()).path;
}, 300_000);
afterEach(() => killRunningCommands());
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(scratch, name);
  writeFileSync(file, text);
  return file;
}

const run = (command: string, args: string[]) => runCommand(command, args, { cwd: projectRoot, timeoutMs: 20_000 });

/** Setting lines (not blank, not a comment, not a block or section line) with no `#` reason on them or above them. */
function unexplained(text: string, isStructure: (line: string) => boolean): string[] {
  const lines = text.split('\n');
  return lines.filter((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || isStructure(trimmed)) return false;
    return !/\s#\s/.test(line) && !(lines[i - 1] ?? '').trim().startsWith('#');
  });
}

describe('balancers/nginx.conf', () => {
  // `nginx -t` resolves upstream names: grpc-server exists only on the Compose network, so the file is checked as the
  // local run derives it (the same file, with the replicas' addresses for the name, loopback, writable paths).
  const derived = (text: string) =>
    deriveLocalNginxConfig(text, { listen: '127.0.0.1:15000', replicas: ['127.0.0.2:18080', '127.0.0.3:18080'], dir: scratch });

  it('passes nginx -t', async () => {
    const result = await run(findTool('nginx'), ['-t', '-e', 'stderr', '-p', `${scratch}/`, '-c', write('nginx.conf', derived(readFileSync(CONFIG_FILES.nginx, 'utf8')))]);
    expect(result.code, describeResult(result)).toBe(0);
    expect(result.stderr).toContain('test is successful');
  });

  it('nginx -t really rejects a broken one (so the check above can fail)', async () => {
    const broken = derived(readFileSync(CONFIG_FILES.nginx, 'utf8')).replace('grpc_read_timeout 1s;', 'grpc_read_timeout soon;');
    const result = await run(findTool('nginx'), ['-t', '-e', 'stderr', '-p', `${scratch}/`, '-c', write('broken.conf', broken)]);
    expect(result.code, describeResult(result)).not.toBe(0);
  });

  it('gives every setting its reason', () => {
    expect(unexplained(readFileSync(CONFIG_FILES.nginx, 'utf8'), (l) => l.endsWith('{') || l === '}')).toEqual([]);
  });
});

describe('balancers/haproxy.cfg', () => {
  it('passes haproxy -c as written (Compose) and as the local run derives it', async () => {
    const text = readFileSync(CONFIG_FILES.haproxy, 'utf8');
    const local = deriveLocalHaproxyConfig(text, { bind: '127.0.0.1:15000', dns: '127.0.0.1:15353', replicaPort: 18080 });
    for (const file of [CONFIG_FILES.haproxy, write('haproxy.cfg', local)]) {
      const result = await run(findTool('haproxy'), ['-c', '-f', file]);
      expect(result.code, describeResult(result)).toBe(0);
    }
  });

  it('haproxy -c really rejects a broken one', async () => {
    const broken = readFileSync(CONFIG_FILES.haproxy, 'utf8').replace('balance roundrobin', 'balance sideways');
    const result = await run(findTool('haproxy'), ['-c', '-f', write('broken.cfg', broken)]);
    expect(result.code, describeResult(result)).not.toBe(0);
  });

  it('gives every setting its reason', () => {
    const sections = /^(global|defaults|frontend \S+|backend \S+|resolvers \S+)$/;
    expect(unexplained(readFileSync(CONFIG_FILES.haproxy, 'utf8'), (l) => sections.test(l))).toEqual([]);
  });
});

describe('balancers/envoy-l4.yaml', () => {
  it('is envoy.yaml with a tcp_proxy listener, as deriveL4EnvoyConfig makes it today', () => {
    const current = deriveL4EnvoyConfig(readFileSync(envoyYamlPath, 'utf8'));
    expect(readFileSync(CONFIG_FILES['envoy-l4'], 'utf8'), 'balancers/envoy-l4.yaml is stale: regenerate it with `npm run gen:balancers`').toBe(current);
  });

  it('passes envoy --mode validate', async () => {
    const result = await run(envoy, ['--mode', 'validate', '--disable-hot-restart', '-c', CONFIG_FILES['envoy-l4']]);
    expect(result.code, describeResult(result)).toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('OK');
  }, 30_000);

  it('gives every setting its reason', () => {
    expect(findUncommentedSettings(readFileSync(CONFIG_FILES['envoy-l4'], 'utf8'))).toEqual([]);
  });
});

describe('the scorecard', () => {
  it("finds every contender's features in its config, quick and full", () => {
    for (const quick of [true, false]) {
      for (const contender of contenders(quick)) expect(contender.features().length, contender.name).toBeGreaterThan(0);
    }
  });

  it('builds stand-ins under the very tags the docker site runs', () => {
    const script = readFileSync(path.join(projectRoot, 'scripts', 'scorecard', 'setup-standins.sh'), 'utf8');
    const tags = /^images=\(([^)]*)\)$/m.exec(script)?.[1]?.split(/\s+/) ?? [];
    expect(tags.sort()).toEqual([BALANCER_IMAGES.nginx, BALANCER_IMAGES.haproxy].sort());
  });
});
