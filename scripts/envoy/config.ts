import YAML from 'yaml';

/** The names in envoy.yaml that the derivation relies on; a renamed one there must fail loudly here. */
export const LISTENER_NAME = 'grpc_ingress';
export const CLUSTER_NAME = 'grpc_server';
/** The read-only listener Prometheus scrapes under Compose (GET /stats/prometheus), and the admin cluster behind it. */
export const STATS_LISTENER_NAME = 'envoy_stats';
export const ADMIN_CLUSTER_NAME = 'envoy_admin';

/** What differs between the Compose network and a run from local processes. */
export interface LocalEnvoyOverrides {
  /** Loopback address Envoy's listener and admin bind to (never 0.0.0.0 here: the admin can quit Envoy). */
  bindAddress: string;
  /** gRPC listener port; 0 lets the kernel pick (read it back from the admin /listeners). */
  listenerPort: number;
  /** Admin port; 0 lets the kernel pick (read it back with --admin-address-path). */
  adminPort: number;
  /** The port every replica listens on (one port, one address per replica, as under Docker). */
  upstreamPort: number;
  /** Where the loopback DNS responder answers, in place of Docker's embedded DNS. */
  dnsAddress: string;
  dnsPort: number;
}

/** A base config that does not have the shape this derivation expects. */
export class EnvoyConfigShapeError extends Error {}

function indexByName(doc: YAML.Document, path: string[], name: string): number {
  const list = doc.getIn(path);
  if (!YAML.isSeq(list)) throw new EnvoyConfigShapeError(`envoy.yaml has no list at ${path.join('.')}`);
  const index = list.items.findIndex((item) => YAML.isMap(item) && item.get('name') === name);
  if (index < 0) throw new EnvoyConfigShapeError(`envoy.yaml has no ${path.at(-1)} entry named ${name}`);
  return index;
}

/** Sets a scalar and replaces its comment, so the derived file never shows a reason that is no longer true. */
function setWithReason(doc: YAML.Document, path: (string | number)[], value: string | number, reason: string): void {
  requireIn(doc, path);
  const node = doc.createNode(value);
  node.comment = ` ${reason}`;
  doc.setIn(path, node);
}

function requireIn(doc: YAML.Document, path: (string | number)[]): void {
  if (!doc.hasIn(path)) throw new EnvoyConfigShapeError(`envoy.yaml has no ${path.join('.')}`);
}

/**
 * Derives the local-run Envoy config from the hand-written envoy.yaml, changing only what must differ without
 * Docker: bind addresses, ports, and the DNS resolver. Every other setting (balancing, health checks, retries,
 * outlier detection, circuit breakers) is the very one Compose runs. Comments are kept, so the result still reads.
 */
export function deriveLocalEnvoyConfig(baseYaml: string, overrides: LocalEnvoyOverrides): string {
  const doc = YAML.parseDocument(baseYaml);
  if (doc.errors.length > 0) throw new EnvoyConfigShapeError(`envoy.yaml does not parse: ${doc.errors[0]?.message}`);

  doc.commentBefore =
    ' Derived from envoy.yaml by scripts/local/envoy-config.ts for a run from local processes; do not edit.\n' +
    ' Only bind addresses, ports and the DNS resolver differ from the file Compose mounts, and the stats listener\n' +
    ' for Prometheus is left out (the local Prometheus reads the loopback admin directly).';

  const admin = ['admin', 'address', 'socket_address'];
  setWithReason(doc, [...admin, 'address'], overrides.bindAddress, 'local run: loopback only, the admin can quit Envoy.');
  setWithReason(doc, [...admin, 'port_value'], overrides.adminPort, 'local run: --admin-port (0 = any free port).');

  const listener = ['static_resources', 'listeners', indexByName(doc, ['static_resources', 'listeners'], LISTENER_NAME)];
  const listenerAddress = [...listener, 'address', 'socket_address'];
  setWithReason(doc, [...listenerAddress, 'address'], overrides.bindAddress, 'local run: loopback only.');
  setWithReason(doc, [...listenerAddress, 'port_value'], overrides.listenerPort, 'local run: --port (0 = any free port).');

  // The stats listener exists for Prometheus on the Compose network; locally the admin is on loopback already (and
  // on a port chosen at start, which a fixed admin cluster could not follow), so the local Prometheus reads it there.
  doc.deleteIn(['static_resources', 'listeners', indexByName(doc, ['static_resources', 'listeners'], STATS_LISTENER_NAME)]);
  doc.deleteIn(['static_resources', 'clusters', indexByName(doc, ['static_resources', 'clusters'], ADMIN_CLUSTER_NAME)]);

  const cluster = ['static_resources', 'clusters', indexByName(doc, ['static_resources', 'clusters'], CLUSTER_NAME)];
  const dnsCluster = [...cluster, 'cluster_type', 'typed_config'];
  requireIn(doc, dnsCluster);
  // c-ares would otherwise ask the machine's resolver; point it at the loopback responder only, and skip the
  // search domains of /etc/resolv.conf so "grpc-server" is asked as is. (c-ares still reads /etc/hosts first:
  // a "grpc-server" line there would shadow the responder.)
  doc.setIn([...dnsCluster, 'typed_dns_resolver_config'], {
    name: 'envoy.network.dns_resolver.cares',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig',
      resolvers: [{ socket_address: { address: overrides.dnsAddress, port_value: overrides.dnsPort } }],
      use_resolvers_as_fallback: false,
      dns_resolver_options: { use_tcp_for_dns_lookups: false, no_default_search_domain: true },
    },
  });

  const endpoints = doc.getIn([...cluster, 'load_assignment', 'endpoints']);
  if (!YAML.isSeq(endpoints) || endpoints.items.length !== 1) {
    throw new EnvoyConfigShapeError(`cluster ${CLUSTER_NAME} must have exactly one locality of endpoints`);
  }
  const lbEndpoints = doc.getIn([...cluster, 'load_assignment', 'endpoints', 0, 'lb_endpoints']);
  if (!YAML.isSeq(lbEndpoints) || lbEndpoints.items.length !== 1) {
    throw new EnvoyConfigShapeError(`cluster ${CLUSTER_NAME} must have exactly one DNS endpoint`);
  }
  const endpoint = [...cluster, 'load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint', 'address', 'socket_address'];
  setWithReason(doc, [...endpoint, 'port_value'], overrides.upstreamPort, 'local run: the port every replica process binds.');

  return doc.toString({ lineWidth: 0 });
}

/** The DNS name of the replicas in the base config (grpc-server under Compose); the responder answers it. */
export function serviceNameOf(baseYaml: string): string {
  const config = YAML.parse(baseYaml) as {
    static_resources?: { clusters?: { name?: string; load_assignment?: unknown }[] };
  };
  const cluster = config.static_resources?.clusters?.find((c) => c.name === CLUSTER_NAME);
  const address = (cluster?.load_assignment as
    | { endpoints?: { lb_endpoints?: { endpoint?: { address?: { socket_address?: { address?: unknown } } } }[] }[] }
    | undefined)?.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.address?.socket_address?.address;
  if (typeof address !== 'string') throw new EnvoyConfigShapeError(`cluster ${CLUSTER_NAME} has no endpoint address`);
  return address;
}
