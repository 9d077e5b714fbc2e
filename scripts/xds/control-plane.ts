// A small xDS control plane: the Aggregated Discovery Service (ADS) over @grpc/grpc-js, state-of-the-world protocol.
// It serves CDS and EDS to Envoy (its listener stays static; its routes come over RDS so a policy switch needs no
// restart) and LDS, RDS, CDS and EDS to proxyless gRPC clients. Each resource set has a version that is the hash of
// what it holds, so an unchanged set is never pushed twice and a restarted control plane hands a reconnecting client
// the very version it already runs. Every stream keeps its own state: the node, what it subscribed to, the last
// version and nonce sent per type, the last ACKed version, and the last NACK with the client's reason.
import { createHash } from 'node:crypto';
import { Server, ServerCredentials, status, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { decodeMessage, encodeJson, messageType } from './envoy-api.js';
import type { ReplicaEndpoint, EndpointSink } from './endpoints.js';
import { MESSAGE_OF, resourcesFor, TYPE, type ClientKind, type Json, type ServedConfig, type TypeUrl } from './resources.js';

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const REQUEST = 'envoy.service.discovery.v3.DiscoveryRequest';
const RESPONSE = 'envoy.service.discovery.v3.DiscoveryResponse';
const KNOWN_TYPES = new Set<string>(Object.values(TYPE));

/** One client's view of one resource type, as this control plane last knew it. */
export interface TypeState {
  /** Resource names subscribed to; [] = all (a wildcard CDS or LDS request). */
  names: string[];
  sentVersion?: string;
  sentNonce?: string;
  ackedVersion?: string;
  /** The last version the client refused, and why (its error_detail). */
  nack?: { version: string; message: string; at: number };
  /**
   * Answer the next request even if nothing changed: a cluster (or listener) just sent is warming in Envoy and asks
   * for its endpoints (routes) again under the same names; it waits for that answer before it serves.
   */
  resend?: boolean;
}

/** One connected client (an ADS stream). */
export interface NodeState {
  stream: number;
  id: string;
  cluster: string;
  kind: ClientKind;
  userAgent: string;
  connectedAt: number;
  types: Partial<Record<TypeUrl, TypeState>>;
}

/** What the control plane reports about itself: /status of `npm run xds`, the experiment's figures. */
export interface ControlPlaneStatus {
  address: string | undefined;
  endpoints: ReplicaEndpoint[];
  nodes: NodeState[];
  /** Responses sent, and how many of them were pushed by a change (not asked for by a request). */
  responses: number;
  pushes: number;
  acks: number;
  nacks: number;
  /** CPU time of the whole process hosting it (user + system, ms) since the control plane started. */
  cpuMs: number;
  /**
   * Time the control plane itself was busy (ms): handling requests and rendering, encoding and writing pushes. Its own
   * cost, apart from whatever else shares its process (the local stack runs it in `npm start`'s).
   */
  busyMs: number;
}

export interface ControlPlaneOptions {
  config: ServedConfig;
  /** One line per event: a client connected, ACKed, NACKed, a push. */
  log?: (line: string) => void;
}

interface Stream {
  state: NodeState;
  call: ServerDuplexStream<Json, Uint8Array>;
  nonce: number;
}

export class XdsControlPlane implements EndpointSink {
  private config: ServedConfig;
  private readonly endpoints = new Map<string, ReplicaEndpoint>();
  private readonly streams = new Set<Stream>();
  private server: Server | undefined;
  private addressValue: string | undefined;
  private streamCount = 0;
  private readonly counts = { responses: 0, pushes: 0, acks: 0, nacks: 0, busyMs: 0 };
  private readonly cpuAtStart = process.cpuUsage();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: ControlPlaneOptions) {
    this.config = options.config;
    // Fails here, not on the first client, when a served resource cannot be encoded.
    for (const type of Object.values(TYPE)) this.render(type, [], 'envoy');
  }

  /** host:port it listens on, once listening. */
  get address(): string | undefined {
    return this.addressValue;
  }

  /** Starts serving ADS on host:port (port 0: any free one); resolves with the port. */
  async listen(host: string, port: number): Promise<number> {
    const server = new Server({ 'grpc.keepalive_permit_without_calls': 1 });
    const definition: ServiceDefinition = {
      StreamAggregatedResources: {
        path: ADS_PATH,
        requestStream: true,
        responseStream: true,
        requestSerialize: (message: Json) => Buffer.from(encodeJson(REQUEST, message)),
        requestDeserialize: (bytes: Buffer) => decodeMessage(REQUEST, bytes),
        responseSerialize: (bytes: Uint8Array) => Buffer.from(bytes),
        responseDeserialize: (bytes: Buffer) => bytes,
        originalName: 'streamAggregatedResources',
      },
    };
    server.addService(definition, { StreamAggregatedResources: (call: ServerDuplexStream<Json, Uint8Array>) => this.serve(call) });
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, ServerCredentials.createInsecure(), (error, actual) =>
        error ? reject(error) : resolve(actual),
      ),
    );
    this.server = server;
    this.addressValue = `${host}:${bound}`;
    this.say(`listening on ${this.addressValue} (ADS: CDS, EDS, RDS, LDS)`);
    return bound;
  }

  /** Ends every stream and stops listening at once (clients keep their last config and reconnect). */
  async stop(): Promise<void> {
    for (const stream of this.streams) stream.call.destroy();
    this.streams.clear();
    this.server?.forceShutdown();
    this.server = undefined;
    this.wake();
  }

  // EndpointSink: the platform's feeds call these.
  setEndpoint(endpoint: ReplicaEndpoint): void {
    this.endpoints.set(endpoint.name, { ...endpoint });
    this.say(`endpoint ${endpoint.name} ${endpoint.address}:${endpoint.port} ${endpoint.health}`);
    this.pushAll([TYPE.endpoint]);
  }

  removeEndpoint(name: string): void {
    if (!this.endpoints.delete(name)) return;
    this.say(`endpoint ${name} removed`);
    this.pushAll([TYPE.endpoint]);
  }

  replaceEndpoints(endpoints: readonly ReplicaEndpoint[]): void {
    this.endpoints.clear();
    for (const endpoint of endpoints) this.endpoints.set(endpoint.name, { ...endpoint });
    this.say(`endpoints: ${endpoints.map((e) => `${e.name} ${e.health}`).join(', ') || 'none'}`);
    this.pushAll([TYPE.endpoint]);
  }

  /** The cluster and routes to serve from now on (a policy switch): CDS and RDS are pushed, no client restarts. */
  setConfig(config: ServedConfig): void {
    const previous = this.config;
    this.config = config;
    try {
      for (const type of Object.values(TYPE)) this.render(type, [], 'envoy');
    } catch (error) {
      this.config = previous; // Nothing that cannot be encoded is ever half-served.
      throw error;
    }
    this.pushAll([TYPE.cluster, TYPE.route, TYPE.listener, TYPE.endpoint]);
  }

  currentConfig(): ServedConfig {
    return this.config;
  }

  status(): ControlPlaneStatus {
    const cpu = process.cpuUsage(this.cpuAtStart);
    return {
      address: this.addressValue,
      endpoints: this.currentEndpoints(),
      nodes: [...this.streams].map((s) => structuredClone(s.state)),
      ...this.counts,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  }

  currentEndpoints(): ReplicaEndpoint[] {
    return [...this.endpoints.values()].map((e) => ({ ...e }));
  }

  /** Resolves once `check` holds for the status (checked on every ACK, NACK and connection), or rejects after timeoutMs. */
  async waitFor<T>(what: string, check: (status: ControlPlaneStatus) => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const answer = check(this.status());
      if (answer !== undefined) return answer;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Resolves once every connected Envoy has ACKed the cluster and routes it was last sent; rejects at once with the
   * reason when one NACKed them (it keeps serving its last good config), or after timeoutMs.
   */
  waitForEnvoyAck(timeoutMs: number): Promise<true> {
    return this.waitFor(
      'Envoy to ACK the cluster and routes',
      (status) => {
        const envoys = status.nodes.filter((n) => n.kind === 'envoy');
        if (envoys.length === 0) return true; // No Envoy connected: the next one to connect gets the new config first.
        const states = envoys.flatMap((n) => [n.types[TYPE.cluster], n.types[TYPE.route]]);
        const refused = states.find((s) => s?.nack && s.nack.version === s.sentVersion);
        if (refused?.nack) throw new Error(`Envoy refused the config (NACK): ${refused.nack.message}`);
        const acked = states.every((s) => s?.sentVersion !== undefined && s.ackedVersion === s.sentVersion);
        return acked ? true : undefined;
      },
      timeoutMs,
    );
  }

  private serve(call: ServerDuplexStream<Json, Uint8Array>): void {
    this.streamCount += 1;
    const stream: Stream = {
      call,
      nonce: 0,
      state: { stream: this.streamCount, id: '', cluster: '', kind: 'envoy', userAgent: '', connectedAt: Date.now(), types: {} },
    };
    this.streams.add(stream);
    const end = (why: string): void => {
      if (!this.streams.delete(stream)) return;
      this.say(`node ${stream.state.id || '?'} (stream ${stream.state.stream}) disconnected: ${why}`);
      this.wake();
    };
    call.on('data', (request: Json) => {
      const started = performance.now();
      try {
        this.onRequest(stream, request);
      } catch (error) {
        this.say(`stream ${stream.state.stream}: ${error instanceof Error ? error.message : String(error)}`);
        call.emit('error', { code: status.INTERNAL, details: String(error) });
      } finally {
        this.counts.busyMs += performance.now() - started;
      }
    });
    call.on('end', () => {
      end('stream closed');
      call.end();
    });
    call.on('error', (error: Error) => end(error.message));
    call.on('cancelled', () => end('cancelled'));
  }

  private onRequest(stream: Stream, request: Json): void {
    const state = stream.state;
    const node = request.node as Json | undefined;
    if (node && state.id === '') {
      // Only the first request of a stream must carry the node; it names the client for the rest of the stream.
      state.id = String(node.id ?? '');
      state.cluster = String(node.cluster ?? '');
      state.userAgent = `${node.user_agent_name ?? '?'} ${node.user_agent_version ?? ''}`.trim();
      state.kind = node.user_agent_name === 'envoy' ? 'envoy' : 'grpc';
      this.say(`node ${state.id} (${state.userAgent}, stream ${state.stream}) connected`);
    }
    const type = String(request.type_url ?? '') as TypeUrl;
    if (!KNOWN_TYPES.has(type)) {
      this.say(`node ${state.id}: ignored a request for ${type || 'no type'} (serves ${[...KNOWN_TYPES].join(', ')})`);
      return;
    }
    const typeState = (state.types[type] ??= { names: [] });
    const nonce = request.response_nonce as string | undefined;
    if (nonce) {
      // A reply to an older response: the client has not seen the latest one yet, which will answer for itself.
      if (nonce !== typeState.sentNonce) return;
      const error = request.error_detail as Json | undefined;
      if (error) {
        this.counts.nacks += 1;
        typeState.nack = { version: typeState.sentVersion ?? '', message: String(error.message ?? ''), at: Date.now() };
        // Envoy's reason quotes the whole refused resource over many lines; the log keeps its last line, the verdict.
        const verdict = typeState.nack.message.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
        this.say(`node ${state.id} NACKed ${shortType(type)} version ${typeState.sentVersion}: ${verdict}`);
      } else {
        this.counts.acks += 1;
        typeState.ackedVersion = String(request.version_info ?? '');
        this.say(`node ${state.id} ACKed ${shortType(type)} version ${typeState.ackedVersion}`);
      }
      this.wake();
    }
    const names = ((request.resource_names as string[] | undefined) ?? []).slice().sort();
    const resubscribed = names.join('\n') !== typeState.names.join('\n');
    typeState.names = names;
    const resend = typeState.resend === true;
    typeState.resend = false;
    // A first request on a stream is always answered (a reconnecting client waits for it); later ones only when
    // the subscription changed or a warming cluster asks again. A NACK is not answered with the refused version.
    this.send(stream, type, !nonce || resubscribed || resend, false);
  }

  /** Sends `type` to every stream subscribed to it whose rendered version differs from what it was last sent. */
  private pushAll(types: TypeUrl[]): void {
    const started = performance.now();
    for (const stream of this.streams) {
      for (const type of types) if (stream.state.types[type]) this.send(stream, type, false, true);
    }
    this.counts.busyMs += performance.now() - started;
    this.wake();
  }

  private send(stream: Stream, type: TypeUrl, always: boolean, push: boolean): void {
    const typeState = stream.state.types[type];
    if (!typeState) return;
    const { version, resources } = this.render(type, typeState.names, stream.state.kind);
    if (!always && version === typeState.sentVersion) return;
    stream.nonce += 1;
    const nonce = String(stream.nonce);
    const response = messageType(RESPONSE);
    const bytes = response
      .encode(response.fromObject({ version_info: version, type_url: type, nonce, resources: resources.map((value) => ({ type_url: type, value })) }))
      .finish();
    typeState.sentVersion = version;
    typeState.sentNonce = nonce;
    this.counts.responses += 1;
    if (push) this.counts.pushes += 1;
    stream.call.write(bytes);
    // What a new cluster or listener warms on must be answered again, even unchanged (see TypeState.resend).
    const dependent = type === TYPE.cluster ? TYPE.endpoint : type === TYPE.listener ? TYPE.route : undefined;
    const dependentState = dependent && stream.state.types[dependent];
    if (dependentState) dependentState.resend = true;
    this.say(`${push ? 'pushed' : 'sent'} ${shortType(type)} version ${version} (${resources.length} resource${resources.length === 1 ? '' : 's'}) to ${stream.state.id}`);
  }

  /** The encoded resources of one type for one subscription, and their version: a hash of exactly those bytes. */
  private render(type: TypeUrl, names: string[], kind: ClientKind): { version: string; resources: Uint8Array[] } {
    const all = resourcesFor(type, this.config, this.currentEndpoints(), kind);
    const wanted = names.length === 0 ? [...all.keys()] : names.filter((name) => all.has(name));
    const resources = wanted.sort().map((name) => encodeJson(MESSAGE_OF[type], all.get(name) as Json));
    const hash = createHash('sha256');
    for (const resource of resources) hash.update(resource);
    return { version: hash.digest('hex').slice(0, 12), resources };
  }

  private say(line: string): void {
    this.options.log?.(line);
  }

  private wake(): void {
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
  }
}

function shortType(type: string): string {
  return { [TYPE.listener]: 'LDS', [TYPE.route]: 'RDS', [TYPE.cluster]: 'CDS', [TYPE.endpoint]: 'EDS' }[type] ?? type;
}
