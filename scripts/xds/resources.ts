// The resources the control plane serves, in Envoy's config form (what envoy.yaml writes), for one kind of client.
// The cluster and the route configuration are handed in already derived from envoy.yaml (scripts/envoy); here they
// are only fitted to who asks: Envoy gets them as they are, a proxyless gRPC client gets what gRPC can run.
import type { ReplicaEndpoint } from './endpoints.js';

export type Json = Record<string, any>;

export const TYPE = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;
export type TypeUrl = (typeof TYPE)[keyof typeof TYPE];

/** The message type of each resource type URL. */
export const MESSAGE_OF: Record<TypeUrl, string> = {
  [TYPE.listener]: 'envoy.config.listener.v3.Listener',
  [TYPE.route]: 'envoy.config.route.v3.RouteConfiguration',
  [TYPE.cluster]: 'envoy.config.cluster.v3.Cluster',
  [TYPE.endpoint]: 'envoy.config.endpoint.v3.ClusterLoadAssignment',
};

/** Who is asking: Envoy, or a proxyless gRPC client (which runs a subset of the API and refuses the rest). */
export type ClientKind = 'envoy' | 'grpc';

/** What the control plane serves, before it is fitted to a client. */
export interface ServedConfig {
  /** The replicas' cluster as Envoy runs it (EDS over ADS), derived from envoy.yaml. */
  cluster: Json;
  /** The listener's route configuration, derived from envoy.yaml (retries, timeouts, hash policy). */
  routeConfig: Json;
  /** The listener a proxyless client resolves its xds:/// target to (the target's name). */
  apiListenerName: string;
}

/** Resources of one type by name, in config form, as `kind` should get them. */
export function resourcesFor(type: TypeUrl, config: ServedConfig, endpoints: readonly ReplicaEndpoint[], kind: ClientKind): Map<string, Json> {
  const clusterName = String(config.cluster.name);
  switch (type) {
    case TYPE.cluster:
      return new Map([[clusterName, kind === 'grpc' ? clusterForGrpc(config.cluster) : config.cluster]]);
    case TYPE.endpoint:
      return new Map([[clusterName, loadAssignment(clusterName, endpoints)]]);
    case TYPE.route:
      return new Map([[String(config.routeConfig.name), kind === 'grpc' ? forGrpc(config.routeConfig) : config.routeConfig]]);
    case TYPE.listener:
      // Envoy's listeners stay static (envoy.yaml's); only a proxyless client asks for one.
      return new Map([[config.apiListenerName, apiListener(config.apiListenerName, String(config.routeConfig.name))]]);
  }
}

/** EDS for the cluster: one locality, every replica with the state the platform gave it. */
export function loadAssignment(clusterName: string, endpoints: readonly ReplicaEndpoint[]): Json {
  const sorted = [...endpoints].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  return {
    cluster_name: clusterName,
    endpoints: [
      {
        // gRPC refuses an endpoint group without a locality, and weighs localities (skipping one without a weight);
        // Envoy ignores both here (no locality-weighted balancing configured).
        locality: { zone: 'lab' },
        load_balancing_weight: 1,
        lb_endpoints: sorted.map((endpoint) => ({
          endpoint: {
            address: { socket_address: { address: endpoint.address, port_value: endpoint.port } },
            hostname: endpoint.name,
          },
          health_status: endpoint.health,
        })),
      },
    ],
  };
}

/** Envoy's defaults for success-rate ejection, which envoy.yaml leaves unset (with 3 replicas it never runs). */
const SUCCESS_RATE_DEFAULTS = { success_rate_minimum_hosts: 5, success_rate_request_volume: 100, success_rate_stdev_factor: 1900 };

/**
 * The cluster with Envoy's success-rate defaults spelt out: grpc-js 1.14 reads them as "unset" instead of Envoy's
 * defaults, so its outlier detection ran the success-rate check with no minimum and crashed the client process on an
 * empty list (seen here with @grpc/grpc-js 1.14.7). Spelt out, both run the same rule.
 */
function clusterForGrpc(cluster: Json): Json {
  if (cluster.outlier_detection === undefined) return cluster;
  return { ...cluster, outlier_detection: { ...SUCCESS_RATE_DEFAULTS, ...cluster.outlier_detection } };
}

/**
 * The route configuration less what gRPC refuses: a route answered by the proxy itself (direct_response) would make
 * grpc-js NACK the whole configuration, so it is left out; a call it would have matched fails in the client instead
 * (UNAVAILABLE), which is what the route says in Envoy's words anyway. Everything gRPC ignores stays.
 */
function forGrpc(routeConfig: Json): Json {
  return {
    ...routeConfig,
    virtual_hosts: (routeConfig.virtual_hosts as Json[]).map((host) => ({
      ...host,
      routes: (host.routes as Json[]).filter((route) => route.direct_response === undefined),
    })),
  };
}

/** A proxyless client's listener: an API listener whose HTTP connection manager takes its routes from RDS. */
function apiListener(name: string, routeConfigName: string): Json {
  return {
    name,
    api_listener: {
      api_listener: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
        stat_prefix: name,
        rds: { route_config_name: routeConfigName, config_source: { ads: {}, resource_api_version: 'V3' } },
        http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
      },
    },
  };
}
