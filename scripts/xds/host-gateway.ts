// Where a control plane on the host is reachable from Compose containers: the address Docker's `host-gateway` maps
// host.docker.internal to (the default bridge's gateway, docker0's address). Envoy's container gets that name through
// `extra_hosts` in docker-compose.yml; the control plane binds there, not on 0.0.0.0, so only this machine and its
// containers can reach it.
import os from 'node:os';

/** The slice of dockerode this needs. */
export interface DockerNetworkApi {
  getNetwork(id: string): { inspect(): Promise<{ IPAM?: { Config?: { Gateway?: string }[] }; Options?: Record<string, string> }> };
}

/** The host-gateway address: the bridge network's gateway, or else the address of its Linux bridge interface. */
export async function hostGatewayAddress(docker: DockerNetworkApi): Promise<string> {
  const bridge = await docker.getNetwork('bridge').inspect();
  const gateway = bridge.IPAM?.Config?.find((config) => config.Gateway)?.Gateway;
  if (gateway) return gateway;
  const device = bridge.Options?.['com.docker.network.bridge.name'] ?? 'docker0';
  const address = os.networkInterfaces()[device]?.find((a) => a.family === 'IPv4')?.address;
  if (!address) throw new Error(`cannot tell Docker's host-gateway address: the bridge network names no gateway and ${device} has no IPv4 address`);
  return address;
}
