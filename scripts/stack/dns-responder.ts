import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';

const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

/**
 * A tiny authoritative DNS server on loopback that plays the part of Docker's embedded DNS: it answers one
 * service name with one A record per live replica, so Envoy's STRICT_DNS discovery runs for real without Docker.
 * Like Docker's, it answers NXDOMAIN when the service has no replica, and it knows no other name.
 */
export class DnsResponder {
  private readonly socket = dgram.createSocket('udp4');
  private addresses: string[] = [];
  private readonly serviceName: string;
  /** Number of queries answered, so a test can see that Envoy really asks. */
  queries = 0;

  constructor(serviceName: string) {
    this.serviceName = normalize(serviceName);
    this.socket.on('message', (message, peer) => this.answer(message, peer));
  }

  /** Binds the UDP socket (port 0 picks a free port) and resolves with the port it got. */
  async listen(host = '127.0.0.1', port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, host, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    return (this.socket.address() as AddressInfo).port;
  }

  /** Replaces the service's A records: from the next query on, these are the replicas Envoy discovers. */
  setAddresses(addresses: readonly string[]): void {
    this.addresses = [...addresses];
  }

  /** The A records currently served. */
  currentAddresses(): readonly string[] {
    return this.addresses;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private answer(message: Buffer, peer: dgram.RemoteInfo): void {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return; // Not DNS: drop it, as a resolver would.
    }
    this.queries += 1;
    const question = query.questions?.[0];
    const response: dnsPacket.Packet = {
      type: 'response',
      id: query.id ?? 0,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0),
      questions: query.questions ?? [],
      answers: [],
    };
    if (!question || normalize(question.name) !== this.serviceName) {
      response.flags = (response.flags ?? 0) | RCODE_NXDOMAIN;
    } else if (this.addresses.length === 0) {
      // Docker's DNS answers NXDOMAIN for a service with no running container; Envoy then drops every host.
      response.flags = (response.flags ?? 0) | RCODE_NXDOMAIN;
    } else if (question.type === 'A') {
      // TTL 1 s mirrors how quickly the set changes here; envoy.yaml ignores TTLs anyway (respect_dns_ttl: false).
      response.answers = this.addresses.map((address) => ({
        type: 'A' as const,
        name: question.name,
        ttl: 1,
        data: address,
      }));
    } else if (question.type !== 'AAAA') {
      response.flags = (response.flags ?? 0) | RCODE_NOTIMP;
    }
    // AAAA for a known name: NOERROR with no records (the replicas are IPv4 only), like Docker's DNS.
    this.socket.send(dnsPacket.encode(response), peer.port, peer.address);
  }
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
