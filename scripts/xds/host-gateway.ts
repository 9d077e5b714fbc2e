// Where a control plane on the host is reachable from Compose containers: the address Docker's `host-gateway` maps
// host.docker.internal to (the default bridge's gateway, docker0's address). Envoy's container gets that name through
// `extra_hosts` in docker-compose.yml; the control plane binds there, not on 0.0.0.0, so only this machine and its
// containers can reach it.
import os from 'node:os';

/** The slice of dockerode this needs. */
export interface DockerNetworkApi {
  getNetwork(id: string): { inspect(): Promise<{ IPAM?: { Config?: { Gateway?: string; Subnet?: string }[] }; Options?: Record<string, string> }> };
}

/**
 * The host-gateway address, from what the engine says about its default bridge: its IPAM gateway when it names one;
 * else the bridge interface's address (Node lists only interfaces that are up, and docker0 is down while no container
 * uses the default bridge); else the first address of the bridge's subnet, which is where Docker puts the bridge.
 */
export async function hostGatewayAddress(docker: DockerNetworkApi): Promise<string> {
  const bridge = await docker.getNetwork('bridge').inspect();
  const gateway = bridge.IPAM?.Config?.find((config) => config.Gateway)?.Gateway;
  if (gateway) return gateway;
  const device = bridge.Options?.['com.docker.network.bridge.name'] ?? 'docker0';
  const address = os.networkInterfaces()[device]?.find((a) => a.family === 'IPv4')?.address;
  if (address) return address;
  const subnet = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/\d+$/.exec(bridge.IPAM?.Config?.find((config) => config.Subnet)?.Subnet ?? '');
  if (subnet) return `${subnet[1]}.${subnet[2]}.${subnet[3]}.${Number(subnet[4]) + 1}`;
  throw new Error(`cannot tell Docker's host-gateway address: the bridge network names no gateway or subnet (give --listen)`);
}
