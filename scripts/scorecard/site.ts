// Where the contenders run: beside local replica processes (local-site.ts) or as containers on the Compose project's
// network (docker-site.ts). A site starts and stops each balancer, says how to reach it and how much CPU it used,
// and names the targets of the two contenders without a balancer (client-side round robin, and the direct path).

/** The balancers the scorecard starts; client-side round robin has none. */
export type BalancerKind = 'envoy-l7' | 'envoy-l4' | 'nginx' | 'haproxy';

/** A balancer the site started. */
export interface RunningBalancer {
  /** host:port clients call. */
  readonly target: string;
  /** http://127.0.0.1:<port> of its admin API (Envoy only): connection counts for the L4 contenders. */
  readonly adminUrl?: string;
  /** CPU seconds its processes (or its container) used since it started. */
  cpuSeconds(): Promise<number>;
  /** Stops it (and removes its container); safe to call more than once. */
  stop(): Promise<void>;
}

export interface BalancerSite {
  readonly kind: 'local' | 'docker';
  /** Starts a balancer in front of the replicas; resolves once it accepts connections. */
  start(balancer: BalancerKind): Promise<RunningBalancer>;
  /** A grpc-js target that resolves the replicas itself, with one sentence on how it resolves them. */
  clientSideTarget(): Promise<{ target: string; how: string }>;
  /** ipv4:<a>,<b>,... of the running replicas: the direct path, no balancer in between. */
  directTarget(): Promise<string>;
  /** Stops every balancer it started. */
  close(): Promise<void>;
}
