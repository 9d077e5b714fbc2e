// What the control plane serves, without a network: envoy.yaml's resources encode as the Envoy API's protobuf (and a
// mistake in one is refused by name, as Envoy would refuse it), EDS carries each replica's state, and a proxyless
// client gets only what gRPC runs.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeJson, EnvoyApiShapeError } from '../../scripts/xds/envoy-api.js';
import { resourcesFor, TYPE } from '../../scripts/xds/resources.js';
import { servedConfigFor } from '../../scripts/xds/index.js';

const served = servedConfigFor({ policy: 'ROUND_ROBIN' });
const endpoints = [
  { name: 'grpc-server-2', address: '127.0.0.3', port: 8080, health: 'DRAINING' as const },
  { name: 'grpc-server-1', address: '127.0.0.2', port: 8080, health: 'HEALTHY' as const },
];

describe('encoding envoy.yaml-shaped resources', () => {
  it("round-trips envoy.yaml's cluster on EDS: durations, wrapper numbers, enums and typed Any blocks", () => {
    const bytes = encodeJson('envoy.config.cluster.v3.Cluster', served.cluster);
    const back = decodeMessage('envoy.config.cluster.v3.Cluster', bytes);
    expect(back.type).toBe('EDS');
    expect(back.connect_timeout).toEqual({ seconds: 0, nanos: 100_000_000 });
    expect((back.outlier_detection as Record<string, unknown>).consecutive_gateway_failure).toEqual({ value: 3 });
    expect(Object.keys(back.typed_extension_protocol_options as object)).toEqual(['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']);
  });

  it('refuses an unknown field, a malformed duration and a misspelt enum, naming where', () => {
    expect(() => encodeJson('envoy.config.cluster.v3.Cluster', { ...served.cluster, conect_timeout: '1s' })).toThrow(EnvoyApiShapeError);
    expect(() => encodeJson('envoy.config.cluster.v3.Cluster', { ...served.cluster, connect_timeout: '1 second' })).toThrow(
      /connect_timeout: "1 second" is not a duration/,
    );
    expect(() => encodeJson('envoy.config.cluster.v3.Cluster', { ...served.cluster, lb_policy: 'ROUND_ROBYN' })).toThrow(/"ROUND_ROBYN" is not a value of/);
  });
});

describe('resources per client', () => {
  it('EDS lists every replica with its state, in name order, in one locality gRPC accepts', () => {
    const [assignment] = [...resourcesFor(TYPE.endpoint, served, endpoints, 'envoy').values()];
    const locality = assignment?.endpoints[0];
    expect(locality.locality).toEqual({ zone: 'lab' });
    expect(locality.lb_endpoints.map((e: { endpoint: { hostname: string }; health_status: string }) => [e.endpoint.hostname, e.health_status])).toEqual([
      ['grpc-server-1', 'HEALTHY'],
      ['grpc-server-2', 'DRAINING'],
    ]);
  });

  it("gives Envoy envoy.yaml's routes whole, and a gRPC client the routes without Envoy's own answers", () => {
    const forEnvoy = [...resourcesFor(TYPE.route, served, endpoints, 'envoy').values()][0];
    const forGrpc = [...resourcesFor(TYPE.route, served, endpoints, 'grpc').values()][0];
    const directs = (config: typeof forEnvoy) => config?.virtual_hosts[0].routes.filter((r: { direct_response?: unknown }) => r.direct_response).length;
    expect(directs(forEnvoy)).toBe(1);
    expect(directs(forGrpc)).toBe(0);
    expect(forGrpc?.virtual_hosts[0].routes.length).toBe(forEnvoy!.virtual_hosts[0].routes.length - 1);
  });

  it("spells out Envoy's success-rate defaults for gRPC, and serves it an API listener on RDS", () => {
    const cluster = [...resourcesFor(TYPE.cluster, served, endpoints, 'grpc').values()][0];
    expect(cluster?.outlier_detection.success_rate_minimum_hosts).toBe(5);
    const listener = [...resourcesFor(TYPE.listener, served, endpoints, 'grpc').values()][0];
    expect(listener?.name).toBe('grpc-server');
    expect(listener?.api_listener.api_listener.rds.route_config_name).toBe(served.routeConfig.name);
    expect(() => encodeJson('envoy.config.listener.v3.Listener', listener!)).not.toThrow();
  });
});
