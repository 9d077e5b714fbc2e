// Switching the balancing policy changes cluster grpc_server's policy (and, for hash policies, the route's hash
// policy) and nothing else; every derived config passes the real Envoy's validation with no deprecation warning.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { DEFAULT_HASH_HEADER, derivePolicyConfig, LB_POLICIES, policyOf, PolicyChoiceError, type LbPolicy, type PolicyChoice } from '../../scripts/envoy/policy.js';
import { deriveLocalEnvoyConfig } from '../../scripts/envoy/config.js';
import { envoyYamlPath } from '../../scripts/envoy/paths.js';
import { envoyForTests } from '../helpers/envoy-for-tests.js';

const base = readFileSync(envoyYamlPath, 'utf8');
const local = { bindAddress: '127.0.0.1', listenerPort: 15000, adminPort: 19901, upstreamPort: 18080, dnsAddress: '127.0.0.1', dnsPort: 10053 };

// Parsed Envoy config: walked by known paths below, so loose typing is enough.
type Json = Record<string, any>;

const clusterOf = (config: Json): Json => config.static_resources.clusters[0];
/** Every route action that sends calls to grpc_server (the greeter, health Check, reflection). */
const routesOf = (config: Json): Json[] =>
  (config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes as Json[])
    .map((r) => r.route)
    .filter((route) => route?.cluster === 'grpc_server');
/** The greeter's route: the one that retries, so the one with a per-try timeout. */
const routeOf = (config: Json): Json => routesOf(config)[0] as Json;

/** The Cluster block each policy must add, exactly. */
const EXPECTED_BLOCK: Record<LbPolicy, Json> = {
  ROUND_ROBIN: {},
  RANDOM: {},
  LEAST_REQUEST: { least_request_lb_config: { choice_count: 2 } },
  RING_HASH: { ring_hash_lb_config: { minimum_ring_size: 1024, maximum_ring_size: 8192 } },
  MAGLEV: { maglev_lb_config: { table_size: 65537 } },
};
const isHash = (policy: LbPolicy): boolean => policy === 'RING_HASH' || policy === 'MAGLEV';
const settingsOf = (block: Json): number => Object.values(block).reduce((n: number, inner: Json) => n + Object.keys(inner).length, 0);

const workDir = mkdtempSync(path.join(tmpdir(), 'envoy-policy-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Puts envoy.yaml's own balancing back into a parsed derived config, which must then equal envoy.yaml. */
function undoPolicy(derived: Json, original: Json): Json {
  const cluster = clusterOf(derived);
  for (const key of Object.keys(EXPECTED_BLOCK[cluster.lb_policy as LbPolicy])) delete cluster[key];
  cluster.lb_policy = clusterOf(original).lb_policy;
  for (const route of routesOf(derived)) delete route.hash_policy;
  return derived;
}

describe.each(LB_POLICIES)('%s', (policy) => {
  test('differs from envoy.yaml only in the balancing policy (and the route hash for hash policies)', () => {
    const original = YAML.parse(base) as Json;
    const derived = YAML.parse(derivePolicyConfig(base, { policy })) as Json;
    const cluster = clusterOf(derived);

    expect(cluster.lb_policy).toBe(policy);
    for (const [key, value] of Object.entries(EXPECTED_BLOCK[policy])) expect(cluster[key]).toEqual(value);
    // Every route to the cluster hashes, so no call meets a hash policy with nothing to hash.
    for (const route of routesOf(derived)) {
      if (isHash(policy)) expect(route.hash_policy).toEqual([{ header: { header_name: DEFAULT_HASH_HEADER } }]);
      else expect(route).not.toHaveProperty('hash_policy');
    }

    expect(undoPolicy(derived, original)).toEqual(original);
  });

  test('every line it adds carries a reason comment, and the file says it is derived', () => {
    const text = derivePolicyConfig(base, { policy });
    expect(text.startsWith('# Derived from envoy.yaml by scripts/envoy/policy.ts')).toBe(true);
    expect(text).toContain(`balances with ${policy}`);
    // Against the ROUND_ROBIN derivation, which is envoy.yaml re-printed by the same YAML writer.
    const unchanged = new Set(derivePolicyConfig(base, { policy: 'ROUND_ROBIN' }).split('\n'));
    const added = text.split('\n').filter((line) => !unchanged.has(line) && !line.startsWith('#'));
    const block = EXPECTED_BLOCK[policy];
    // lb_policy itself, the block's opening line and its settings, and hash_policy / header / header_name on each
    // route to the cluster (the same three lines each, so counted once by the line set).
    const expected = (policy === 'ROUND_ROBIN' ? 0 : 1) + Object.keys(block).length + settingsOf(block) + (isHash(policy) ? 3 * routesOf(YAML.parse(base) as Json).length : 0);
    expect(added, added.join('\n')).toHaveLength(expected);
    for (const line of added) expect(line, 'an added line without a reason').toMatch(/\S # \S/);
  });

  test('composes with the local overrides: policy first, then addresses, ports and resolver', () => {
    const composed = YAML.parse(deriveLocalEnvoyConfig(derivePolicyConfig(base, { policy }), local)) as Json;
    const localOnly = YAML.parse(deriveLocalEnvoyConfig(base, local)) as Json;
    expect(policyOf(YAML.stringify(composed))).toEqual(isHash(policy) ? { policy, hashHeader: DEFAULT_HASH_HEADER } : { policy });
    expect(composed.admin.address.socket_address).toEqual({ address: '127.0.0.1', port_value: 19901 });
    expect(undoPolicy(composed, YAML.parse(base) as Json)).toEqual(localOnly);
  });

  test('passes the real Envoy\'s validation, alone and composed, with no deprecation warning', async () => {
    const envoy = await envoyForTests();
    const derived = derivePolicyConfig(base, { policy });
    for (const [name, config] of [['policy', derived], ['policy+local', deriveLocalEnvoyConfig(derived, local)]] as const) {
      const file = path.join(workDir, `${policy}-${name}.yaml`);
      writeFileSync(file, config);
      const { stdout, stderr } = await promisify(execFile)(envoy.path, ['--mode', 'validate', '-c', file], { timeout: 20_000 });
      expect(stdout + stderr, name).toContain('OK');
      expect(stdout + stderr, name).not.toMatch(/deprecated/i);
    }
  });
});


test('policyOf reads back every policy, a custom hash header, and envoy.yaml itself', () => {
  for (const policy of LB_POLICIES) {
    const expected: PolicyChoice = isHash(policy) ? { policy, hashHeader: DEFAULT_HASH_HEADER } : { policy };
    expect(policyOf(derivePolicyConfig(base, { policy }))).toEqual(expected);
  }
  expect(policyOf(derivePolicyConfig(base, { policy: 'MAGLEV', hashHeader: 'x-tenant' }))).toEqual({ policy: 'MAGLEV', hashHeader: 'x-tenant' });
  // Non-hash policies ignore the header, as the PolicyChoice contract says; it is not written, so not read back.
  expect(policyOf(derivePolicyConfig(base, { policy: 'RANDOM', hashHeader: 'x-tenant' }))).toEqual({ policy: 'RANDOM' });
  expect(policyOf(base)).toEqual({ policy: 'ROUND_ROBIN' });
});

test('policyOf reads Envoy\'s /config_dump JSON, which leaves out the default ROUND_ROBIN', () => {
  const config = YAML.parse(base) as Json;
  delete clusterOf(config).lb_policy;
  expect(policyOf(JSON.stringify(config))).toEqual({ policy: 'ROUND_ROBIN' });
  clusterOf(config).lb_policy = 'RING_HASH';
  expect(() => policyOf(JSON.stringify(config))).toThrow(/RING_HASH needs exactly one header hash policy/);
});

test('switching again from a derived config is the same as deriving from envoy.yaml', () => {
  const ringHash = derivePolicyConfig(base, { policy: 'RING_HASH', hashHeader: 'x-user' });
  for (const policy of LB_POLICIES) expect(derivePolicyConfig(ringHash, { policy })).toBe(derivePolicyConfig(base, { policy }));
});

test.each(['X-Lab-Key', '', 'x lab', 'x-lab:key', ':authority', 'ключ'])('hash header %j is one clear usage error', (hashHeader) => {
  for (const policy of ['RING_HASH', 'LEAST_REQUEST'] as const) {
    let error: unknown;
    try {
      derivePolicyConfig(base, { policy, hashHeader });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(PolicyChoiceError);
    expect((error as PolicyChoiceError).message).toBe(`invalid hash header ${JSON.stringify(hashHeader)}: use a lowercase HTTP header name such as x-lab-key`);
  }
});

test('an unknown policy is a usage error, not a silent round robin', () => {
  expect(() => derivePolicyConfig(base, { policy: 'WEIGHTED' as LbPolicy })).toThrow(
    expect.objectContaining({ name: 'PolicyChoiceError', message: expect.stringMatching(/^unknown load-balancing policy "WEIGHTED"/) }),
  );
});

test('a panic threshold changes only healthy_panic_threshold, validates, and reads back', async () => {
  const derived = derivePolicyConfig(base, { policy: 'ROUND_ROBIN', panicThresholdPercent: 50 });
  const parsed = YAML.parse(derived) as Json;
  expect(clusterOf(parsed).common_lb_config.healthy_panic_threshold.value).toBe(50);
  clusterOf(parsed).common_lb_config.healthy_panic_threshold.value = 0;
  expect(parsed).toEqual(YAML.parse(base));
  expect(derived).toMatch(/value: 50 # lab policy: panic mode when under 50 % of replicas are healthy/);
  expect(policyOf(derived)).toEqual({ policy: 'ROUND_ROBIN', panicThresholdPercent: 50 });
  // 0 is envoy.yaml's own value: it reads back as left out, so switching back restores envoy.yaml exactly.
  expect(policyOf(derivePolicyConfig(derived, { policy: 'ROUND_ROBIN', panicThresholdPercent: 0 }))).toEqual({ policy: 'ROUND_ROBIN' });
  const envoy = await envoyForTests();
  const file = path.join(workDir, 'panic-50.yaml');
  writeFileSync(file, deriveLocalEnvoyConfig(derived, local));
  const { stdout, stderr } = await promisify(execFile)(envoy.path, ['--mode', 'validate', '-c', file], { timeout: 20_000 });
  expect(stdout + stderr).toContain('OK');
  expect(stdout + stderr).not.toMatch(/deprecated/i);
});

test.each([-1, 101, Number.NaN])('panic threshold %s is one clear usage error', (panicThresholdPercent) => {
  expect(() => derivePolicyConfig(base, { policy: 'ROUND_ROBIN', panicThresholdPercent })).toThrow(
    expect.objectContaining({ name: 'PolicyChoiceError', message: expect.stringMatching(/^panic threshold must be a percentage from 0 to 100/) }),
  );
});

test('the per-try timeout can be removed or changed, validates, and reads back; envoy.yaml runs 1 s', async () => {
  expect(routeOf(YAML.parse(base) as Json).retry_policy.per_try_timeout).toBe('1s');
  const none = derivePolicyConfig(base, { policy: 'ROUND_ROBIN', perTryTimeoutMs: 0 });
  expect(routeOf(YAML.parse(none) as Json).retry_policy.per_try_timeout).toBeUndefined();
  expect(policyOf(none)).toEqual({ policy: 'ROUND_ROBIN', perTryTimeoutMs: 0 });
  const quarter = derivePolicyConfig(none, { policy: 'ROUND_ROBIN', perTryTimeoutMs: 250 });
  expect(routeOf(YAML.parse(quarter) as Json).retry_policy.per_try_timeout).toBe('0.25s');
  expect(policyOf(quarter)).toEqual({ policy: 'ROUND_ROBIN', perTryTimeoutMs: 250 });
  // Left out, a derived config goes back to envoy.yaml's value, and reads back as left out.
  const back = derivePolicyConfig(quarter, { policy: 'ROUND_ROBIN' });
  expect(YAML.parse(back)).toEqual(YAML.parse(base));
  expect(policyOf(back)).toEqual({ policy: 'ROUND_ROBIN' });
  const envoy = await envoyForTests();
  const file = path.join(workDir, 'per-try-none.yaml');
  writeFileSync(file, deriveLocalEnvoyConfig(none, local));
  const { stdout, stderr } = await promisify(execFile)(envoy.path, ['--mode', 'validate', '-c', file], { timeout: 20_000 });
  expect(stdout + stderr).toContain('OK');
  expect(() => derivePolicyConfig(base, { policy: 'ROUND_ROBIN', perTryTimeoutMs: 1.5 })).toThrow(/^per-try timeout must be whole milliseconds/);
});
