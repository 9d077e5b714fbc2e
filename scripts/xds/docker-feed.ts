// Feeds the control plane from Docker's event stream (dockerode), for one Compose project's replicas: the host-side
// source of truth under Compose. The control plane never gets the Docker socket inside a container; this runs on the
// host (`npm run xds`, or the lab's background control plane) and reads the engine's events:
//   start          → the replica is published once its gRPC port accepts connections (probed from the host every
//                    50 ms), so the push happens the moment it listens, not at Docker's next 2 s health check;
//   health_status  → HEALTHY or UNHEALTHY, as Docker's own health check says;
//   kill (SIGTERM) → DRAINING: `docker stop` sends SIGTERM first, and the replica must get no new call while it drains;
//   die            → removed.
import net from 'node:net';
import type { EndpointSink, ReplicaEndpoint } from './endpoints.js';

const LABEL_PROJECT = 'com.docker.compose.project';
const LABEL_SERVICE = 'com.docker.compose.service';
const LABEL_ONEOFF = 'com.docker.compose.oneoff';
const PROBE_EVERY_MS = 50;
const PROBE_LIMIT_MS = 30_000;

/** The container listing fields the feed reads; dockerode's ContainerInfo has them. */
interface ListedContainer {
  Id: string;
  Names: string[];
  State: string;
  Status: string;
  Labels: Record<string, string>;
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
}

/** The narrow slice of dockerode the feed uses. */
export interface DockerEventsApi {
  listContainers(options: { all?: boolean; filters: Record<string, string[]> }): Promise<ListedContainer[]>;
  getEvents(options: { filters: Record<string, string[]> }): Promise<NodeJS.ReadableStream>;
}

export class DockerEndpointFeed {
  private events: NodeJS.ReadableStream | undefined;
  private stopped = false;
  /** Containers by id → the name they are published under (or are being probed for). */
  private readonly known = new Map<string, string>();
  /** Containers told to stop: they stay DRAINING whatever Docker's health check says until they die. */
  private readonly draining = new Set<string>();

  constructor(
    private readonly docker: DockerEventsApi,
    private readonly sink: EndpointSink,
    private readonly options: { project: string; service: string; port: number; log?: (line: string) => void },
  ) {}

  /** Lists what runs now (the sink gets the whole set), then follows the event stream until stop(). */
  async start(): Promise<void> {
    const filters = { label: [`${LABEL_PROJECT}=${this.options.project}`, `${LABEL_SERVICE}=${this.options.service}`] };
    // Events first, then the listing: a container that starts in between is in one of the two, never in neither.
    this.events = await this.docker.getEvents({ filters: { ...filters, type: ['container'] } });
    let pending = '';
    this.events.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) void this.onEvent(JSON.parse(line) as DockerEvent);
    });
    this.events.on('error', (error: Error) => this.say(`Docker event stream failed: ${error.message}`));
    const running = await this.docker.listContainers({ filters });
    const endpoints: ReplicaEndpoint[] = [];
    for (const container of running.filter((c) => this.isReplica(c) && c.State === 'running')) {
      const endpoint = this.endpointOf(container, /\(unhealthy\)/.test(container.Status) ? 'UNHEALTHY' : 'HEALTHY');
      if (!endpoint) continue;
      this.known.set(container.Id, endpoint.name);
      endpoints.push(endpoint);
    }
    this.sink.replaceEndpoints(endpoints);
  }

  stop(): void {
    this.stopped = true;
    (this.events as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  }

  private async onEvent(event: DockerEvent): Promise<void> {
    const id = event.id ?? event.Actor?.ID;
    if (!id || this.stopped) return;
    const action = event.Action ?? event.status ?? '';
    if (action === 'start') return this.publishWhenListening(id);
    const name = this.known.get(id);
    if (name === undefined) return;
    if (action === 'die' || action === 'destroy') {
      this.known.delete(id);
      this.draining.delete(id);
      this.sink.removeEndpoint(name);
    } else if (action === 'kill' && event.Actor?.Attributes?.signal === '15') {
      this.draining.add(id);
      await this.update(id, 'DRAINING');
    } else if (action.startsWith('health_status: ') && !this.draining.has(id)) {
      await this.update(id, action.endsWith('unhealthy') ? 'UNHEALTHY' : 'HEALTHY');
    }
  }

  /** Re-reads one container and publishes it with `health` (it keeps its address while it drains). */
  private async update(id: string, health: ReplicaEndpoint['health']): Promise<void> {
    const [container] = await this.docker.listContainers({ all: true, filters: { id: [id] } });
    const endpoint = container && this.endpointOf(container, health);
    if (endpoint && this.known.has(id)) this.sink.setEndpoint(endpoint);
  }

  private async publishWhenListening(id: string): Promise<void> {
    const [container] = await this.docker.listContainers({ filters: { id: [id] } });
    if (!container || !this.isReplica(container)) return;
    const endpoint = this.endpointOf(container, 'HEALTHY');
    if (!endpoint) return;
    this.known.set(id, endpoint.name);
    const startedAt = performance.now();
    while (!this.stopped && this.known.get(id) === endpoint.name && performance.now() - startedAt < PROBE_LIMIT_MS) {
      if (await accepts(endpoint.address, endpoint.port)) {
        this.sink.setEndpoint(endpoint);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
    // Not reachable from this host (or slow): Docker's health check (health_status: healthy) will still publish it.
    if (this.known.get(id) === endpoint.name) this.say(`${endpoint.name} did not accept a connection in ${PROBE_LIMIT_MS / 1000} s; waiting for Docker's health check`);
  }

  private isReplica(container: ListedContainer): boolean {
    const labels = container.Labels;
    return labels[LABEL_PROJECT] === this.options.project && labels[LABEL_SERVICE] === this.options.service && labels[LABEL_ONEOFF] !== 'True';
  }

  private endpointOf(container: ListedContainer, health: ReplicaEndpoint['health']): ReplicaEndpoint | undefined {
    const networks = Object.entries(container.NetworkSettings.Networks);
    // The project's own network (<project>_default), where Envoy reaches the replicas.
    const address = (networks.find(([name]) => name.startsWith(`${this.options.project}_`)) ?? networks[0])?.[1].IPAddress;
    if (!address) return undefined;
    const name = container.Names[0]?.replace(/^\//, '') ?? container.Id.slice(0, 12);
    return { name, address, port: this.options.port, health };
  }

  private say(line: string): void {
    this.options.log?.(line);
  }
}

interface DockerEvent {
  id?: string;
  status?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** True when address:port accepts a TCP connection within 200 ms. */
function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, timeout: 200 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
