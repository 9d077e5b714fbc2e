// What a running system cannot show: that every image is pinned to an exact version (and Envoy's to the one the
// tests use), that the shutdown timing adds up, and that every Envoy setting carries its reason. What it can show
// (users, hardening, the admin on loopback, the wiring) test/compose/ proves on a real engine.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GreeterService, protobufPackage } from '../../gen/greeter/v1/greeter.js';
import { pinnedEnvoyVersion, projectRoot } from '../../scripts/envoy/paths.js';
import { environmentOf, parseDurationSeconds, parsePortMapping } from './compose-values.js';
import { readDockerfile, type DockerfileFacts } from './dockerfile-facts.js';
import { findUncommentedSettings } from './envoy-comment-rule.js';

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  container_name?: string;
  hostname?: string;
  ports?: unknown[];
  expose?: unknown[];
  volumes?: unknown[];
  environment?: unknown;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: unknown; interval?: string; timeout?: string; retries?: number; start_period?: string; disable?: boolean };
  stop_grace_period?: string;
  user?: string | number;
  privileged?: boolean;
  read_only?: boolean;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  init?: boolean;
  network_mode?: string;
  pid?: string;
}

interface ComposeFile {
  version?: unknown;
  services: Record<string, ComposeService>;
}

const composeText = readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText) as ComposeFile;
const envoyText = readFileSync(path.join(projectRoot, 'envoy.yaml'), 'utf8');
// Envoy's config is a deep tree of its own proto types; the checks below walk known paths with optional chaining.
const envoy = parse(envoyText) as any;

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** The Dockerfile a service builds from, read from disk (the test fails when it does not exist). */
function dockerfileOf(name: string): { file: string; facts: DockerfileFacts } {
  const build = service(name).build;
  if (build === undefined) throw new Error(`service "${name}" has no build`);
  const context = typeof build === 'string' ? build : (build.context ?? '.');
  const dockerfile = typeof build === 'string' ? 'Dockerfile' : (build.dockerfile ?? 'Dockerfile');
  const file = path.join(projectRoot, context, dockerfile);
  if (!existsSync(file)) throw new Error(`service "${name}" builds from ${path.relative(projectRoot, file)}, which does not exist`);
  return { file, facts: readDockerfile(readFileSync(file, 'utf8')) };
}

const builtServices = Object.entries(compose.services)
  .filter(([, definition]) => definition.build !== undefined)
  .map(([name]) => name);

// An exact release: 1.40.0, v1.40.0, 22.11.0-bookworm-slim; optionally with a digest on top.
const EXACT_TAG = /^v?\d+\.\d+\.\d+(?:-[a-z0-9][a-z0-9.-]*)?$/;

/** Splits "repo/name:tag@sha256:..." into its repository and tag (a port in the registry host is not a tag). */
function splitImage(reference: string): { repository: string; tag: string | undefined } {
  const [withoutDigest = ''] = reference.split('@');
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > slash) return { repository: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1) };
  return { repository: withoutDigest, tag: undefined };
}

function isNodeImage(repository: string): boolean {
  return ['node', 'library/node', 'docker.io/library/node', 'docker.io/node'].includes(repository);
}

/** The one gRPC service the greeter registers, from the generated code: "/greeter.v1.Greeter/SayHello". */
function registeredServiceName(): string {
  const name = GreeterService.sayHello.path.split('/')[1] ?? '';
  expect(name.startsWith(`${protobufPackage}.`), `${name} is not in package ${protobufPackage}`).toBe(true);
  return name;
}

function grpcServerCluster(): any {
  const clusters = (envoy?.static_resources?.clusters ?? []) as any[];
  const cluster = clusters.find((candidate) => candidate?.name === 'grpc_server');
  if (!cluster) throw new Error('envoy.yaml has no cluster named grpc_server');
  return cluster;
}

describe('docker-compose.yml: shape', () => {
  it('uses the modern Compose spec (no top-level version:)', () => {
    expect(compose.version).toBeUndefined();
    // Prometheus and Grafana belong to the profile `observability` (test/static/observability-config.test.ts).
    expect(Object.keys(compose.services).sort()).toEqual(['envoy', 'grafana', 'grpc-client', 'grpc-server', 'prometheus']);
  });

  it('keeps grpc-server scalable: no container_name, no hostname, no published ports', () => {
    const server = service('grpc-server');
    // A fixed name or host port can exist once only, and a fixed hostname would make every replica answer
    // with the same name, hiding the balancing the lab is about.
    expect(server.container_name).toBeUndefined();
    expect(server.hostname).toBeUndefined();
    expect(server.ports).toBeUndefined();
  });

  it('pins every image to an exact version: compose images and every Dockerfile FROM', () => {
    const references: string[] = [];
    for (const definition of Object.values(compose.services)) if (definition.image) references.push(definition.image);
    for (const name of builtServices) {
      for (const stage of dockerfileOf(name).facts.stages) if (!stage.fromStage) references.push(stage.from);
    }
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) {
      const { tag } = splitImage(reference);
      expect(tag, `${reference} has no tag`).toBeDefined();
      expect(tag ?? '', `${reference} is not pinned to an exact version`).toMatch(EXACT_TAG);
    }
  });

  it("runs Envoy's image at package.json config.envoyVersion", () => {
    expect(service('envoy').image).toBe(`envoyproxy/envoy:v${pinnedEnvoyVersion()}`);
  });

  it('builds both Node images on the same exact, even-numbered (LTS) Node release >= 20', () => {
    const nodeImages = new Set<string>();
    for (const name of ['grpc-server', 'grpc-client']) {
      const { file, facts } = dockerfileOf(name);
      const bases = facts.stages.filter((stage) => !stage.fromStage && isNodeImage(splitImage(stage.from).repository));
      expect(bases.length, `${path.relative(projectRoot, file)} is not built on the node image`).toBeGreaterThan(0);
      for (const stage of bases) {
        const tag = splitImage(stage.from).tag ?? '';
        const version = /^(\d+)\.(\d+)\.(\d+)(?:-|$)/.exec(tag);
        expect(version, `${stage.from}: not an exact Node version`).not.toBeNull();
        const major = Number(version?.[1]);
        expect(major % 2 === 0 && major >= 20, `${stage.from}: Node ${major} is not an LTS line >= 20`).toBe(true);
        nodeImages.add(stage.from);
      }
    }
    expect([...nodeImages], 'server and client must build on one and the same Node image').toHaveLength(1);
  });
});

describe('docker-compose.yml: start-up and shutdown', () => {
  it('health-checks grpc-server with the real grpc.health.v1 probe', () => {
    const check = service('grpc-server').healthcheck;
    expect(check, 'grpc-server has no healthcheck').toBeDefined();
    expect(check?.disable).not.toBe(true);
    expect(check?.test).toEqual(['CMD', 'node', 'dist/server/src/health-probe.js']);
    // The probe must be able to answer within its timeout, and Compose must try more than once.
    expect(parseDurationSeconds(check?.timeout)).toBeLessThanOrEqual(parseDurationSeconds(check?.interval));
    expect(check?.retries).toBeGreaterThan(1);
    expect(parseDurationSeconds(check?.start_period)).toBeGreaterThan(0);
  });

  it('gives grpc-server a stop_grace_period longer than its drain (DRAIN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + 1 s)', () => {
    const server = service('grpc-server');
    const env = environmentOf(server.environment);
    // Both are set explicitly so the relation is visible in the file (and a default change cannot break it).
    expect(env.DRAIN_DELAY_MS, 'DRAIN_DELAY_MS is not set in compose').toMatch(/^\d+$/);
    expect(env.SHUTDOWN_TIMEOUT_MS, 'SHUTDOWN_TIMEOUT_MS is not set in compose').toMatch(/^\d+$/);
    const drainSeconds = (Number(env.DRAIN_DELAY_MS) + Number(env.SHUTDOWN_TIMEOUT_MS)) / 1000;
    expect(server.stop_grace_period, 'no stop_grace_period (Docker would SIGKILL after 10 s by default)').toBeDefined();
    expect(parseDurationSeconds(server.stop_grace_period)).toBeGreaterThanOrEqual(drainSeconds + 1);
  });

  it('starts envoy only once grpc-server is healthy', () => {
    const dependsOn = service('envoy').depends_on;
    expect(Array.isArray(dependsOn), 'list-form depends_on cannot wait for health').toBe(false);
    expect((dependsOn as Record<string, { condition?: string }>)['grpc-server']?.condition).toBe('service_healthy');
  });

  it('points the client at envoy:5000 on the Compose network', () => {
    const env = environmentOf(service('grpc-client').environment);
    expect(env.ENVOY_ADDRESS).toBe('envoy:5000');
    expect(service('grpc-client').depends_on).toBeDefined();
  });
});

describe('envoy.yaml: wiring that must match Compose and the server', () => {
  it('sends the cluster to grpc-server:8080, the port grpc-server listens on and exposes', () => {
    const endpoints = (grpcServerCluster().load_assignment?.endpoints ?? []) as any[];
    const addresses = endpoints
      .flatMap((group) => (group?.lb_endpoints ?? []) as any[])
      .map((lb) => lb?.endpoint?.address?.socket_address)
      .map((socket) => `${String(socket?.address)}:${String(socket?.port_value)}`);
    expect(addresses).toEqual(['grpc-server:8080']);
    const server = service('grpc-server');
    expect(environmentOf(server.environment).GRPC_PORT).toBe('8080');
    expect((server.expose ?? []).map(String)).toContain('8080');
  });

  it('listens on 5000 and mirrors the admin read-only on 9902, the container ports Compose publishes; the admin on loopback', () => {
    const listeners = (envoy?.static_resources?.listeners ?? []) as any[];
    const listenerPorts = listeners.map((listener) => listener?.address?.socket_address?.port_value);
    expect(listenerPorts).toEqual([5000, 9902]);
    expect(envoy?.admin?.address?.socket_address).toEqual({ address: '127.0.0.1', port_value: 9901 });
    const published = (service('envoy').ports ?? []).map(parsePortMapping).map((port) => port.target);
    expect(published.sort((a, b) => a - b)).toEqual([5000, 9902]);
  });

  it('health-checks the service name the server registers (greeter.v1.Greeter)', () => {
    const name = registeredServiceName();
    // The proto is the source of the generated code; both must agree on the name.
    const proto = readFileSync(path.join(projectRoot, 'protos/greeter/v1/greeter.proto'), 'utf8');
    const protoPackage = /^package\s+([\w.]+)\s*;/m.exec(proto)?.[1];
    const protoService = /^service\s+(\w+)\s*\{/m.exec(proto)?.[1];
    expect(`${protoPackage}.${protoService}`).toBe(name);
    expect(name).toBe('greeter.v1.Greeter');

    const checks = (grpcServerCluster().health_checks ?? []) as any[];
    expect(checks.length, 'the grpc_server cluster has no health check').toBeGreaterThan(0);
    for (const check of checks) expect(check?.grpc_health_check?.service_name).toBe(name);
  });

  it('gives every setting under static_resources a # reason (reports the line numbers that lack one)', () => {
    const problems = findUncommentedSettings(envoyText);
    const report = problems.map((problem) => `envoy.yaml:${problem.line}: ${problem.text}`).join('\n');
    expect(report, 'Envoy settings without a one-line reason').toBe('');
  });

  it('the comment rule really flags an unexplained setting (so the check above can fail)', () => {
    const sample = [
      'static_resources:',
      '  clusters:',
      '    - name: c',
      '      connect_timeout: 1s # explained',
      '      # explained above, because the reason is long',
      '      lb_policy: ROUND_ROBIN',
      '      dns_refresh_rate: 1s',
      '      typed_extension_protocol_options:',
      '        "@type": type.googleapis.com/x',
      '      log_format:',
      '        json_format: # log fields',
      '          path: "%REQ(:PATH)%"',
      '      domains: ["#not-a-comment"]',
      'admin:',
      '  port_value: 9901',
    ].join('\n');
    expect(findUncommentedSettings(sample)).toEqual([
      { line: 7, text: 'dns_refresh_rate: 1s' },
      { line: 13, text: 'domains: ["#not-a-comment"]' },
    ]);
  });
});
