// Reads Envoy's own view of the upstream replicas from its admin API: this, not the config text, is what the
// tests and `npm start` trust for "healthy", "ejected" and "how many calls each host served".

/** One upstream host as Envoy sees it in /clusters?format=json. */
export interface UpstreamHost {
  /** "127.0.0.2:8080" */
  address: string;
  /** Active health check failed (e.g. the replica answers NOT_SERVING or does not answer). */
  failedActiveHealthCheck: boolean;
  /** Ejected by outlier detection. */
  ejectedByOutlierDetection: boolean;
  /** Added by DNS and not yet checked: Envoy routes nothing to it until its first check passes. */
  pendingActiveHealthCheck: boolean;
  /** Envoy would route calls to it: none of the flags above. */
  healthy: boolean;
  /** Envoy's health flags as the text /clusters page spells them, for display. */
  healthFlags: string[];
  /** Counters and gauges for this host: rq_total, rq_success, rq_error, rq_active, cx_active, ... */
  stats: Record<string, number>;
}

interface ClustersJson {
  cluster_statuses?: {
    name: string;
    host_statuses?: {
      address?: { socket_address?: { address?: string; port_value?: number } };
      stats?: { name?: string; value?: string | number }[];
      health_status?: Record<string, unknown>;
    }[];
  }[];
}

async function adminGet(adminUrl: string, path: string, timeoutMs: number): Promise<Response> {
  const response = await fetch(`${adminUrl}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`Envoy admin ${path} answered HTTP ${response.status}`);
  return response;
}

/** The hosts of one cluster, as Envoy currently sees them. Throws if the admin is unreachable or the cluster unknown. */
export async function clusterHosts(adminUrl: string, cluster: string, timeoutMs = 2000): Promise<UpstreamHost[]> {
  const body = (await (await adminGet(adminUrl, '/clusters?format=json', timeoutMs)).json()) as ClustersJson;
  const status = body.cluster_statuses?.find((c) => c.name === cluster);
  if (!status) throw new Error(`Envoy has no cluster named ${cluster}`);
  return (status.host_statuses ?? []).map((host) => {
    const socket = host.address?.socket_address;
    const health = host.health_status ?? {};
    const failedActiveHealthCheck = health.failed_active_health_check === true;
    const ejectedByOutlierDetection = health.failed_outlier_check === true;
    const pendingActiveHealthCheck = health.pending_active_hc === true;
    // Under push discovery (EDS) the control plane's word counts too: a replica it sends as DRAINING or UNHEALTHY
    // gets no new calls whatever its health checks say. Named as the text /clusters page names these flags.
    const eds = health.eds_health_status;
    const healthFlags = [
      ...(failedActiveHealthCheck ? ['failed_active_hc'] : []),
      ...(ejectedByOutlierDetection ? ['failed_outlier_check'] : []),
      ...(pendingActiveHealthCheck ? ['pending_active_hc'] : []),
      ...(eds === 'UNHEALTHY' ? ['failed_eds_health'] : []),
      ...(eds === 'DRAINING' ? ['eds_status_draining'] : []),
    ];
    const stats: Record<string, number> = {};
    // Zero-valued stats come without a value field.
    for (const stat of host.stats ?? []) if (stat.name) stats[stat.name] = Number(stat.value ?? 0);
    return {
      address: `${socket?.address ?? '?'}:${socket?.port_value ?? '?'}`,
      failedActiveHealthCheck,
      ejectedByOutlierDetection,
      pendingActiveHealthCheck,
      healthy: healthFlags.length === 0,
      healthFlags: healthFlags.length > 0 ? healthFlags : ['healthy'],
      stats,
    };
  });
}

/** Counters and gauges whose name matches `filter` (a regex, as /stats?filter= takes). */
export async function stats(adminUrl: string, filter: string, timeoutMs = 2000): Promise<Map<string, number>> {
  const query = `/stats?format=json&filter=${encodeURIComponent(filter)}`;
  const body = (await (await adminGet(adminUrl, query, timeoutMs)).json()) as {
    stats?: { name?: string; value?: number }[];
  };
  const result = new Map<string, number>();
  for (const stat of body.stats ?? []) {
    // Histograms come without a plain value; only counters and gauges are kept.
    if (stat.name !== undefined && typeof stat.value === 'number') result.set(stat.name, stat.value);
  }
  return result;
}

/** One counter or gauge of a cluster, e.g. clusterStat(url, 'grpc_server', 'upstream_rq_retry'); 0 if Envoy has none. */
export async function clusterStat(adminUrl: string, cluster: string, stat: string, timeoutMs = 2000): Promise<number> {
  const name = `cluster.${cluster}.${stat}`;
  return (await stats(adminUrl, `^${name.replaceAll('.', '\\.')}$`, timeoutMs)).get(name) ?? 0;
}

/** The port a named listener really bound (the config may say 0). */
export async function listenerPort(adminUrl: string, listener: string, timeoutMs = 2000): Promise<number> {
  const body = (await (await adminGet(adminUrl, '/listeners?format=json', timeoutMs)).json()) as {
    listener_statuses?: { name?: string; local_address?: { socket_address?: { port_value?: number } } }[];
  };
  const port = body.listener_statuses?.find((l) => l.name === listener)?.local_address?.socket_address?.port_value;
  if (!port) throw new Error(`Envoy has no bound listener named ${listener}`);
  return port;
}

/** True when the admin says the server is initialized and serving (GET /ready answers LIVE). */
export async function isReady(adminUrl: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const response = await fetch(`${adminUrl}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok && (await response.text()).trim() === 'LIVE';
  } catch {
    return false;
  }
}

/** What /server_info says about the running process: its lifecycle state and its hot-restart epoch. */
export interface ServerInfo {
  /** LIVE, DRAINING, PRE_INITIALIZING or INITIALIZING. */
  state: string;
  /** 0 for a fresh start; each hot restart runs the next epoch. */
  restartEpoch: number;
}

export async function serverInfo(adminUrl: string, timeoutMs = 2000): Promise<ServerInfo> {
  const body = (await (await adminGet(adminUrl, '/server_info', timeoutMs)).json()) as {
    state?: string;
    command_line_options?: { restart_epoch?: number };
  };
  return { state: body.state ?? 'UNKNOWN', restartEpoch: body.command_line_options?.restart_epoch ?? 0 };
}

// /config_dump's JSON, walked by known paths.
type Json = Record<string, any>;

/**
 * The clusters and listeners Envoy really runs, from /config_dump, shaped as a config file's `static_resources`
 * (what policyOf reads): the truth after any hot restart or xDS push, whatever a file on disk says. Under push
 * discovery the clusters that came over CDS are listed with the static ones, and a listener that takes its routes
 * over RDS shows them inline, as envoy.yaml writes them.
 */
export async function runningStaticResources(
  adminUrl: string,
  timeoutMs = 2000,
): Promise<{ static_resources: { clusters: unknown[]; listeners: unknown[] } }> {
  const dump = (await (await adminGet(adminUrl, '/config_dump', timeoutMs)).json()) as { configs?: Json[] };
  const ofType = (suffix: string) => dump.configs?.find((config) => String(config['@type']).endsWith(suffix));
  const clustersDump = ofType('.ClustersConfigDump');
  const clusters = [
    ...((clustersDump?.static_clusters ?? []) as Json[]).map((c) => c.cluster),
    ...((clustersDump?.dynamic_active_clusters ?? []) as Json[]).map((c) => c.cluster),
  ];
  const routes = new Map(
    ((ofType('.RoutesConfigDump')?.dynamic_route_configs ?? []) as Json[]).map((r) => [r.route_config?.name as string, r.route_config as Json]),
  );
  const listeners = ((ofType('.ListenersConfigDump')?.static_listeners ?? []) as Json[]).map((l) => inlineRoutes(l.listener as Json, routes));
  return { static_resources: { clusters, listeners } };
}

/** A listener whose HTTP connection managers take routes over RDS, with those routes written inline. */
function inlineRoutes(listener: Json, routes: Map<string, Json>): Json {
  for (const chain of (listener?.filter_chains ?? []) as Json[]) {
    for (const filter of (chain.filters ?? []) as Json[]) {
      const typed = filter.typed_config as Json | undefined;
      const name = typed?.rds?.route_config_name as string | undefined;
      if (name && routes.has(name)) typed!.route_config = routes.get(name);
    }
  }
  return listener;
}
