// Every Prometheus and Grafana file the project ships, checked by the tools that will read them where they can be run
// here (promtool for the configs, the rules and every PromQL expression of the dashboard) and against the Compose file
// they are mounted by, where they cannot (Grafana has no Debian package: its provisioning is checked for shape and
// wiring only; docs/observability.md says so).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { projectRoot } from '../../scripts/envoy/index.js';
import {
  alertRulesPath,
  composePrometheusConfigPath,
  observabilityDir,
  requirePrometheus,
  type PrometheusBinary,
} from '../../scripts/observability/index.js';
import { layOutLocalPrometheus } from '../../scripts/stack/index.js';
import { environmentOf, parsePortMapping } from './compose-values.js';
import { describeResult, killRunningCommands, runCommand } from '../helpers/run-command.js';

// Parsed YAML and JSON of other programs' formats: walked by known paths, so loose typing is enough.
type Json = Record<string, any>;

const compose = YAML.parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8')) as Json;
const envoy = YAML.parse(readFileSync(path.join(projectRoot, 'envoy.yaml'), 'utf8')) as Json;
const prometheusConfig = YAML.parse(readFileSync(composePrometheusConfigPath, 'utf8')) as Json;
const dashboardFile = path.join(observabilityDir, 'grafana', 'dashboards', 'grpc-envoy-lab.json');
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as Json;
const datasources = YAML.parse(readFileSync(path.join(observabilityDir, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as Json;
const providers = YAML.parse(readFileSync(path.join(observabilityDir, 'grafana', 'provisioning', 'dashboards', 'grpc-envoy-lab.yml'), 'utf8')) as Json;

let tools: PrometheusBinary;
const scratchDirs: string[] = [];

function scratch(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'observability-config-'));
  scratchDirs.push(dir);
  return dir;
}

function promtool(args: string[], cwd = projectRoot) {
  return runCommand(tools.promtool, args, { cwd, timeoutMs: 30_000 });
}

/** Every PromQL expression of the dashboard, with Grafana's $__rate_interval given a value Prometheus parses. */
function dashboardExpressions(board: Json = dashboard): { panel: string; expr: string }[] {
  return (board.panels as Json[]).flatMap((panel) =>
    ((panel.targets ?? []) as Json[]).map((target) => ({ panel: String(panel.title), expr: String(target.expr).replaceAll('$__rate_interval', '10s') })),
  );
}

/** A rules file holding each expression as a recording rule: what `promtool check rules` parses. */
function asRulesFile(expressions: { expr: string }[]): string {
  const rules = expressions.map(({ expr }, index) => ({ record: `dashboard:expression_${index}`, expr }));
  return YAML.stringify({ groups: [{ name: 'dashboard', rules }] });
}

/** Published ports of a Compose service. */
function published(service: string) {
  return ((compose.services[service]?.ports ?? []) as unknown[]).map(parsePortMapping);
}

beforeAll(async () => {
  tools = await requirePrometheus();
});

afterEach(() => {
  killRunningCommands();
});

afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

describe('Prometheus configs and rules under promtool', () => {
  it('the Compose config passes `promtool check config` (its rules file included)', async () => {
    const result = await promtool(['check', 'config', composePrometheusConfigPath]);
    expect(result.code, describeResult(result)).toBe(0);
    expect(result.stdout).toContain('1 rule files found');
  });

  it('the local config, laid out as the stack lays it out, passes `promtool check config`', async () => {
    const dir = scratch();
    const config = layOutLocalPrometheus(dir, { replicas: [{ name: 'grpc-server-1', address: '127.0.0.2', metricsPort: 9464 }], envoyAdmin: '127.0.0.1:9901' });
    const result = await promtool(['check', 'config', config], dir);
    expect(result.code, describeResult(result)).toBe(0);
    expect(result.stdout).toContain('1 rule files found');
  });

  it('the alert rules pass `promtool check rules` and their unit tests (`promtool test rules`)', async () => {
    const checked = await promtool(['check', 'rules', alertRulesPath]);
    expect(checked.code, describeResult(checked)).toBe(0);
    const tested = await promtool(['test', 'rules', path.join(observabilityDir, 'prometheus', 'alerts.test.yml')]);
    expect(tested.code, describeResult(tested)).toBe(0);
    expect(tested.stdout).toContain('SUCCESS');
  });

  it('every PromQL expression of the Grafana dashboard parses (`promtool check rules`)', async () => {
    const expressions = dashboardExpressions();
    expect(expressions.length).toBeGreaterThan(20);
    const file = path.join(scratch(), 'dashboard-expressions.yml');
    writeFileSync(file, asRulesFile(expressions));
    const result = await promtool(['check', 'rules', file]);
    expect(result.code, describeResult(result)).toBe(0);
    expect(result.stdout).toContain(`SUCCESS: ${expressions.length} rules found`);
  });

  it('the expression check really fails on a broken expression (so the check above can fail)', async () => {
    const file = path.join(scratch(), 'broken.yml');
    writeFileSync(file, asRulesFile([{ expr: 'sum by (replica) (rate(grpc_server_handled_total[10s])' }]));
    const result = await promtool(['check', 'rules', file]);
    expect(result.code).not.toBe(0);
  });
});

describe('Compose profile observability: wiring', () => {
  it('leaves the default `docker compose up` as it was: only envoy, grpc-client and grpc-server have no profile', () => {
    const services = compose.services as Record<string, Json>;
    expect(Object.keys(services).filter((name) => services[name]?.profiles === undefined).sort()).toEqual(['envoy', 'grpc-client', 'grpc-server']);
    expect(services.prometheus?.profiles).toEqual(['observability']);
    expect(services.grafana?.profiles).toEqual(['observability']);
  });

  it('publishes both UIs on 127.0.0.1 only', () => {
    expect(published('prometheus').map((p) => [p.hostIp, p.target])).toEqual([['127.0.0.1', 9090]]);
    expect(published('grafana').map((p) => [p.hostIp, p.target])).toEqual([['127.0.0.1', 3000]]);
  });

  it('Prometheus finds the replicas by the name Envoy resolves, on the port every replica serves metrics on', () => {
    const [job] = (prometheusConfig.scrape_configs as Json[]).filter((c) => c.job_name === 'grpc-server');
    const sd = job?.dns_sd_configs?.[0];
    const envoyEndpoint = (envoy.static_resources.clusters as Json[]).find((c) => c.name === 'grpc_server')?.load_assignment.endpoints[0]
      .lb_endpoints[0].endpoint.address.socket_address;
    expect(sd?.names).toEqual([envoyEndpoint.address]);
    expect(sd?.type).toBe('A');
    const server = compose.services['grpc-server'];
    expect(String(sd?.port)).toBe(environmentOf(server.environment).METRICS_PORT);
    expect((server.expose as unknown[]).map(String)).toContain(String(sd?.port));
    expect(server.ports).toBeUndefined();
  });

  it("Prometheus reads Envoy through the admin's read-only mirror, the port Envoy's service publishes on loopback", () => {
    const [job] = (prometheusConfig.scrape_configs as Json[]).filter((c) => c.job_name === 'envoy');
    const listener = (envoy.static_resources.listeners as Json[]).find((l) => l.name === 'admin_readonly');
    const port = String(listener?.address.socket_address.port_value);
    expect(job?.metrics_path).toBe('/stats/prometheus');
    expect(job?.static_configs?.[0]?.targets).toEqual([`envoy:${port}`]);
    expect((compose.services.envoy.ports as string[]).some((mapping) => mapping.endsWith(`:${port}`))).toBe(true);
  });

  it("mounts every observability file it names, read-only, from the repository", () => {
    for (const service of ['prometheus', 'grafana']) {
      for (const volume of compose.services[service].volumes as string[]) {
        const [source = '', target, mode] = volume.split(':');
        expect(existsSync(path.join(projectRoot, source)), `${service}: ${source} does not exist`).toBe(true);
        expect(target?.startsWith('/')).toBe(true);
        expect(mode).toBe('ro');
      }
    }
    const volumes = compose.services.prometheus.volumes as string[];
    expect(volumes).toContain('./observability/prometheus/compose.yml:/etc/prometheus/prometheus.yml:ro');
    expect(volumes).toContain('./observability/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    expect(prometheusConfig.rule_files).toEqual(['alerts.yml']);
  });
});

describe('Grafana provisioning (validated here; Grafana itself cannot run in CI)', () => {
  const [datasource] = datasources.datasources as Json[];
  const grafana = () => compose.services.grafana as Json;
  const mountTarget = (source: string): string | undefined =>
    (grafana().volumes as string[]).map((v) => v.split(':')).find(([from]) => from === source)?.[1];

  it('provisions one Prometheus data source at the profile\'s Prometheus, with its scrape interval', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    expect(datasource).toMatchObject({ type: 'prometheus', access: 'proxy', url: 'http://prometheus:9090', isDefault: true });
    expect(compose.services.prometheus.command).toContain('--web.listen-address=:9090');
    expect(datasource?.jsonData?.timeInterval).toBe(prometheusConfig.global.scrape_interval);
    expect(mountTarget('./observability/grafana/provisioning')).toBe('/etc/grafana/provisioning');
  });

  it('loads the dashboard from the folder Compose mounts, and opens it as the home dashboard', () => {
    const [provider] = providers.providers as Json[];
    expect(providers.apiVersion).toBe(1);
    expect(provider).toMatchObject({ type: 'file', options: { path: mountTarget('./observability/grafana/dashboards') } });
    const home = environmentOf(grafana().environment).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(home).toBe(`${provider?.options.path}/${path.basename(dashboardFile)}`);
  });

  it('the dashboard: a stable uid, unique panel ids, every panel on the provisioned data source, inside the 24-column grid', () => {
    expect(dashboard.uid).toBe('grpc-envoy-lab');
    const panels = dashboard.panels as Json[];
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: datasource?.uid });
      const refIds = (panel.targets as Json[]).map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      for (const target of panel.targets as Json[]) expect(target.datasource, panel.title).toEqual(panel.datasource);
    }
  });

  it('the dashboard shows what the issue asks for, from the replicas and from Envoy', () => {
    const text = dashboardExpressions().map((e) => e.expr).join('\n');
    for (const metric of [
      'grpc_server_handled_total',
      'grpc_server_handling_seconds_bucket',
      'grpc_server_in_flight_calls',
      'envoy_cluster_upstream_rq_time_bucket',
      'envoy_cluster_endpoint_rq_total',
      'envoy_cluster_membership_healthy',
      'envoy_cluster_membership_total',
      'envoy_cluster_upstream_rq_retry',
      'envoy_cluster_upstream_rq_per_try_timeout',
      'envoy_cluster_outlier_detection_ejections_active',
      'envoy_cluster_upstream_rq_pending_overflow',
      'greeter_fault_fail_rate',
      'greeter_fault_latency_seconds',
      'greeter_health_serving',
    ]) {
      expect(text, metric).toContain(metric);
    }
  });
});
