// The contenders: every common way to balance gRPC over the same replicas, each with the settings it needed,
// quoted from its config, so the scorecard says not only how each did but what it took.
import { L4_STAT_PREFIX } from '../envoy/index.js';
import { featureLine, type Feature } from './balancer-configs.js';
import type { BalancerKind } from './site.js';

export interface Contender {
  /** Short name, as the report's rows and the JSON name it. */
  name: string;
  title: string;
  /** How it balances, in one sentence. */
  how: string;
  /** The balancer the site starts for it; none for client-side balancing. */
  balancer?: BalancerKind;
  /** How the caller's one channel picks among the addresses its target resolves to. */
  balancing: 'pick_first' | 'round_robin';
  /** Environment the replicas are restarted with for this contender (and without, after it). */
  replicaEnv?: Record<string, string>;
  /** The Envoy counter of client connections, for the L4 contenders: how often the client reconnected. */
  connectionCounter?: string;
  /** What it needed, each with the line that turns it on. */
  features(): Feature[];
}

const L4_CONNECTIONS = `tcp.${L4_STAT_PREFIX}.downstream_cx_total`;

function envoyL4Features(): Feature[] {
  const file = 'balancers/envoy-l4.yaml';
  return [
    featureLine('tcp_proxy: balances connections, not calls', file, /envoy\.filters\.network\.tcp_proxy/),
    featureLine('DNS discovery every second', file, /dns_refresh_rate:/),
    featureLine('active gRPC health checks (for new connections only)', file, /service_name: greeter/),
    featureLine('connect retries', file, /max_connect_attempts:/),
  ];
}

/** The contenders in the order the report lists them; the max-connection-age sweep is one age (quick) or three. */
export function contenders(quick: boolean): Contender[] {
  const ages = quick ? [1000] : [1000, 5000, 20_000];
  return [
    {
      name: 'envoy-l7',
      title: 'Envoy at L7 (envoy.yaml)',
      how: 'Envoy ends the client HTTP/2 connection and picks a replica for every call (round robin).',
      balancer: 'envoy-l7',
      balancing: 'pick_first',
      features: () => [
        featureLine('DNS discovery every second', 'envoy.yaml', /dns_refresh_rate:/),
        featureLine('active gRPC health checks', 'envoy.yaml', /service_name: greeter/),
        featureLine('retries on another replica', 'envoy.yaml', /retry_on:/),
        featureLine('per-try timeout', 'envoy.yaml', /per_try_timeout:/),
        featureLine('outlier detection', 'envoy.yaml', /consecutive_gateway_failure: 3/),
      ],
    },
    {
      name: 'envoy-l4',
      title: 'Envoy at L4 (tcp_proxy)',
      how: 'Envoy picks a replica when the client connects and relays bytes: every call on that connection goes there.',
      balancer: 'envoy-l4',
      balancing: 'pick_first',
      connectionCounter: L4_CONNECTIONS,
      features: envoyL4Features,
    },
    {
      name: 'nginx',
      title: 'nginx grpc_pass (Debian 1.22.1)',
      how: 'nginx ends the client HTTP/2 connection and passes each call to the next upstream server (round robin).',
      balancer: 'nginx',
      balancing: 'pick_first',
      features: () => [
        featureLine('upstream resolved once at start, passive health checks', 'balancers/nginx.conf', /server grpc-server:8080/),
        featureLine('retries on the next server', 'balancers/nginx.conf', /grpc_next_upstream /),
        featureLine('per-try timeout', 'balancers/nginx.conf', /grpc_read_timeout/),
        featureLine('upstream keepalive', 'balancers/nginx.conf', /keepalive \d+;/),
      ],
    },
    {
      name: 'haproxy',
      title: 'HAProxy HTTP/2 (Debian 2.6.12)',
      how: 'HAProxy ends the client HTTP/2 connection and sends each call (stream) to the next server (round robin).',
      balancer: 'haproxy',
      balancing: 'pick_first',
      features: () => [
        featureLine('DNS discovery every second', 'balancers/haproxy.cfg', /server-template/),
        featureLine('active gRPC health checks (HTTP/2 written out as bytes)', 'balancers/haproxy.cfg', /tcp-check expect binary/),
        featureLine('retries on another server', 'balancers/haproxy.cfg', /retry-on /),
        featureLine('per-try timeout', 'balancers/haproxy.cfg', /timeout server/),
      ],
    },
    {
      name: 'grpc-js-rr',
      title: 'client-side: grpc-js round_robin',
      how: 'No proxy: the client resolves the name, opens a connection to every address and sends each call to the next.',
      balancing: 'round_robin',
      features: () => [
        featureLine('round_robin over every resolved address', 'client/src/load/load-loop.ts', /loadBalancingConfig/),
        featureLine('re-resolution only after a connection fails, at most once a second', 'client/src/greeter-call.ts', /dns_min_time_between_resolutions_ms/),
      ],
    },
    ...ages.map((ms): Contender => ({
      name: `envoy-l4-age-${ms / 1000}s`,
      title: `Envoy at L4 + max_connection_age ${ms / 1000} s`,
      how: `As Envoy at L4, but every replica sends GOAWAY on a connection about ${ms / 1000} s old: the client reconnects, and Envoy picks again.`,
      balancer: 'envoy-l4',
      balancing: 'pick_first',
      replicaEnv: { MAX_CONNECTION_AGE_MS: String(ms) },
      connectionCounter: L4_CONNECTIONS,
      features: () => [
        ...envoyL4Features(),
        featureLine('max connection age on the replicas', 'server/src/grpc-server.ts', /'grpc\.max_connection_age_ms'/),
        { name: 'its value', file: "the replicas' environment", line: `MAX_CONNECTION_AGE_MS=${ms}` },
      ],
    })),
  ];
}
