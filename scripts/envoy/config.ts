import YAML from 'yaml';

/** The names in envoy.yaml that the derivation relies on; a renamed one there must fail loudly here. */
export const LISTENER_NAME = 'grpc_ingress';
export const CLUSTER_NAME = 'grpc_server';
/** The read-only admin mirror for containers, and the cluster it proxies to (left out of local runs). */
export const ADMIN_READONLY_LISTENER = 'admin_readonly';
export const ADMIN_CLUSTER = 'envoy_admin';

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
  /** Share of the OK calls the access log keeps, 0 to 100 (runtime key access_log.ok_percent); left out: envoy.yaml's. */
  accessLogOkPercent?: number;
}

/** The runtime key that says what share of OK calls the access log keeps (envoy.yaml's runtime_filter). */
export const ACCESS_LOG_OK_PERCENT_KEY = 'access_log.ok_percent';

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
    ' Derived from envoy.yaml by scripts/envoy/config.ts for a run from local processes; do not edit.\n' +
    ' Only bind addresses, ports and the DNS resolver differ from the file Compose mounts, and the read-only admin\n' +
    ' mirror is left out: here the admin itself listens on loopback, for this machine alone.';

  const admin = ['admin', 'address', 'socket_address'];
  setWithReason(doc, [...admin, 'address'], overrides.bindAddress, 'local run: loopback only, the admin can quit Envoy.');
  setWithReason(doc, [...admin, 'port_value'], overrides.adminPort, 'local run: --admin-port (0 = any free port).');

  const listener = ['static_resources', 'listeners', indexByName(doc, ['static_resources', 'listeners'], LISTENER_NAME)];
  const listenerAddress = [...listener, 'address', 'socket_address'];
  setWithReason(doc, [...listenerAddress, 'address'], overrides.bindAddress, 'local run: loopback only.');
  setWithReason(doc, [...listenerAddress, 'port_value'], overrides.listenerPort, 'local run: --port (0 = any free port).');

  dropAdminMirror(doc);

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

  if (overrides.accessLogOkPercent !== undefined) {
    const layer = ['layered_runtime', 'layers', indexByName(doc, ['layered_runtime', 'layers'], 'static'), 'static_layer'];
    requireIn(doc, layer);
    doc.setIn([...layer, ACCESS_LOG_OK_PERCENT_KEY], overrides.accessLogOkPercent);
  }

  return doc.toString({ lineWidth: 0 });
}

/** The stat prefix of the L4 listener's tcp_proxy: its counters are tcp.<prefix>.* (downstream_cx_total, ...). */
export const L4_STAT_PREFIX = 'grpc_l4';

/**
 * Derives the layer-4 variant of envoy.yaml for the balancer scorecard: the same listener, the same cluster (DNS
 * discovery, health checks, outlier detection, connect timeout) and the same admin, but the listener's HTTP
 * connection manager is replaced by a tcp_proxy. Envoy then balances TCP connections, not calls: it picks a replica
 * when a client connects and every call on that connection goes there. Routes, retries and per-try timeouts live in
 * the HTTP connection manager, so they go with it; that loss is what the scorecard measures.
 */
export function deriveL4EnvoyConfig(baseYaml: string): string {
  const doc = YAML.parseDocument(baseYaml);
  if (doc.errors.length > 0) throw new EnvoyConfigShapeError(`envoy.yaml does not parse: ${doc.errors[0]?.message}`);
  doc.commentBefore =
    ' Envoy at layer 4: derived from envoy.yaml by deriveL4EnvoyConfig (scripts/envoy/config.ts) for the balancer\n' +
    ' scorecard (docs/scorecard.md); do not edit, a test checks it is current. Only the listener differs: a tcp_proxy\n' +
    ' in place of the HTTP connection manager, so Envoy balances connections instead of calls.';
  const listener = ['static_resources', 'listeners', indexByName(doc, ['static_resources', 'listeners'], LISTENER_NAME)];
  const chains = doc.getIn([...listener, 'filter_chains']);
  if (!YAML.isSeq(chains) || chains.items.length !== 1) {
    throw new EnvoyConfigShapeError(`listener ${LISTENER_NAME} must have exactly one filter chain`);
  }
  const tcpProxy = doc.createNode({
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
      stat_prefix: L4_STAT_PREFIX,
      cluster: CLUSTER_NAME,
      max_connect_attempts: 3,
    },
  });
  const reasons: Record<string, string> = {
    stat_prefix: `Names the proxy's stats: tcp.${L4_STAT_PREFIX}.* (downstream_cx_total counts client connections).`,
    cluster: 'The same replicas, found and health-checked exactly as the L7 listener finds them.',
    max_connect_attempts: 'A refused connect (a dead replica) is tried again, on the host round robin picks next.',
  };
  const typed = tcpProxy.get('typed_config', true);
  if (YAML.isMap(typed)) {
    for (const pair of typed.items) {
      const key = YAML.isScalar(pair.key) ? String(pair.key.value) : '';
      if (reasons[key] && YAML.isScalar(pair.value)) pair.value.comment = ` ${reasons[key]}`;
    }
  }
  tcpProxy.commentBefore = ' Layer 4: one upstream connection per client connection, to the replica picked when the client connected.';
  doc.setIn([...listener, 'filter_chains', 0, 'filters'], doc.createNode([tcpProxy]));
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

/** Inside the Swarm stack's Envoy container: the admin's unix socket, in a folder bind-mounted from the manager. */
export const SWARM_ADMIN_SOCKET = '/run/envoy-admin/admin.sock';
/** The admin socket's file mode: only Envoy's own uid (101) and root on the manager may connect. */
const SWARM_ADMIN_SOCKET_MODE = 0o600;
/** Inside the Kubernetes Envoy pod: the admin's address, reached only through `kubectl port-forward`. */
export const KUBERNETES_ADMIN_ADDRESS = '127.0.0.1';

/** What may differ from envoy.yaml on Swarm: the name Envoy resolves for the replicas. */
export interface SwarmEnvoyOptions {
  /**
   * Default tasks.<service>, Swarm's per-task name: one address per running task. The test that shows the
   * virtual-IP lesson points a second Envoy at a single-address name instead (the service's VIP).
   */
  replicasName?: string;
  /** The reason written beside replicasName when it is not the default. */
  replicasReason?: string;
}

/**
 * Derives the Envoy config of the Swarm stack (deploy/swarm/envoy.yaml) from envoy.yaml. Only two things differ:
 * Envoy resolves tasks.<service> (the bare service name is a virtual IP on Swarm, one address balanced per
 * connection), and the admin listens on a unix socket that the stack bind-mounts from the manager, because a
 * Swarm service cannot publish a port on 127.0.0.1 alone. Every balancing, health and retry setting is the same.
 */
export function deriveSwarmEnvoyConfig(baseYaml: string, options: SwarmEnvoyOptions = {}): string {
  const doc = parseBase(baseYaml);
  const service = serviceNameOf(baseYaml);
  doc.commentBefore =
    ' Derived from envoy.yaml by scripts/envoy/config.ts for Docker Swarm (deploy/swarm/stack.yml); do not edit:\n' +
    ' `npm run derive:envoy` writes it again. Only the replicas\' DNS name and the admin address differ, and the\n' +
    ' admin\'s read-only mirror for Docker\'s port publishing is left out.';
  const pipe = new YAML.YAMLMap<unknown, unknown>();
  pipe.set('path', withReason(doc, SWARM_ADMIN_SOCKET, 'In a folder the stack bind-mounts from the manager: no TCP port at all.'));
  pipe.set('mode', withReason(doc, SWARM_ADMIN_SOCKET_MODE, '0600: only uid 101 (Envoy) and root on the manager may connect.'));
  replaceAdminAddress(doc, 'pipe', pipe);
  dropAdminMirror(doc);
  const name = options.replicasName ?? `tasks.${service}`;
  const reason =
    options.replicasReason ??
    `Swarm's per-task name: one address per running task (${service} alone is the service's virtual IP).`;
  setWithReason(doc, [...endpointPath(doc), 'address'], name, reason);
  return doc.toString({ lineWidth: 0 });
}

/**
 * Derives the Envoy config of the Kubernetes manifests (deploy/kubernetes/envoy.yaml, the ConfigMap's file) from
 * envoy.yaml. The replicas keep their name: a headless Service (clusterIP: None) of that name resolves, through
 * the pod's DNS search path, to one address per ready pod in whatever namespace the manifests go to. Only the
 * admin moves, to the pod's loopback, where `kubectl port-forward` reaches it and no other pod or node does.
 */
export function deriveKubernetesEnvoyConfig(baseYaml: string): string {
  const doc = parseBase(baseYaml);
  const service = serviceNameOf(baseYaml);
  doc.commentBefore =
    ' Derived from envoy.yaml by scripts/envoy/config.ts for Kubernetes (deploy/kubernetes/, a ConfigMap); do not\n' +
    ' edit: `npm run derive:envoy` writes it again. Only the admin address differs, and the admin\'s read-only\n' +
    ' mirror for Docker\'s port publishing is left out.';
  const socket = new YAML.YAMLMap<unknown, unknown>();
  socket.set('address', withReason(doc, KUBERNETES_ADMIN_ADDRESS, 'The pod\'s loopback: reached only through kubectl port-forward.'));
  socket.set('port_value', withReason(doc, baseAdminPort(doc), 'kubectl port-forward deploy/envoy 9901 forwards to it.'));
  replaceAdminAddress(doc, 'socket_address', socket);
  dropAdminMirror(doc);
  setWithReason(
    doc,
    [...endpointPath(doc), 'address'],
    service,
    `The headless Service (clusterIP: None): one address per ready pod, found through the pod's DNS search path.`,
  );
  return doc.toString({ lineWidth: 0 });
}

/**
 * Removes the admin_readonly listener and its envoy_admin cluster: they exist for Docker's port publishing (which
 * cannot reach the admin on the container's loopback). A local run has its admin on this machine's loopback, Swarm's
 * is a unix socket and Kubernetes' is reached by port-forward: there the mirror would only add a way in.
 */
function dropAdminMirror(doc: YAML.Document): void {
  doc.deleteIn(['static_resources', 'listeners', indexByName(doc, ['static_resources', 'listeners'], ADMIN_READONLY_LISTENER)]);
  doc.deleteIn(['static_resources', 'clusters', indexByName(doc, ['static_resources', 'clusters'], ADMIN_CLUSTER)]);
}

function parseBase(baseYaml: string): YAML.Document {
  const doc = YAML.parseDocument(baseYaml);
  if (doc.errors.length > 0) throw new EnvoyConfigShapeError(`envoy.yaml does not parse: ${doc.errors[0]?.message}`);
  return doc;
}

function withReason(doc: YAML.Document, value: string | number, reason: string): YAML.Node {
  const node = doc.createNode(value);
  node.comment = ` ${reason}`;
  return node;
}

/** Replaces admin.address whole, so no comment about the old address (Compose's publishing) stays behind. */
function replaceAdminAddress(doc: YAML.Document, kind: 'pipe' | 'socket_address', value: YAML.YAMLMap): void {
  requireIn(doc, ['admin', 'address']);
  const address = new YAML.YAMLMap<unknown, unknown>();
  address.set(kind, value);
  doc.setIn(['admin', 'address'], address);
}

function baseAdminPort(doc: YAML.Document): number {
  const port = doc.getIn(['admin', 'address', 'socket_address', 'port_value']);
  if (typeof port !== 'number') throw new EnvoyConfigShapeError('envoy.yaml has no admin.address.socket_address.port_value');
  return port;
}

/** The path of the cluster's one DNS endpoint's socket_address. */
function endpointPath(doc: YAML.Document): (string | number)[] {
  const cluster = ['static_resources', 'clusters', indexByName(doc, ['static_resources', 'clusters'], CLUSTER_NAME)];
  const path = [...cluster, 'load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint', 'address', 'socket_address'];
  requireIn(doc, path);
  return path;
}
