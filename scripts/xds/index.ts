// The xDS control plane's front door: push discovery for Envoy (CDS, EDS, RDS over ADS) and for proxyless gRPC
// clients (LDS, RDS, CDS, EDS), fed through one narrow interface (EndpointSink) by the local stack or by Docker's
// event stream; and the bootstrap a proxyless grpc-js client reads to find it.
export { type EndpointHealth, type EndpointSink, type ReplicaEndpoint } from './endpoints.js';
export { XdsControlPlane, type ControlPlaneOptions, type ControlPlaneStatus, type NodeState, type TypeState } from './control-plane.js';
export { TYPE as XDS_TYPE, type ClientKind, type ServedConfig } from './resources.js';
export { EnvoyApiShapeError } from './envoy-api.js';
export { servedConfigFor, PROXYLESS_TARGET_NAME } from './served-config.js';
export { grpcBootstrap } from './bootstrap.js';
export { DockerEndpointFeed, type DockerEventsApi } from './docker-feed.js';
export {
  controlPlaneStatePath,
  DEFAULT_ADS_PORT,
  HOST_GATEWAY_NAME,
  readControlPlaneState,
  type ControlPlaneStateFile,
} from './control-plane-state.js';
