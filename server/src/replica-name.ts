// Under Compose a container's host name is its id (3f2a9c1d7e0b), which matches nothing a user sees elsewhere.
// Docker's embedded DNS knows the container by its Compose name: a reverse lookup of the replica's own address
// answers "<project>-grpc-server-2.<network>". That first label is what `docker compose ps`, `lab ps`, the client's
// log and every reply then call this replica.
import { Resolver } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { checkReplicaName, type ReplicaNameSource } from './config.js';

/** The name this replica answers with, and how it was found (said once, in the start-up line). */
export interface ResolvedReplicaName {
  name: string;
  /** "REPLICA_NAME", "hostname", "reverse-dns 172.18.0.3", or why reverse DNS fell back to the host name. */
  from: string;
}

/** One reverse lookup: the PTR names of an IPv4 address (injectable for tests). */
export type ReverseLookup = (address: string) => Promise<string[]>;

// Docker's DNS answers at once; a resolver that does not answer within this is not Docker's.
const LOOKUP_TIMEOUT_MS = 1000;

/** Resolves where the name comes from into the name itself. Never fails: reverse DNS falls back, and says so. */
export async function resolveReplicaName(
  source: ReplicaNameSource,
  grpcHost: string,
  lookup: ReverseLookup = reverseLookup,
): Promise<ResolvedReplicaName> {
  if (source.from === 'env') return { name: source.name, from: 'REPLICA_NAME' };
  if (source.from === 'hostname') return { name: source.name, from: 'hostname' };
  const address = isIPv4(grpcHost) && grpcHost !== '0.0.0.0' ? grpcHost : ownAddress();
  if (address === undefined) return { name: source.fallback, from: 'hostname (reverse-dns: no IPv4 address of its own)' };
  try {
    const [first] = await lookup(address);
    // "grpc-envoy-lab-grpc-server-2.grpc-envoy-lab_default" names the container, then its network.
    const label = first?.split('.')[0];
    if (!label) return { name: source.fallback, from: `hostname (reverse-dns: no name for ${address})` };
    return { name: checkReplicaName(`the reverse-DNS name of ${address}`, label), from: `reverse-dns ${address}` };
  } catch (error) {
    const reason = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
    return { name: source.fallback, from: `hostname (reverse-dns of ${address} failed: ${reason})` };
  }
}

/** The first non-loopback IPv4 address of this machine (a container has exactly one per network). */
function ownAddress(): string | undefined {
  for (const entries of Object.values(networkInterfaces())) {
    const found = entries?.find((entry) => entry.family === 'IPv4' && !entry.internal);
    if (found) return found.address;
  }
  return undefined;
}

/** A PTR query for the address, asked of the system's resolver (Docker's 127.0.0.11 in a container). */
function reverseLookup(address: string): Promise<string[]> {
  const resolver = new Resolver({ timeout: LOOKUP_TIMEOUT_MS, tries: 2 });
  // resolvePtr of the in-addr.arpa name, not reverse(): Docker's names contain "_" (the network name), which
  // some resolver paths reject as an invalid host name.
  const arpa = `${address.split('.').reverse().join('.')}.in-addr.arpa`;
  return resolver.resolvePtr(arpa);
}
