// The narrow interface through which a platform feeds the control plane: which replicas exist, where they listen,
// and whether they may take calls. The local stack feeds it from its own process events, the Docker feed from the
// engine's event stream; the control plane turns it into EDS and pushes it the moment it changes.

/** A replica's state as EDS carries it (envoy.config.core.v3.HealthStatus). */
export type EndpointHealth = 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'UNKNOWN';

/** One replica, as the platform knows it. */
export interface ReplicaEndpoint {
  /** Its name (grpc-server-2, or the Compose container name): EDS's hostname, for /clusters and logs. */
  name: string;
  address: string;
  port: number;
  /**
   * HEALTHY: it listens; DRAINING: it was told to stop (SIGTERM) and must get no new calls; UNHEALTHY: the platform
   * says it is unwell (Docker's health check). Envoy still runs its own active health checks on top.
   */
  health: EndpointHealth;
}

/** What the control plane offers its feeds: one replica set or changed, one gone. */
export interface EndpointSink {
  setEndpoint(endpoint: ReplicaEndpoint): void;
  removeEndpoint(name: string): void;
  /** Replaces the whole set at once (a feed that (re)started and listed what runs). */
  replaceEndpoints(endpoints: readonly ReplicaEndpoint[]): void;
}
