// Deriving Envoy configs from envoy.yaml: the local run changes only bind addresses, ports and the resolver; Swarm's
// and Kubernetes' only names and addresses.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { expect, test } from 'vitest';
import {
  deriveKubernetesEnvoyConfig,
  deriveLocalEnvoyConfig,
  deriveSwarmEnvoyConfig,
  EnvoyConfigShapeError,
  KUBERNETES_ADMIN_ADDRESS,
  serviceNameOf,
  SWARM_ADMIN_SOCKET,
} from '../../scripts/envoy/config.js';
import { envoyYamlPath } from '../../scripts/envoy/paths.js';
import { envoyForTests } from '../helpers/envoy-for-tests.js';

const base = readFileSync(envoyYamlPath, 'utf8');
const overrides = { bindAddress: '127.0.0.1', listenerPort: 15000, adminPort: 19901, upstreamPort: 18080, dnsAddress: '127.0.0.1', dnsPort: 10053 };

// Parsed Envoy config: walked by known paths below, so loose typing is enough.
type Json = Record<string, any>;

test('everything but addresses, ports, the resolver and the read-only admin mirror is the very config Compose runs', () => {
  const original = YAML.parse(base) as Json;
  const derived = YAML.parse(deriveLocalEnvoyConfig(base, overrides)) as Json;
  const cluster = derived.static_resources.clusters[0];
  const listener = derived.static_resources.listeners[0];

  expect(derived.admin.address.socket_address).toEqual({ address: '127.0.0.1', port_value: 19901 });
  expect(listener.address.socket_address).toEqual({ address: '127.0.0.1', port_value: 15000 });
  expect(cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({
    address: 'grpc-server',
    port_value: 18080,
  });
  const resolver = cluster.cluster_type.typed_config.typed_dns_resolver_config;
  expect(resolver.typed_config.resolvers).toEqual([{ socket_address: { address: '127.0.0.1', port_value: 10053 } }]);
  expect(resolver.typed_config.use_resolvers_as_fallback).toBe(false);

  // The admin's read-only mirror (a listener and its cluster) is for containers; a local run leaves it out.
  expect(derived.static_resources.listeners.map((l: Json) => l.name)).toEqual(['grpc_ingress']);
  expect(derived.static_resources.clusters.map((c: Json) => c.name)).toEqual(['grpc_server']);
  original.static_resources.listeners = original.static_resources.listeners.filter((l: Json) => l.name !== 'admin_readonly');
  original.static_resources.clusters = original.static_resources.clusters.filter((c: Json) => c.name !== 'envoy_admin');

  // Put the original values back: what remains must equal envoy.yaml exactly.
  derived.admin.address.socket_address = original.admin.address.socket_address;
  listener.address.socket_address = original.static_resources.listeners[0].address.socket_address;
  cluster.load_assignment = original.static_resources.clusters[0].load_assignment;
  delete cluster.cluster_type.typed_config.typed_dns_resolver_config;
  expect(derived).toEqual(original);
});

test('the derived file says it is derived, and no comment on a changed line still describes Compose', () => {
  const text = deriveLocalEnvoyConfig(base, overrides);
  expect(text.startsWith('# Derived from envoy.yaml')).toBe(true);
  expect(text).not.toContain('published as 5000:5000');
});

test('the replicas are found under the Compose service name', () => {
  expect(serviceNameOf(base)).toBe('grpc-server');
});

test('a base config without the expected cluster fails loudly', () => {
  const renamed = base.replace(/name: grpc_server\n/, 'name: something_else\n');
  expect(() => deriveLocalEnvoyConfig(renamed, overrides)).toThrow(EnvoyConfigShapeError);
  expect(() => deriveLocalEnvoyConfig('admin: {}\n', overrides)).toThrow(/envoy.yaml has no admin.address.socket_address/);
});

test('the derived config passes the real Envoy\'s validation with no deprecation warning', async () => {
  const envoy = await envoyForTests();
  const dir = mkdtempSync(path.join(tmpdir(), 'derived-envoy-'));
  try {
    const file = path.join(dir, 'envoy.local.yaml');
    writeFileSync(file, deriveLocalEnvoyConfig(base, overrides));
    const { stdout, stderr } = await promisify(execFile)(envoy.path, ['--mode', 'validate', '-c', file], { timeout: 20_000 });
    expect(stdout + stderr).toContain('OK');
    expect(stdout + stderr).not.toMatch(/deprecated/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** envoy.yaml without the admin's read-only mirror, which only Docker's port publishing needs. */
function withoutAdminMirror(config: Json): Json {
  config.static_resources.listeners = config.static_resources.listeners.filter((l: Json) => l.name !== 'admin_readonly');
  config.static_resources.clusters = config.static_resources.clusters.filter((c: Json) => c.name !== 'envoy_admin');
  return config;
}

test('Swarm: only the replicas\' name (tasks.grpc-server) and the admin (a unix socket) differ from envoy.yaml, less the admin mirror', () => {
  const original = withoutAdminMirror(YAML.parse(base) as Json);
  const derived = YAML.parse(deriveSwarmEnvoyConfig(base)) as Json;
  const cluster = derived.static_resources.clusters[0];
  expect(derived.admin.address).toEqual({ pipe: { path: SWARM_ADMIN_SOCKET, mode: 0o600 } });
  expect(cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({
    address: 'tasks.grpc-server',
    port_value: 8080,
  });
  derived.admin = original.admin;
  cluster.load_assignment = original.static_resources.clusters[0].load_assignment;
  expect(derived).toEqual(original);
});

test('Swarm: another name for the replicas can be asked for (the virtual-IP contrast), with its own reason', () => {
  const text = deriveSwarmEnvoyConfig(base, { replicasName: 'grpc-server', replicasReason: 'The VIP.' });
  expect(text).toContain('address: grpc-server # The VIP.');
  expect(text).not.toContain('tasks.grpc-server');
});

test('Kubernetes: only the admin moves, to the pod\'s loopback, and its mirror goes; the replicas keep the headless Service\'s name', () => {
  const original = withoutAdminMirror(YAML.parse(base) as Json);
  const derived = YAML.parse(deriveKubernetesEnvoyConfig(base)) as Json;
  expect(derived.admin.address).toEqual({ socket_address: { address: KUBERNETES_ADMIN_ADDRESS, port_value: 9901 } });
  derived.admin = original.admin;
  expect(derived).toEqual(original);
});

test('each orchestrator\'s file says it is derived, and keeps no comment about Compose publishing the admin', () => {
  for (const text of [deriveSwarmEnvoyConfig(base), deriveKubernetesEnvoyConfig(base)]) {
    expect(text.startsWith('# Derived from envoy.yaml by scripts/envoy/config.ts')).toBe(true);
    expect(text).toContain('npm run derive:envoy');
    expect(text).not.toContain('so Docker can publish it');
    expect(text).not.toContain('The Compose service name');
  }
});

test('a base config without the expected cluster fails the orchestrator derivations loudly too', () => {
  const renamed = base.replace(/name: grpc_server\n/, 'name: something_else\n');
  expect(() => deriveSwarmEnvoyConfig(renamed)).toThrow(EnvoyConfigShapeError);
  expect(() => deriveKubernetesEnvoyConfig(renamed)).toThrow(EnvoyConfigShapeError);
});
