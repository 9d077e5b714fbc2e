// The xDS variant of Envoy's config is derived from envoy.yaml, never written twice: envoy-xds.yaml (what
// docker-compose.xds.yml mounts) must be what deriveXdsEnvoyConfig makes of today's envoy.yaml, pass Envoy's own
// validation, and give every setting its reason; the local variant (npm start --discovery xds) must validate too;
// and the cluster the control plane serves must carry envoy.yaml's health checks, outlier detection and breakers.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEnvoy, type EnvoyBinary } from '../../scripts/envoy/binary.js';
import { CLUSTER_NAME, deriveLocalEnvoyConfig, deriveXdsEnvoyConfig, envoyYamlPath, projectRoot, servedXdsConfig, XDS_CLUSTER } from '../../scripts/envoy/index.js';
import { ENVOY_XDS_FILE, envoyXdsYaml } from '../../scripts/xds/envoy-xds-file.js';
import { describeResult, runCommand } from '../helpers/run-command.js';
import { findUncommentedSettings } from './envoy-comment-rule.js';

let envoy: EnvoyBinary;
const dir = mkdtempSync(path.join(tmpdir(), 'xds-config-'));
const envoyYaml = readFileSync(envoyYamlPath, 'utf8');

beforeAll(async () => {
  envoy = await requireEnvoy((line) => process.stderr.write(`${line}\n`));
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function validate(file: string): Promise<void> {
  const result = await runCommand(envoy.path, ['--mode', 'validate', '--disable-hot-restart', '-c', file], { cwd: projectRoot, timeoutMs: 20_000 });
  expect(result.code, describeResult(result)).toBe(0);
  expect(`${result.stdout}${result.stderr}`).toContain('OK');
}

describe('envoy-xds.yaml', () => {
  it('is what deriveXdsEnvoyConfig makes of envoy.yaml today', () => {
    expect(readFileSync(ENVOY_XDS_FILE, 'utf8'), 'envoy-xds.yaml is stale: regenerate it with `npm run gen:xds`').toBe(envoyXdsYaml(envoyYaml));
  });

  it('passes envoy --mode validate, and gives every setting its reason', async () => {
    await validate(ENVOY_XDS_FILE);
    expect(findUncommentedSettings(readFileSync(ENVOY_XDS_FILE, 'utf8'))).toEqual([]);
  }, 30_000);

  it('keeps envoy.yaml as it is but for the cluster (now the control plane\'s) and the routes (now RDS)', () => {
    const derived = YAML.parse(readFileSync(ENVOY_XDS_FILE, 'utf8'));
    const base = YAML.parse(envoyYaml);
    expect(derived.static_resources.clusters.map((c: { name: string }) => c.name)).toEqual([XDS_CLUSTER, 'envoy_admin']);
    expect(derived.admin).toEqual(base.admin);
    expect(derived.static_resources.listeners[1]).toEqual(base.static_resources.listeners[1]);
    const hcm = derived.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    expect(hcm.route_config).toBeUndefined();
    expect(hcm.rds.route_config_name).toBe(base.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.name);
  });
});

describe('the local xDS variant and what the control plane serves', () => {
  it('npm start --discovery xds: the local config on xDS passes envoy --mode validate', async () => {
    const local = deriveLocalEnvoyConfig(envoyYaml, { bindAddress: '127.0.0.1', listenerPort: 0, adminPort: 0, upstreamPort: 8080, dnsAddress: '127.0.0.1', dnsPort: 53 });
    const file = path.join(dir, 'local-xds.yaml');
    writeFileSync(file, deriveXdsEnvoyConfig(local, { controlPlaneAddress: '127.0.0.1', controlPlanePort: 18000, nodeId: 'envoy-local' }));
    await validate(file);
  }, 30_000);

  it("serves envoy.yaml's cluster on EDS: the same health checks, outlier detection, breakers and policy", () => {
    const base = YAML.parse(envoyYaml).static_resources.clusters.find((c: { name: string }) => c.name === CLUSTER_NAME);
    const { cluster } = servedXdsConfig(envoyYaml);
    expect(cluster.type).toBe('EDS');
    expect(cluster.cluster_type).toBeUndefined();
    expect(cluster.load_assignment).toBeUndefined();
    for (const key of ['health_checks', 'outlier_detection', 'circuit_breakers', 'lb_policy', 'common_lb_config', 'connect_timeout']) {
      expect(cluster[key], key).toEqual(base[key]);
    }
  });
});
