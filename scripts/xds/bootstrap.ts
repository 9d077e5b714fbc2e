/**
 * The bootstrap a proxyless grpc-js client reads (GRPC_XDS_BOOTSTRAP names the file, GRPC_XDS_BOOTSTRAP_CONFIG
 * holds it inline): where the control plane is and who the client is. gRFC A27's format.
 */
export function grpcBootstrap(controlPlane: string, nodeId: string): string {
  return JSON.stringify(
    {
      xds_servers: [{ server_uri: controlPlane, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: nodeId, cluster: 'grpc-envoy-lab', locality: {} },
    },
    null,
    2,
  );
}
