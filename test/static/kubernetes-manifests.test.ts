// deploy/kubernetes/ without a cluster: every manifest, and everything kustomize renders from them, validates
// against the Kubernetes API schemas; the Envoy config the ConfigMap carries passes the real Envoy's validation;
// and the settings the lab relies on (headless Service, native gRPC probes, the Compose hardening, resources, the
// admin on loopback only) are there by name.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { GreeterService } from '../../gen/greeter/v1/greeter.js';
import { requireEnvoy } from '../../scripts/envoy/binary.js';
import { pinnedEnvoyVersion, projectRoot } from '../../scripts/envoy/paths.js';
import { findKustomize } from './kustomize.js';
import { schemaErrors, type KubernetesObject } from './kubernetes-schemas.js';
import { describeResult, killRunningCommands, runCommand } from '../helpers/run-command.js';

const folder = path.join(projectRoot, 'deploy', 'kubernetes');
const NAMESPACE = 'grpc-envoy-lab';
const GREETER_SERVICE = GreeterService.sayHello.path.split('/')[1] ?? '';

// Manifests are deep trees of the API's types; the checks walk known paths.
type Json = Record<string, any>;

interface Kustomization {
  namespace?: string;
  resources?: string[];
  configMapGenerator?: { name?: string; files?: string[] }[];
}

const kustomization = parse(readFileSync(path.join(folder, 'kustomization.yaml'), 'utf8')) as Kustomization;
const scratchDirs: string[] = [];
let rendered: Json[] = [];

/** Every YAML document of a file, parsed; a syntax error fails the test that reads it. */
function documentsOf(file: string): Json[] {
  const documents = parseAllDocuments(readFileSync(file, 'utf8'));
  const list = Array.isArray(documents) ? documents : [documents];
  for (const document of list) expect(document.errors.map((error) => error.message), file).toEqual([]);
  return list.map((document) => document.toJS() as Json).filter((object) => object !== null);
}

function renderedObject(kind: string, name: string): Json {
  const found = rendered.find((object) => object.kind === kind && object.metadata?.name === name);
  if (!found) throw new Error(`kustomize rendered no ${kind} named ${name}`);
  return found;
}

/** The one ConfigMap kustomize generates (its name ends in a hash of its content). */
function envoyConfigMap(): Json {
  const found = rendered.find((object) => object.kind === 'ConfigMap');
  if (!found) throw new Error('kustomize rendered no ConfigMap');
  return found;
}

/** Every container of every pod template the manifests define, with where it comes from. */
function containers(): { owner: string; pod: Json; container: Json }[] {
  return rendered
    .filter((object) => object.kind === 'Deployment')
    .flatMap((deployment) =>
      (deployment.spec.template.spec.containers as Json[]).map((container) => ({
        owner: `${deployment.metadata.name}/${container.name}`,
        pod: deployment.spec.template.spec,
        container,
      })),
    );
}

function envOf(container: Json): Record<string, Json> {
  return Object.fromEntries((container.env as Json[]).map((entry) => [entry.name, entry]));
}

beforeAll(async () => {
  const kustomize = findKustomize();
  const result = await runCommand(kustomize.command, [...kustomize.args, folder], { cwd: projectRoot, timeoutMs: 30_000 });
  expect(result.code, describeResult(result)).toBe(0);
  rendered = parseAllDocuments(result.stdout).map((document) => (document as { toJS(): Json }).toJS());
}, 60_000);

afterEach(() => {
  killRunningCommands();
});

afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

describe('deploy/kubernetes against the Kubernetes API schemas (offline)', () => {
  it('lists every manifest of the folder in kustomization.yaml, and generates the ConfigMap from envoy.yaml', () => {
    const yamlFiles = readdirSync(folder).filter((file) => file.endsWith('.yaml')).sort();
    const generated = (kustomization.configMapGenerator ?? []).flatMap((generator) => generator.files ?? []);
    expect(generated).toEqual(['envoy.yaml']);
    expect([...(kustomization.resources ?? []), ...generated, 'kustomization.yaml'].sort()).toEqual(yamlFiles);
    expect(kustomization.namespace).toBe(NAMESPACE);
  });

  it('validates every object of every manifest file', () => {
    const problems = (kustomization.resources ?? []).flatMap((file) =>
      documentsOf(path.join(folder, file)).flatMap((object) =>
        schemaErrors(object as KubernetesObject).map((error) => `${file} ${object.kind}/${object.metadata?.name}: ${error}`),
      ),
    );
    expect(problems).toEqual([]);
  });

  it('validates every object kustomize renders, all in the lab namespace', () => {
    expect(rendered.map((object) => `${object.kind}/${object.metadata.name.replace(/-[a-z0-9]{10}$/, '-<hash>')}`).sort()).toEqual(
      [
        'ConfigMap/envoy-config-<hash>',
        'Deployment/envoy',
        'Deployment/grpc-client',
        'Deployment/grpc-server',
        'Namespace/grpc-envoy-lab',
        'PodDisruptionBudget/envoy',
        'PodDisruptionBudget/grpc-server',
        'Service/envoy',
        'Service/grpc-server',
      ].sort(),
    );
    const problems = rendered.flatMap((object) =>
      schemaErrors(object as KubernetesObject).map((error) => `${object.kind}/${object.metadata?.name}: ${error}`),
    );
    expect(problems).toEqual([]);
    for (const object of rendered.filter((candidate) => candidate.kind !== 'Namespace')) {
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe(NAMESPACE);
    }
  });

  it('really rejects a broken manifest (so the checks above can fail)', () => {
    const deployment = documentsOf(path.join(folder, 'grpc-server-deployment.yaml'))[0]!;
    expect(schemaErrors(deployment as KubernetesObject)).toEqual([]);
    const wrongType = structuredClone(deployment);
    wrongType.spec.replicas = 'three';
    expect(schemaErrors(wrongType as KubernetesObject).join('\n')).toMatch(/replicas must be integer/);
    const probeWithoutPort = structuredClone(deployment);
    delete probeWithoutPort.spec.template.spec.containers[0].readinessProbe.grpc.port;
    expect(schemaErrors(probeWithoutPort as KubernetesObject).join('\n')).toMatch(/readinessProbe\/grpc must have required property port/);
    expect(schemaErrors({ apiVersion: 'v1', kind: 'Pod' })).toEqual([expect.stringMatching(/no schema here/)]);
  });
});

describe("the ConfigMap's Envoy config", () => {
  it('is deploy/kubernetes/envoy.yaml, mounted where Envoy reads it, under its hashed name', () => {
    const configMap = envoyConfigMap();
    expect(configMap.data['envoy.yaml']).toBe(readFileSync(path.join(folder, 'envoy.yaml'), 'utf8'));
    const envoy = renderedObject('Deployment', 'envoy').spec.template.spec;
    expect(envoy.volumes.find((volume: Json) => volume.name === 'config').configMap.name).toBe(configMap.metadata.name);
    const container = envoy.containers[0];
    expect(container.volumeMounts).toContainEqual({ name: 'config', mountPath: '/etc/envoy', readOnly: true });
    expect(container.args.slice(0, 2)).toEqual(['-c', '/etc/envoy/envoy.yaml']);
    expect(container.image).toBe(`envoyproxy/envoy:v${pinnedEnvoyVersion()}`);
  });

  it('passes envoy --mode validate with no deprecation warning', async () => {
    const envoy = await requireEnvoy();
    const dir = mkdtempSync(path.join(tmpdir(), 'k8s-envoy-'));
    scratchDirs.push(dir);
    const file = path.join(dir, 'envoy.yaml');
    writeFileSync(file, envoyConfigMap().data['envoy.yaml']);
    const result = await runCommand(envoy.path, ['--mode', 'validate', '--disable-hot-restart', '-c', file], { cwd: dir, timeoutMs: 20_000 });
    expect(result.code, describeResult(result)).toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('OK');
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/deprecated (?:field|option|value)/i);
  }, 60_000);

  it("binds the admin to the pod's loopback, and nothing publishes 9901", () => {
    const config = parse(envoyConfigMap().data['envoy.yaml']) as Json;
    expect(config.admin.address.socket_address.address).toBe('127.0.0.1');
    for (const { owner, container } of containers()) {
      expect((container.ports ?? []).map((port: Json) => port.containerPort), owner).not.toContain(9901);
    }
    for (const service of rendered.filter((object) => object.kind === 'Service')) {
      expect(service.spec.ports.map((port: Json) => port.port), service.metadata.name).not.toContain(9901);
    }
  });
});

describe('what the lab relies on, by name', () => {
  it('grpc-server is a headless Service over the replicas, on the port they listen on', () => {
    const service = renderedObject('Service', 'grpc-server');
    const deployment = renderedObject('Deployment', 'grpc-server');
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.publishNotReadyAddresses ?? false).toBe(false);
    const podLabels = deployment.spec.template.metadata.labels;
    for (const [key, value] of Object.entries(service.spec.selector)) expect(podLabels[key], key).toBe(value);
    const container = deployment.spec.template.spec.containers[0];
    expect(envOf(container).GRPC_PORT?.value).toBe('8080');
    expect(service.spec.ports).toEqual([expect.objectContaining({ port: 8080, targetPort: 'grpc' })]);
    expect(container.ports).toEqual([{ name: 'grpc', containerPort: 8080 }]);
    // Envoy resolves exactly this name (through the pod's search path): see deploy/kubernetes/envoy.yaml.
    const config = parse(envoyConfigMap().data['envoy.yaml']) as Json;
    const endpoint = config.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    expect(endpoint).toEqual({ address: service.metadata.name, port_value: 8080 });
  });

  it('the replicas have native gRPC readiness and liveness probes of the service Envoy checks', () => {
    const container = renderedObject('Deployment', 'grpc-server').spec.template.spec.containers[0];
    expect(GREETER_SERVICE).toBe('greeter.v1.Greeter');
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe.grpc).toEqual({ port: 8080, service: GREETER_SERVICE });
    }
  });

  it('each replica answers with its pod name, and the drain finishes inside the grace period', () => {
    const pod = renderedObject('Deployment', 'grpc-server').spec.template.spec;
    const env = envOf(pod.containers[0]);
    expect(env.REPLICA_NAME?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    const drainSeconds = (Number(env.DRAIN_DELAY_MS?.value) + Number(env.SHUTDOWN_TIMEOUT_MS?.value)) / 1000;
    expect(drainSeconds).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(drainSeconds + 1);
  });

  it('every container has the Compose hardening: non-root, read-only root, no capability, no privilege escalation', () => {
    expect(renderedObject('Namespace', NAMESPACE).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(containers()).toHaveLength(3);
    for (const { owner, pod, container } of containers()) {
      expect(pod.securityContext.runAsNonRoot, owner).toBe(true);
      expect(pod.securityContext.runAsUser, owner).toBeGreaterThan(0);
      expect(pod.securityContext.seccompProfile, owner).toEqual({ type: 'RuntimeDefault' });
      expect(pod.automountServiceAccountToken, owner).toBe(false);
      expect(container.securityContext, owner).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.hostNetwork ?? false, owner).toBe(false);
      expect((pod.volumes ?? []).filter((volume: Json) => volume.hostPath !== undefined), owner).toEqual([]);
    }
  });

  it('every container has CPU and memory requests and limits', () => {
    for (const { owner, container } of containers()) {
      for (const kind of ['requests', 'limits']) {
        expect(Object.keys(container.resources?.[kind] ?? {}).sort(), `${owner} ${kind}`).toEqual(['cpu', 'memory']);
      }
    }
  });

  it('a PodDisruptionBudget covers the replicas and Envoy, and rollouts start a new pod before stopping one', () => {
    for (const name of ['grpc-server', 'envoy']) {
      const budget = renderedObject('PodDisruptionBudget', name);
      const deployment = renderedObject('Deployment', name);
      expect(budget.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
      expect(budget.spec.maxUnavailable).toBe(1);
      expect(deployment.spec.replicas).toBeGreaterThan(1);
      expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    }
  });
});
