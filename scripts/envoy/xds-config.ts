// Push discovery (xDS) next to STRICT_DNS, derived from envoy.yaml and never written twice. Two halves:
//   - deriveXdsEnvoyConfig: the Envoy config that takes cluster grpc_server over CDS/EDS and the listener's routes
//     over RDS, all on one ADS stream to the control plane; everything else is envoy.yaml's, comments included.
//   - servedXdsConfig: what the control plane serves: envoy.yaml's own grpc_server cluster with DNS swapped for EDS
//     (the same health checks, outlier detection, circuit breakers, balancing policy) and the listener's own route
//     configuration (the same retries and timeouts). A policy derived with derivePolicyConfig goes through here too,
//     so under xDS a policy switch is a CDS/RDS push instead of a hot restart.
import YAML from 'yaml';
import { CLUSTER_NAME, EnvoyConfigShapeError, LISTENER_NAME } from './config.js';

/** The static cluster Envoy reaches the control plane through. */
export const XDS_CLUSTER = 'xds_control_plane';

/** Where Envoy finds the control plane, and how it names itself there. */
export interface XdsEnvoyOverrides {
  /** An IPv4 address (a STATIC cluster) or a host name (resolved by DNS, e.g. host.docker.internal). */
  controlPlaneAddress: string;
  controlPlanePort: number;
  /** node.id: the control plane logs and keeps state per node. */
  nodeId: string;
}

const HCM = 'envoy.filters.network.http_connection_manager';
const ADS = { ads: {}, resource_api_version: 'V3' };

type Json = Record<string, any>;

/** What the control plane serves, taken from a config in envoy.yaml's shape (envoy.yaml, or a policy derived from it). */
export function servedXdsConfig(baseYaml: string): { cluster: Json; routeConfig: Json } {
  const config = YAML.parse(baseYaml) as Json;
  const cluster = structuredClone((config.static_resources?.clusters as Json[] | undefined)?.find((c) => c?.name === CLUSTER_NAME));
  if (!cluster) throw new EnvoyConfigShapeError(`envoy.yaml has no cluster named ${CLUSTER_NAME}`);
  // DNS discovery out (either spelling), EDS over the ADS stream in; every other setting stays as envoy.yaml has it.
  delete cluster.cluster_type;
  delete cluster.type;
  delete cluster.load_assignment;
  delete cluster.dns_refresh_rate;
  delete cluster.dns_lookup_family;
  delete cluster.respect_dns_ttl;
  cluster.type = 'EDS';
  cluster.eds_cluster_config = { eds_config: ADS };
  const listener = (config.static_resources?.listeners as Json[] | undefined)?.find((l) => l?.name === LISTENER_NAME);
  const hcm = (listener?.filter_chains as Json[] | undefined)?.flatMap((chain) => chain.filters as Json[]).find((f) => f?.name === HCM);
  const routeConfig = structuredClone(hcm?.typed_config?.route_config as Json | undefined);
  if (!routeConfig?.name) throw new EnvoyConfigShapeError(`listener ${LISTENER_NAME} has no named inline route_config`);
  return { cluster, routeConfig };
}

/**
 * Derives the Envoy config that discovers the replicas by push: cluster grpc_server is removed from the static
 * resources and comes over CDS (its endpoints over EDS), the listener's inline routes are replaced by RDS, and a
 * static cluster reaches the control plane. Compose it after deriveLocalEnvoyConfig (which tunes the DNS cluster
 * this one removes) for a local run.
 */
export function deriveXdsEnvoyConfig(baseYaml: string, overrides: XdsEnvoyOverrides): string {
  const doc = YAML.parseDocument(baseYaml);
  if (doc.errors.length > 0) throw new EnvoyConfigShapeError(`envoy.yaml does not parse: ${doc.errors[0]?.message}`);
  const clusters = ['static_resources', 'clusters'];
  const listeners = ['static_resources', 'listeners'];
  const clusterIndex = indexByName(doc, clusters, CLUSTER_NAME);
  const routeConfigName = servedXdsConfig(baseYaml).routeConfig.name as string;

  doc.commentBefore =
    ` Derived from envoy.yaml by scripts/envoy/xds-config.ts for push discovery (xDS); do not edit.\n` +
    ` Cluster ${CLUSTER_NAME} and the routes of ${LISTENER_NAME} come from the control plane at ` +
    `${overrides.controlPlaneAddress}:${overrides.controlPlanePort} (ADS),\n` +
    ` which serves them derived from envoy.yaml: the same health checks, retries and outlier detection.`;

  // The node names this Envoy to the control plane, which keeps its state (versions, ACKs, NACKs) per node.
  const node = commented(doc, {
    id: [overrides.nodeId, 'xDS: the control plane logs and tracks this Envoy by this name.'],
    cluster: ['grpc-envoy-lab', 'xDS: the service this Envoy belongs to (required with ADS).'],
  });
  insertFirst(doc, keyed(doc, 'node', 'xDS: who this Envoy is to the control plane.', node));

  const adsConfig = doc.createNode({
    api_type: 'GRPC',
    transport_api_version: 'V3',
    set_node_on_first_message_only: true,
    grpc_services: [{ envoy_grpc: { cluster_name: XDS_CLUSTER, retry_policy: { retry_back_off: { base_interval: '0.1s', max_interval: '1s' } } } }],
  });
  reason(adsConfig, {
    api_type: 'GRPC: one bidirectional gRPC stream carries every resource type (ADS), so they arrive in a consistent order.',
    transport_api_version: 'The v3 xDS API, the only one Envoy 1.40 speaks.',
    set_node_on_first_message_only: 'The node goes with the first request only; the control plane remembers it per stream.',
    grpc_services: `Over the static cluster ${XDS_CLUSTER} below.`,
  });
  const dynamic = doc.createNode({ ads_config: adsConfig, cds_config: ADS });
  reason(dynamic, {
    cds_config: `Clusters (${CLUSTER_NAME}) over the ADS stream; their endpoints follow over EDS on the same stream.`,
  });
  const dynamicPair = keyed(doc, 'dynamic_resources', 'xDS: what comes from the control plane instead of this file.', dynamic);
  const root = doc.contents as YAML.YAMLMap;
  root.items.splice(root.items.findIndex((p) => YAML.isScalar(p.key) && p.key.value === 'static_resources'), 0, dynamicPair);

  // The replicas' cluster is the control plane's now (CDS), derived from this very block.
  doc.deleteIn([...clusters, clusterIndex]);
  const seq = doc.getIn(clusters) as YAML.YAMLSeq;
  const ipLiteral = /^\d{1,3}(\.\d{1,3}){3}$/.test(overrides.controlPlaneAddress);
  const xdsCluster = doc.createNode({
    name: XDS_CLUSTER,
    type: ipLiteral ? 'STATIC' : 'STRICT_DNS',
    connect_timeout: '1s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: XDS_CLUSTER,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: overrides.controlPlaneAddress, port_value: overrides.controlPlanePort } } } }] }],
    },
  }) as YAML.YAMLMap;
  reason(xdsCluster, {
    name: 'xDS: the control plane (scripts/xds), which serves cluster grpc_server and its endpoints.',
    type: ipLiteral ? 'One fixed address.' : 'A name (host.docker.internal under Compose), resolved by DNS.',
    connect_timeout: 'On this machine or its Docker bridge: it answers at once or is not running yet.',
  });
  seq.items.unshift(xdsCluster);
  const at = (path: (string | number)[], why: string): void => {
    const node = doc.getIn(path, true) as YAML.Node | undefined;
    if (YAML.isScalar(node)) node.comment = ` ${why}`;
    else commentAbove(doc, path, why); // An empty map (`{}`) takes its reason on the line above its key.
  };
  const grpcService = ['dynamic_resources', 'ads_config', 'grpc_services', 0, 'envoy_grpc'];
  at([...grpcService, 'retry_policy', 'retry_back_off', 'base_interval'], 'A lost stream is opened again after 0.1 s...');
  at([...grpcService, 'retry_policy', 'retry_back_off', 'max_interval'], '...backing off to 1 s: a restarted control plane is found within a second.');
  at(['dynamic_resources', 'cds_config', 'resource_api_version'], 'v3 resources.');
  at(['dynamic_resources', 'cds_config', 'ads'], 'The ADS stream above.');
  const protocol = [...clusters, 0, 'typed_extension_protocol_options', 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  at([...protocol, 'explicit_http_config', 'http2_protocol_options'], 'ADS is gRPC, so HTTP/2 (h2c).');
  const xdsPath = [...clusters, 0];
  const socket = [...xdsPath, 'load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint', 'address', 'socket_address'];
  at([...socket, 'address'], ipLiteral ? 'Where the control plane listens.' : "The host, as Docker's host-gateway (extra_hosts in docker-compose.yml).");
  at([...socket, 'port_value'], 'The ADS port it serves (npm run xds --port).');

  // The listener's routes over RDS: a policy switch (hash policy, per-try timeout) is then a push, not a restart.
  const listener = [...listeners, indexByName(doc, listeners, LISTENER_NAME)];
  const chains = doc.getIn([...listener, 'filter_chains']) as YAML.YAMLSeq;
  chains.items.forEach((_chain, c) => {
    const filters = doc.getIn([...listener, 'filter_chains', c, 'filters']) as YAML.YAMLSeq;
    filters.items.forEach((filter, f) => {
      if (!YAML.isMap(filter) || filter.get('name') !== HCM) return;
      const typed = doc.getIn([...listener, 'filter_chains', c, 'filters', f, 'typed_config']) as YAML.YAMLMap;
      const at = typed.items.findIndex((p) => YAML.isScalar(p.key) && p.key.value === 'route_config');
      const rds = doc.createNode({ route_config_name: routeConfigName, config_source: ADS });
      reason(rds, { route_config_name: 'The route configuration the control plane derives from envoy.yaml.', config_source: 'Over the same ADS stream.' });
      const source = rds.get('config_source', true);
      if (YAML.isMap(source)) {
        reason(source, { resource_api_version: 'v3 resources.' });
        const pair = source.items.find((p) => YAML.isScalar(p.key) && p.key.value === 'ads');
        if (pair && YAML.isScalar(pair.key)) pair.key.commentBefore = ' The ADS stream of dynamic_resources.';
      }
      typed.items.splice(at, 1, keyed(doc, 'rds', 'xDS: the routes (retries, timeouts, hash policy) come from the control plane.', rds));
    });
  });
  return doc.toString({ lineWidth: 0 });
}

/** Puts `why` on the comment line above the key at `path`. */
function commentAbove(doc: YAML.Document, path: (string | number)[], why: string): void {
  const parent = doc.getIn(path.slice(0, -1), true);
  if (!YAML.isMap(parent)) return;
  const pair = parent.items.find((p) => YAML.isScalar(p.key) && p.key.value === path.at(-1));
  if (pair && YAML.isScalar(pair.key)) pair.key.commentBefore = ` ${why}`;
}

function indexByName(doc: YAML.Document, path: string[], name: string): number {
  const list = doc.getIn(path);
  const index = YAML.isSeq(list) ? list.items.findIndex((item) => YAML.isMap(item) && item.get('name') === name) : -1;
  if (index < 0) throw new EnvoyConfigShapeError(`envoy.yaml has no ${path.at(-1)} entry named ${name}`);
  return index;
}

function commented(doc: YAML.Document, lines: Record<string, [string | number, string]>): YAML.YAMLMap {
  const map = new YAML.YAMLMap();
  for (const [key, [value, why]] of Object.entries(lines)) {
    const node = doc.createNode(value);
    node.comment = ` ${why}`;
    map.items.push(doc.createPair(key, node));
  }
  return map;
}

function keyed(doc: YAML.Document, key: string, why: string, value: YAML.Node): YAML.Pair {
  const keyNode = doc.createNode(key);
  keyNode.comment = ` ${why}`;
  return doc.createPair(keyNode, value);
}

/** Puts a reason on the line of each named key of a map (the key's line for a block value, the value's otherwise). */
function reason(node: YAML.Node, reasons: Record<string, string>): void {
  if (!YAML.isMap(node)) return;
  for (const pair of node.items) {
    const key = YAML.isScalar(pair.key) ? String(pair.key.value) : '';
    const why = reasons[key];
    if (!why) continue;
    if (YAML.isScalar(pair.value)) pair.value.comment = ` ${why}`;
    else if (YAML.isScalar(pair.key)) pair.key.comment = ` ${why}`;
  }
}

function insertFirst(doc: YAML.Document, pair: YAML.Pair): void {
  (doc.contents as YAML.YAMLMap).items.unshift(pair);
}
