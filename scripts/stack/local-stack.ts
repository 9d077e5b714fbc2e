import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { clusterHosts, listenerPort, serverInfo, type UpstreamHost, envoyYamlPath, projectRoot, CLUSTER_NAME, deriveLocalEnvoyConfig, LISTENER_NAME, serviceNameOf, derivePolicyConfig, normalizePolicyChoice, type PolicyChoice } from '../envoy/index.js';
import { DnsResponder } from './dns-responder.js';
import { ManagedProcess } from './managed-process.js';
import { PollAborted, pollUntil } from './poll-until.js';
import { freePort } from './free-port.js';
import { LocalPrometheus, type ScrapedReplica } from './local-prometheus.js';
import { COMPILED_SERVER_ENTRY, ensureCompiled } from './compiled-entries.js';
import { ControlClient, newControlToken } from '../../server/src/index.js';
import { deriveXdsEnvoyConfig } from '../envoy/index.js';
import { servedConfigFor, XdsControlPlane, type ControlPlaneStatus } from '../xds/index.js';

/** How Envoy finds the replicas: polling the DNS responder (STRICT_DNS, envoy.yaml as is) or pushed over xDS (EDS). */
export type Discovery = 'dns' | 'xds';
export const DISCOVERIES: readonly Discovery[] = ['dns', 'xds'];

/** How to run the Docker-free system. Ports of 0 mean "any free port" (what the tests use). */
export interface LocalStackOptions {
  envoyBinary: string;
  /** Replicas started by start(). */
  replicas: number;
  /** Envoy's gRPC listener and admin bind here: loopback only. */
  bindAddress?: string;
  listenerPort?: number;
  adminPort?: number;
  /** The one port every replica binds, each on its own loopback address (0: a free port). */
  replicaPort?: number;
  /** The control API port of each replica, on the replica's own address (0: any free port). */
  controlPort?: number;
  /** The metrics port of each replica (GET /metrics), on the replica's own address (0: any free port). */
  metricsPort?: number;
  /** Runs a real Prometheus (this binary) on 127.0.0.1:`port` (0: a free port) scraping the replicas and Envoy. */
  prometheus?: { binary: string; port: number };
  /** First three octets of the replicas' addresses: replica N gets <prefix>.<N+1>, as Docker hands out .2, .3, ... */
  replicaAddressPrefix?: string;
  /** Extra environment for every replica (e.g. DRAIN_DELAY_MS). */
  serverEnv?: Record<string, string>;
  envoyLogLevel?: 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical' | 'off';
  /** Envoy worker threads. Round robin is per worker; one client connection always lands on one worker. */
  envoyConcurrency?: number;
  /** Every line any process prints, with its source: "envoy", "grpc-server-2", ... */
  onLine?: (source: string, line: string) => void;
  /** Envoy's load-balancing policy at start (default ROUND_ROBIN, which is envoy.yaml as is); see setPolicy. */
  policy?: PolicyChoice;
  /** The system's secret for every control API (each replica's, and npm start's); default a fresh random one. */
  controlToken?: string;
  /** Told the pids of Envoy and every replica whenever they change (npm start keeps them in its state file). */
  onProcesses?: (pids: number[]) => void;
  /** How Envoy discovers the replicas at start (default dns, envoy.yaml as is); see setDiscovery. */
  discovery?: Discovery;
  /** Share of OK calls Envoy's access log keeps, 0 to 100 (failed and retried calls always); default envoy.yaml's 100. */
  accessLogOkPercent?: number;
}

/** What the stack knows of its Envoy: serving, or about to start again after it died; how often it died. */
export interface EnvoyStatus {
  state: 'running' | 'restarting';
  restarts: number;
  /** How the last unexpected exit ended (an exit code or a signal), if there was one. */
  lastExit?: string;
}

/** One greeter replica process and where it listens. */
export interface LocalReplica {
  /** Stable short name, as Compose names containers: grpc-server-1, grpc-server-2, ... */
  name: string;
  index: number;
  address: string;
  port: number;
  controlPort: number;
  /** Where its GET /metrics answers, on its address; 0 until it printed its listening line. */
  metricsPort: number;
  process: ManagedProcess;
  /** Stopped with SIGSTOP (a hung replica) and not yet resumed. */
  paused: boolean;
  /** When it printed its listening line (epoch ms); undefined until then. */
  readyAt?: number;
}

// Compiled JavaScript, as in the image (built on demand: see compiled-entries.ts).
const LISTENING = /listening.*grpc"?[=:]"?([\d.]+):(\d+).*control"?[=:]"?([\d.]+):(\d+).*metrics"?[=:]"?([\d.]+):(\d+)/;

/**
 * The Docker-free system: N greeter replica processes on their own loopback addresses, a DNS responder that
 * plays Docker's DNS for them, and a real Envoy with a config derived from envoy.yaml. `npm start` and the
 * integration tests both drive it, so what the tests prove is what users run.
 */
export class LocalStack {
  private readonly options: Required<Omit<LocalStackOptions, 'onLine' | 'serverEnv' | 'policy' | 'controlToken' | 'onProcesses' | 'prometheus' | 'discovery' | 'accessLogOkPercent'>> &
    Pick<LocalStackOptions, 'onLine' | 'serverEnv' | 'onProcesses' | 'prometheus' | 'accessLogOkPercent'>;
  private readonly workDir = mkdtempSync(path.join(tmpdir(), 'grpc-envoy-lab-'));
  private readonly live = new Map<number, LocalReplica>();
  private dns: DnsResponder | undefined;
  /** The Envoy serving now, and its hot-restart epoch (0 at start, +1 per policy switch). */
  private envoy: ManagedProcess | undefined;
  private envoyEpoch = 0;
  /** An earlier epoch still draining after a hot restart, until it exits by itself. */
  private drainingEnvoy: ManagedProcess | undefined;
  private envoyStatusValue: EnvoyStatus = { state: 'running', restarts: 0 };
  /** Wait before starting Envoy again after it died: doubles while it keeps dying, back to the minimum once it stays up. */
  private restartDelayMs = ENVOY_RESTART_MIN_MS;
  private stopping = false;
  private adminUrlValue: string | undefined;
  private listenerPortValue: number | undefined;
  private replicaPortValue: number | undefined;
  private dnsPort: number | undefined;
  private policy: PolicyChoice;
  private prometheus: LocalPrometheus | undefined;
  /**
   * What Prometheus is told to scrape: the replicas as the last start or scale left them. A replica killed or stopped
   * since stays listed, so its target shows as down, until the next scale rewrites the list.
   */
  private scraped: ScrapedReplica[] = [];
  /** Environment added to every replica after serverEnv, set by setReplicaEnv (e.g. MAX_CONNECTION_AGE_MS). */
  private replicaEnv: Record<string, string> = {};
  private discoveryValue: Discovery;
  /**
   * The xDS control plane, fed by this stack's own process events. It runs under either discovery, so proxyless
   * gRPC clients (xds:///grpc-server) can always use it; under `xds` Envoy takes its cluster and routes from it too.
   */
  private xds: XdsControlPlane;

  constructor(options: LocalStackOptions) {
    this.options = {
      bindAddress: '127.0.0.1',
      listenerPort: 0,
      adminPort: 0,
      replicaPort: 0,
      controlPort: 0,
      metricsPort: 0,
      replicaAddressPrefix: '127.0.0',
      envoyLogLevel: 'warning',
      envoyConcurrency: 2,
      ...options,
    };
    // Checked here, so a bad hash header fails before any process starts.
    this.policy = normalizePolicyChoice(options.policy ?? { policy: 'ROUND_ROBIN' });
    this.controlToken = options.controlToken ?? newControlToken();
    this.discoveryValue = options.discovery ?? 'dns';
    this.xds = new XdsControlPlane({ config: servedConfigFor(this.policy), log: (line) => this.options.onLine?.('xds', line) });
  }

  /** How Envoy discovers the replicas now. */
  get discovery(): Discovery {
    return this.discoveryValue;
  }

  /** host:port of the xDS control plane (ADS), for Envoy and for proxyless clients' bootstrap. */
  get xdsAddress(): string {
    const address = this.xds.address;
    if (!address) throw new Error('the stack is not started');
    return address;
  }

  /** The control plane's own view: connected nodes, versions ACKed and NACKed, responses pushed, its CPU time. */
  xdsStatus(): ControlPlaneStatus {
    return this.xds.status();
  }

  /** The control plane itself (the tests hand it a config Envoy must refuse, and wait on its ACKs). */
  get controlPlane(): XdsControlPlane {
    return this.xds;
  }

  /**
   * Stops the control plane for `downMs` and starts a new one on the same address, which knows only what a fresh
   * process would: the served config, and the replicas as this stack lists them again. Envoy and proxyless clients
   * keep their last good config while it is gone and reconnect by themselves.
   */
  async restartControlPlane(downMs: number): Promise<void> {
    const [host, port] = this.xdsAddress.split(':');
    const config = this.xds.currentConfig();
    await this.xds.stop();
    await delay(downMs);
    this.xds = new XdsControlPlane({ config, log: (line) => this.options.onLine?.('xds', line) });
    await this.xds.listen(host ?? this.options.bindAddress, Number(port));
    this.xds.replaceEndpoints(this.replicas().filter((r) => r.readyAt !== undefined && r.process.running).map((r) => this.endpointOf(r)));
  }

  /** The system's control secret: every replica's control API and npm start's own require it. */
  readonly controlToken: string;

  /** http://127.0.0.1:<port> of Envoy's admin API. */
  get adminUrl(): string {
    if (!this.adminUrlValue) throw new Error('the stack is not started');
    return this.adminUrlValue;
  }

  /** host:port of Envoy's gRPC listener, for clients. */
  get envoyTarget(): string {
    if (this.listenerPortValue === undefined) throw new Error('the stack is not started');
    return `${this.options.bindAddress}:${this.listenerPortValue}`;
  }

  /** http://127.0.0.1:<port> of the stack's Prometheus; undefined when it runs without one. */
  get prometheusUrl(): string | undefined {
    return this.prometheus?.url;
  }

  /**
   * Where the DNS responder that plays Docker's DNS answers the replicas' service name: what another balancer on
   * this machine (the scorecard's HAProxy or a second Envoy, a grpc-js dns:// target) asks to find the replicas.
   */
  get dnsServer(): { address: string; port: number; name: string } {
    if (this.dnsPort === undefined) throw new Error('the stack is not started');
    return { address: this.options.bindAddress, port: this.dnsPort, name: serviceNameOf(readFileSync(envoyYamlPath, 'utf8')) };
  }

  /** The environment setReplicaEnv added to every replica ({} = none). */
  currentReplicaEnv(): Record<string, string> {
    return { ...this.replicaEnv };
  }

  /**
   * Restarts every replica with `env` added to its environment ({} = as configured), all at once (nothing should be
   * calling them meanwhile), each under its own name and address. Resolves once Envoy sees every replica healthy
   * again; replicas a later scale starts get the same environment. When a replica does not start (a bad value) it
   * rejects, and puts the environment back for the replicas a later scale starts.
   */
  async setReplicaEnv(env: Record<string, string>): Promise<void> {
    const previous = this.replicaEnv;
    this.replicaEnv = { ...env };
    const replicas = this.replicas();
    try {
      await Promise.all(
        replicas.map(async (replica) => {
          if (replica.paused) replica.process.signal('SIGCONT');
          await stopAtOnce(replica.process);
          await this.startReplica(replica.index);
        }),
      );
      await this.waitForHealthy(replicas.length);
    } catch (error) {
      this.replicaEnv = previous;
      throw error;
    }
  }

  /** Live replicas, by number. */
  replicas(): LocalReplica[] {
    return [...this.live.values()].sort((a, b) => a.index - b.index);
  }

  /** The replica with this name; throws a one-line error naming the live ones when there is none. */
  replica(name: string): LocalReplica {
    const found = this.replicas().find((r) => r.name === name);
    if (!found) {
      const names = this.replicas().map((r) => r.name).join(', ') || 'none';
      throw new Error(`no replica named ${name} (live: ${names})`);
    }
    return found;
  }

  /** The fault-injection control API of one replica (health, error rate, latency). */
  control(name: string): ControlClient {
    const replica = this.replica(name);
    return new ControlClient(replica.address, replica.controlPort, this.controlToken);
  }

  /** "address:port" of a replica as Envoy's /clusters names it. */
  upstreamAddress(name: string): string {
    const replica = this.replica(name);
    return `${replica.address}:${replica.port}`;
  }

  /** Starts DNS, the replicas, then Envoy; resolves when Envoy's admin reports it is live (not yet that hosts are healthy). */
  async start(): Promise<void> {
    ensureCompiled((line) => this.say(line));
    const dnsName = serviceNameOf(readFileSync(envoyYamlPath, 'utf8'));
    this.dns = new DnsResponder(dnsName);
    this.dnsPort = await this.dns.listen(this.options.bindAddress, 0);
    this.replicaPortValue = this.options.replicaPort || (await freePort(this.options.bindAddress));
    await this.xds.listen(this.options.bindAddress, 0);
    await this.scale(this.options.replicas);
    const ports = { listener: this.options.listenerPort, admin: this.options.adminPort };
    this.envoy = await this.startEnvoy(this.envoyConfig(this.policy, ports, this.discoveryValue), 0);
    this.listenerPortValue = await listenerPort(this.adminUrl, LISTENER_NAME);
    this.superviseEnvoy(this.envoy);
    this.reportProcesses();
    if (this.options.prometheus) {
      const { binary, port } = this.options.prometheus;
      const prometheus = new LocalPrometheus(binary, path.join(this.workDir, 'prometheus'), port || (await freePort()), (line) =>
        this.options.onLine?.('prometheus', line),
      );
      await prometheus.start({ replicas: this.scraped, envoyAdmin: new URL(this.adminUrl).host });
      this.prometheus = prometheus;
    }
  }

  /** Envoy as the stack sees it: `lab ps` shows this, so a crash is never silent. */
  envoyStatus(): EnvoyStatus {
    return { ...this.envoyStatusValue };
  }

  /** The load-balancing policy Envoy runs (hash header filled in for RING_HASH and MAGLEV, dropped for the others). */
  currentPolicy(): PolicyChoice {
    return { ...this.policy };
  }

  /**
   * Switches Envoy to a config derived for `choice` by a hot restart: the next Envoy process (restart epoch + 1)
   * initialises on the new config while the current one keeps serving, then takes over the listening sockets and
   * the admin port; the old one drains its connections and exits. Clients keep their target and lose no call.
   * Resolves once the new Envoy is live, has health-checked every current replica and sees each one that was
   * healthy before healthy again (one a user made NOT_SERVING stays so), and the old one has exited. A config the
   * new Envoy rejects leaves the old one serving, and rejects with Envoy's reason.
   */
  async setPolicy(choice: PolicyChoice): Promise<void> {
    if (this.listenerPortValue === undefined || this.adminUrlValue === undefined) throw new Error('the stack is not started');
    const policy = normalizePolicyChoice(choice);
    const served = servedConfigFor(policy);
    if (this.discoveryValue === 'xds') {
      await this.pushPolicy(policy, served);
      return;
    }
    this.xds.setConfig(served); // Proxyless clients follow the policy too (those that can run it).
    await this.hotRestart(policy, this.discoveryValue);
  }

  /**
   * Switches how Envoy discovers the replicas, by a hot restart onto the config derived for it (no call lost): `dns`
   * is envoy.yaml's STRICT_DNS cluster, `xds` takes the cluster over CDS/EDS and the routes over RDS from the
   * control plane. Resolves once the new Envoy sees every healthy replica healthy again.
   */
  async setDiscovery(discovery: Discovery): Promise<void> {
    if (discovery === this.discoveryValue) return;
    await this.hotRestart(this.policy, discovery);
  }

  /** Under xDS a policy switch is a CDS and RDS push: Envoy warms the new cluster beside the old one, no restart. */
  private async pushPolicy(policy: PolicyChoice, served: ReturnType<typeof servedConfigFor>): Promise<void> {
    const passing = new Set((await this.hosts().catch(() => [])).filter((h) => h.healthy).map((h) => h.address));
    this.xds.setConfig(served);
    this.policy = policy;
    // Envoy's ACK of the new cluster and routes: a NACK (a config Envoy refuses) keeps its last good one, and says why.
    await this.xds.waitForEnvoyAck(15_000);
    await pollUntil(
      `Envoy (${policy.policy}) to health-check every replica again`,
      async () => {
        const hosts = await this.hosts();
        const checked = hosts.length === this.replicas().length && hosts.every((h) => !h.pendingActiveHealthCheck);
        return checked && hosts.every((h) => h.healthy || !passing.has(h.address)) ? hosts : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  }

  private async hotRestart(policy: PolicyChoice, discovery: Discovery): Promise<void> {
    if (this.listenerPortValue === undefined || this.adminUrlValue === undefined) throw new Error('the stack is not started');
    const ports = { listener: this.listenerPortValue, admin: Number(new URL(this.adminUrlValue).port) };
    // Derived before anything starts: a choice or a base config that cannot be derived leaves Envoy alone.
    const config = this.envoyConfig(policy, ports, discovery);
    // Health is each Envoy process's own memory; what passed its checks before must pass the new one's.
    const passing = new Set((await this.hosts().catch(() => [])).filter((h) => h.healthy).map((h) => h.address));
    const previous = this.envoy;
    const next = await this.startEnvoy(config, this.envoyEpoch + 1);
    this.drainingEnvoy = previous;
    this.envoy = next;
    this.superviseEnvoy(next);
    this.envoyEpoch += 1;
    this.policy = policy;
    this.discoveryValue = discovery;
    await pollUntil(
      `Envoy (${policy.policy}, ${discovery}) to health-check every replica again`,
      async () => {
        const hosts = await this.hosts();
        const checked = hosts.length === this.replicas().length && hosts.every((h) => !h.pendingActiveHealthCheck);
        return checked && hosts.every((h) => h.healthy || !passing.has(h.address)) ? hosts : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    // The old epoch exits on its own once drained (parent-shutdown-time 4 s); a second switch must not overlap it.
    if (previous) {
      await Promise.race([previous.exited, delay(ENVOY_PARENT_SHUTDOWN_S * 1000 + 3000)]);
      await previous.stop('SIGKILL'); // Only if it outstayed its shutdown time; a no-op once it has exited.
    }
    this.drainingEnvoy = undefined;
    this.reportProcesses();
  }

  /** Resolves once Envoy sees exactly `count` hosts and all of them healthy. */
  async waitForHealthy(count: number, timeoutMs = 15_000): Promise<UpstreamHost[]> {
    return pollUntil(
      `Envoy to see ${count} healthy replicas`,
      async () => {
        const hosts = await clusterHosts(this.adminUrl, CLUSTER_NAME);
        return hosts.length === count && hosts.every((h) => h.healthy) ? hosts : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Envoy's current view of the greeter cluster. */
  hosts(): Promise<UpstreamHost[]> {
    return clusterHosts(this.adminUrl, CLUSTER_NAME);
  }

  /**
   * Sets the number of replicas, like `docker compose up --scale`: new ones get the lowest free numbers and
   * join DNS as soon as they start; surplus ones (highest numbers first) stop gracefully with SIGTERM.
   */
  async scale(count: number): Promise<void> {
    const current = this.replicas();
    if (count > current.length) {
      const starting: Promise<LocalReplica>[] = [];
      for (let index = 1; starting.length < count - current.length; index += 1) {
        if (!this.live.has(index)) starting.push(this.startReplica(index));
      }
      await Promise.all(starting);
    } else {
      await Promise.all(current.slice(count).map((replica) => this.stopReplica(replica.name, 'SIGTERM')));
    }
    this.scraped = this.replicas().map(({ name, address, metricsPort }) => ({ name, address, metricsPort }));
    this.prometheus?.setReplicas(this.scraped);
  }

  /** Sends a signal to one replica; with SIGKILL or SIGTERM it also waits until the process is gone. */
  async signalReplica(name: string, signal: NodeJS.Signals, graceMs = 15_000): Promise<number | NodeJS.Signals> {
    const replica = this.replica(name);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') {
      // A paused process cannot drain: resume it first so SIGTERM means a graceful stop.
      if (replica.paused) replica.process.signal('SIGCONT');
      replica.paused = false;
      return this.stopReplica(name, signal, graceMs);
    }
    replica.process.signal(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') replica.paused = signal === 'SIGSTOP';
    return 0;
  }

  /** Stops every process and the DNS responder. Safe to call more than once. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([
      this.xds.stop(),
      this.prometheus?.stop(),
      this.envoy?.stop('SIGTERM', 3000),
      this.drainingEnvoy?.stop('SIGTERM', 3000),
      ...this.replicas().map((replica) => stopAtOnce(replica.process)),
    ]);
    this.live.clear();
    await this.dns?.close().catch(() => undefined);
    this.dns = undefined;
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** Last resort for exit handlers: SIGKILL every process at once, synchronously. */
  killNow(): void {
    this.stopping = true;
    this.prometheus?.killNow();
    this.envoy?.signal('SIGKILL');
    this.drainingEnvoy?.signal('SIGKILL');
    void this.xds.stop();
    for (const replica of this.live.values()) replica.process.signal('SIGKILL');
    // Synchronous, for exit handlers: a second Ctrl-C must not leave the work folder behind either.
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /**
   * Starts Envoy again, on the same ports and policy, whenever `envoy` exits while it is the one serving (not one
   * a hot restart replaced, not during stop): a crash is said at once, and calls come back without a user's help.
   */
  private superviseEnvoy(envoy: ManagedProcess): void {
    const startedAt = performance.now();
    void envoy.exited.then(async (code) => {
      if (this.stopping || this.envoy !== envoy) return;
      if (performance.now() - startedAt > ENVOY_STAYED_UP_MS) this.restartDelayMs = ENVOY_RESTART_MIN_MS;
      const wait = this.restartDelayMs;
      this.restartDelayMs = Math.min(wait * 2, ENVOY_RESTART_MAX_MS);
      this.envoyStatusValue = { state: 'restarting', restarts: this.envoyStatusValue.restarts + 1, lastExit: String(code) };
      this.say(`Envoy exited unexpectedly (${code}); starting it again in ${wait} ms`);
      await delay(wait);
      if (this.stopping || this.envoy !== envoy || this.listenerPortValue === undefined || this.adminUrlValue === undefined) return;
      const ports = { listener: this.listenerPortValue, admin: Number(new URL(this.adminUrlValue).port) };
      try {
        const restarted = await this.startEnvoy(this.envoyConfig(this.policy, ports, this.discoveryValue), 0);
        this.envoy = restarted;
        this.envoyEpoch = 0;
        this.envoyStatusValue = { ...this.envoyStatusValue, state: 'running' };
        this.superviseEnvoy(restarted);
        this.reportProcesses();
        this.say(`Envoy is back (restart ${this.envoyStatusValue.restarts}), on the same ports`);
      } catch (error) {
        this.say(`Envoy did not start again: ${error instanceof Error ? error.message : String(error)}; trying again`);
        // Try once more after the next, longer wait: supervise the dead one again to reuse the same path.
        this.superviseEnvoy(envoy);
      }
    });
  }

  private say(line: string): void {
    this.options.onLine?.('stack', line);
  }

  private async stopReplica(name: string, signal: NodeJS.Signals, graceMs = 15_000): Promise<number | NodeJS.Signals> {
    const replica = this.replica(name);
    // Pushed before the signal: under xDS Envoy and proxyless clients stop routing to it before it starts to drain.
    if (signal === 'SIGTERM' && replica.readyAt !== undefined) this.xds.setEndpoint({ ...this.endpointOf(replica), health: 'DRAINING' });
    return replica.process.stop(signal, graceMs);
  }

  private publishDns(): void {
    this.dns?.setAddresses(this.replicas().map((r) => r.address));
    this.reportProcesses();
  }

  /** Every process of the system now: Envoy (and one still draining) and the replicas. */
  pids(): number[] {
    const all = [this.envoy, this.drainingEnvoy, ...this.replicas().map((r) => r.process)];
    return all.flatMap((p) => (p?.running && p.pid !== undefined ? [p.pid] : []));
  }

  private reportProcesses(): void {
    this.options.onProcesses?.(this.pids());
  }

  private async startReplica(index: number): Promise<LocalReplica> {
    const name = `grpc-server-${index}`;
    const address = `${this.options.replicaAddressPrefix}.${index + 1}`;
    const port = this.replicaPortValue ?? 0;
    const child = new ManagedProcess(process.execPath, ['--enable-source-maps', COMPILED_SERVER_ENTRY], {
      cwd: projectRoot,
      env: {
        ...process.env,
        LOG_FORMAT: 'text',
        ...this.options.serverEnv,
        ...this.replicaEnv,
        GRPC_HOST: address,
        GRPC_PORT: String(port),
        CONTROL_HOST: address,
        CONTROL_PORT: String(this.options.controlPort),
        CONTROL_TOKEN: this.controlToken,
        METRICS_PORT: String(this.options.metricsPort),
        REPLICA_NAME: name,
      },
      dieWithParent: true, // A killed supervisor leaves no replica behind on its address.
    });
    child.onLine((line) => this.options.onLine?.(name, line));
    const listening = child.waitForLine(LISTENING, 20_000);
    const replica: LocalReplica = { name, index, address, port, controlPort: 0, metricsPort: 0, process: child, paused: false };
    // Like Docker's DNS, the address is served from the moment the replica runs, before it listens:
    // Envoy's health check, not DNS, decides when it gets traffic.
    this.live.set(index, replica);
    this.publishDns();
    void child.exited.then(() => {
      if (this.live.get(index) === replica) this.live.delete(index);
      this.publishDns();
      if (!this.live.has(index)) this.xds.removeEndpoint(name);
    });
    const match = await listening;
    replica.readyAt = Date.now();
    replica.controlPort = Number(match[4]);
    replica.metricsPort = Number(match[6]);
    // Unlike DNS, the control plane publishes a replica the moment it listens: that is the push.
    if (child.running) this.xds.setEndpoint(this.endpointOf(replica));
    return replica;
  }

  private endpointOf(replica: LocalReplica): { name: string; address: string; port: number; health: 'HEALTHY' } {
    return { name: replica.name, address: replica.address, port: replica.port, health: 'HEALTHY' };
  }

  /**
   * Envoy's local config for a policy and a discovery: the policy is derived first, then the local overrides, then
   * (xds) the cluster and routes are handed to the control plane.
   */
  private envoyConfig(policy: PolicyChoice, ports: { listener: number; admin: number }, discovery: Discovery): string {
    const local = this.localEnvoyConfig(policy, ports);
    if (discovery === 'dns') return local;
    const [address, port] = this.xdsAddress.split(':');
    return deriveXdsEnvoyConfig(local, { controlPlaneAddress: address ?? '', controlPlanePort: Number(port), nodeId: 'envoy-local' });
  }

  private localEnvoyConfig(policy: PolicyChoice, ports: { listener: number; admin: number }): string {
    return deriveLocalEnvoyConfig(derivePolicyConfig(readFileSync(envoyYamlPath, 'utf8'), policy), {
      bindAddress: this.options.bindAddress,
      listenerPort: ports.listener,
      adminPort: ports.admin,
      upstreamPort: this.replicaPortValue ?? 0,
      dnsAddress: this.options.bindAddress,
      dnsPort: this.dnsPort ?? 0,
      ...(this.options.accessLogOkPercent === undefined ? {} : { accessLogOkPercent: this.options.accessLogOkPercent }),
    });
  }

  /**
   * Starts Envoy's restart epoch `epoch` on `config` and resolves once it is LIVE on the admin URL. Epoch 0 picks a
   * free shared-memory base id (so parallel stacks never clash); later epochs use it to find their parent.
   */
  private async startEnvoy(config: string, epoch: number): Promise<ManagedProcess> {
    const configPath = path.join(this.workDir, `envoy.${epoch}.yaml`);
    const adminAddressPath = path.join(this.workDir, `admin-address.${epoch}`);
    const baseIdPath = path.join(this.workDir, 'base-id');
    writeFileSync(configPath, config);
    const baseId = epoch === 0 ? ['--use-dynamic-base-id', '--base-id-path', baseIdPath] : ['--base-id', readFileSync(baseIdPath, 'utf8').trim()];
    const envoy = new ManagedProcess(
      this.options.envoyBinary,
      [
        '--config-path', configPath,
        '--admin-address-path', adminAddressPath, // Learn the admin port even when the config says 0.
        '--restart-epoch', String(epoch), // Hot restart: a policy switch starts the next epoch beside this one.
        ...baseId,
        '--drain-time-s', '2', // After a hot restart the old epoch spreads GOAWAY over its connections for 2 s...
        '--parent-shutdown-time-s', String(ENVOY_PARENT_SHUTDOWN_S), // ...and exits, drained, after 4 s.
        '--concurrency', String(this.options.envoyConcurrency),
        '--log-level', this.options.envoyLogLevel,
        '--file-flush-interval-msec', '1000', // Access-log lines show up within a second, not every 10 s.
      ],
      { cwd: this.workDir, env: process.env, dieWithParent: true },
    );
    envoy.onLine((line) => this.options.onLine?.('envoy', line));
    const exitedEarly = (): void => {
      if (!envoy.running) throw new PollAborted(`Envoy (restart epoch ${epoch}) exited during start-up; see its log lines above`);
    };
    try {
      const adminAddress = await pollUntil(
        'Envoy to write its admin address',
        () => {
          exitedEarly();
          try {
            return readFileSync(adminAddressPath, 'utf8').trim() || undefined;
          } catch {
            return undefined;
          }
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );
      this.adminUrlValue = `http://${adminAddress}`;
      await pollUntil(
        `Envoy restart epoch ${epoch} to be LIVE`,
        async () => {
          exitedEarly();
          const info = await serverInfo(this.adminUrl, 1000);
          return info.restartEpoch === epoch && info.state === 'LIVE';
        },
        { timeoutMs: 15_000, intervalMs: 50 },
      );
    } catch (error) {
      await envoy.stop('SIGKILL');
      throw error;
    }
    return envoy;
  }
}

/** The most replicas the kit starts on one machine, for `npm start`, `lab up` and `lab scale` alike. */
export const MAX_REPLICAS = 50;

/** Envoy's restart after a crash: the first wait, the longest, and how long it must stay up to reset the wait. */
const ENVOY_RESTART_MIN_MS = 250;
const ENVOY_RESTART_MAX_MS = 8000;
const ENVOY_STAYED_UP_MS = 10_000;

/** After a hot restart, the old Envoy exits this long after the new one is ready. */
const ENVOY_PARENT_SHUTDOWN_S = 4;

/**
 * Stops a replica without its drain: when the whole system goes away, Envoy included, there is nobody to drain
 * for. The server's contract: a first SIGTERM starts the drain, a second one shuts down at once.
 */
async function stopAtOnce(replica: ManagedProcess): Promise<void> {
  replica.signal('SIGTERM');
  await Promise.race([replica.exited, new Promise((resolve) => setTimeout(resolve, 100))]);
  await replica.stop('SIGTERM', 3000);
}
