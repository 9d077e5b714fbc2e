// The contenders as local processes beside the `npm start` replicas: Debian's nginx and HAProxy, and Envoy (the
// pinned binary) twice over, at L7 from envoy.yaml and at L4 from balancers/envoy-l4.yaml. Each config is the one in
// the repository, with the local changes only (scripts/scorecard/balancer-configs.ts and scripts/envoy). They find
// the replicas as Compose's would: HAProxy and Envoy ask the stack's DNS responder, nginx gets the addresses the
// name has when it starts (open-source nginx resolves it once), and every balancer listens on 127.0.0.1 only.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deriveLocalEnvoyConfig, listenerPort, LISTENER_NAME, requireEnvoy } from '../envoy/index.js';
import type { LocalDriver } from '../drivers/index.js';
import { freePort, ManagedProcess, pollUntil, PollAborted, type StackInfo } from '../stack/index.js';
import { CONFIG_FILES, deriveLocalHaproxyConfig, deriveLocalNginxConfig } from './balancer-configs.js';
import { findTool } from './local-tools.js';
import { processTreeCpuSeconds } from './process-cpu.js';
import type { BalancerKind, BalancerSite, RunningBalancer } from './site.js';
import { waitAccepting } from './tcp-ready.js';

const LOOPBACK = '127.0.0.1';
/** Lines of a balancer's output kept for the one line that says why it did not start. */
const KEPT_LINES = 20;

export class LocalBalancerSite implements BalancerSite {
  readonly kind = 'local' as const;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'grpc-envoy-lab-scorecard-'));
  private readonly running = new Set<RunningBalancer>();

  private constructor(
    private readonly driver: LocalDriver,
    private readonly binaries: Record<'nginx' | 'haproxy' | 'envoy', string>,
  ) {}

  /** Finds every program first, so a missing one fails the scorecard before it starts anything. */
  static async open(driver: LocalDriver): Promise<LocalBalancerSite> {
    const binaries = { nginx: findTool('nginx'), haproxy: findTool('haproxy'), envoy: (await requireEnvoy()).path };
    return new LocalBalancerSite(driver, binaries);
  }

  async start(balancer: BalancerKind): Promise<RunningBalancer> {
    const info = await this.driver.info();
    const dir = mkdtempSync(path.join(this.dir, `${balancer}-`));
    if (balancer === 'nginx') return this.nginx(info, dir);
    if (balancer === 'haproxy') return this.haproxy(info, dir);
    return this.envoy(balancer, info, dir);
  }

  async clientSideTarget(): Promise<{ target: string; how: string }> {
    const { dns, replicas } = await this.driver.info();
    return {
      target: `dns://${dns.address}:${dns.port}/${dns.name}:${replicaPort(replicas)}`,
      how: `grpc-js resolves ${dns.name} itself, asking the stack's DNS responder named in the target's authority`,
    };
  }

  async directTarget(): Promise<string> {
    const { replicas } = await this.driver.info();
    return `ipv4:${replicas.filter((r) => r.state === 'running').map((r) => `${r.address}:${r.port}`).join(',')}`;
  }

  async close(): Promise<void> {
    await Promise.all([...this.running].map((balancer) => balancer.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async nginx(info: StackInfo, dir: string): Promise<RunningBalancer> {
    const target = `${LOOPBACK}:${await freePort(LOOPBACK)}`;
    const replicas = info.replicas.filter((r) => r.state === 'running').map((r) => `${r.address}:${r.port}`);
    const config = path.join(dir, 'nginx.conf');
    writeFileSync(config, deriveLocalNginxConfig(readFileSync(CONFIG_FILES.nginx, 'utf8'), { listen: target, replicas, dir }));
    // -e stderr: nginx opens its default error log before it reads the config; -p: relative paths stay in `dir`.
    return this.serve(new BalancerProcess('nginx', this.binaries.nginx, ['-e', 'stderr', '-p', `${dir}/`, '-c', config], dir), target);
  }

  private async haproxy(info: StackInfo, dir: string): Promise<RunningBalancer> {
    const target = `${LOOPBACK}:${await freePort(LOOPBACK)}`;
    const config = path.join(dir, 'haproxy.cfg');
    const text = deriveLocalHaproxyConfig(readFileSync(CONFIG_FILES.haproxy, 'utf8'), {
      bind: target,
      dns: `${info.dns.address}:${info.dns.port}`,
      replicaPort: replicaPort(info.replicas),
    });
    writeFileSync(config, text);
    // -db: in the foreground, no daemon, so the lab owns the process.
    return this.serve(new BalancerProcess('haproxy', this.binaries.haproxy, ['-db', '-f', config], dir), target);
  }

  private async envoy(balancer: 'envoy-l7' | 'envoy-l4', info: StackInfo, dir: string): Promise<RunningBalancer> {
    const config = path.join(dir, 'envoy.yaml');
    const adminAddressPath = path.join(dir, 'admin-address');
    const base = readFileSync(CONFIG_FILES[balancer], 'utf8');
    writeFileSync(
      config,
      deriveLocalEnvoyConfig(base, {
        bindAddress: LOOPBACK,
        listenerPort: 0,
        adminPort: 0,
        upstreamPort: replicaPort(info.replicas),
        dnsAddress: info.dns.address,
        dnsPort: info.dns.port,
      }),
    );
    const args = [
      '--config-path', config,
      '--admin-address-path', adminAddressPath, // Learn the admin port: the config says 0.
      '--disable-hot-restart', // No shared memory: it never meets the lab's own Envoy or a test's.
      '--concurrency', '2', // Two workers, as nginx and HAProxy get two.
      '--log-level', 'warning',
    ];
    const envoy = new BalancerProcess(balancer, this.binaries.envoy, args, dir);
    try {
      const adminUrl = await pollUntil(
        `${balancer} to write its admin address`,
        () => {
          envoy.abortIfDead();
          try {
            const address = readFileSync(adminAddressPath, 'utf8').trim();
            return address === '' ? undefined : `http://${address}`;
          } catch {
            return undefined;
          }
        },
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      const port = await pollUntil(`${balancer}'s listener`, () => listenerPort(adminUrl, LISTENER_NAME), { timeoutMs: 20_000 });
      return { ...(await this.serve(envoy, `${LOOPBACK}:${port}`)), adminUrl };
    } catch (error) {
      await envoy.stop();
      throw error;
    }
  }

  /** Resolves once the process accepts connections on `target`; stops it if it never does. */
  private async serve(balancer: BalancerProcess, target: string): Promise<RunningBalancer> {
    try {
      await waitAccepting(balancer.name, target, () => balancer.deadReason());
    } catch (error) {
      await balancer.stop();
      throw error;
    }
    const running: RunningBalancer = {
      target,
      cpuSeconds: async () => balancer.cpuSeconds(),
      stop: async () => {
        this.running.delete(running);
        await balancer.stop();
      },
    };
    this.running.add(running);
    return running;
  }
}

/** One balancer process, with the last lines it printed for the one line that says why it stopped. */
class BalancerProcess {
  private readonly process: ManagedProcess;
  private readonly lines: string[] = [];

  constructor(
    readonly name: string,
    binary: string,
    args: string[],
    dir: string,
  ) {
    this.process = new ManagedProcess(binary, args, { cwd: dir, env: process.env });
    this.process.onLine((line) => {
      this.lines.push(line);
      if (this.lines.length > KEPT_LINES) this.lines.shift();
    });
  }

  /** Why it is no longer running (its last lines), or undefined while it runs. */
  deadReason(): string | undefined {
    return this.process.running ? undefined : this.lines.slice(-3).join(' | ') || 'no output';
  }

  /** Throws PollAborted once it has exited: waiting for it longer cannot help. */
  abortIfDead(): void {
    const reason = this.deadReason();
    if (reason !== undefined) throw new PollAborted(`${this.name} exited: ${reason}`);
  }

  cpuSeconds(): number {
    return this.process.pid === undefined ? 0 : processTreeCpuSeconds(this.process.pid);
  }

  async stop(): Promise<void> {
    await this.process.stop('SIGTERM', 3000);
  }
}

/** The one port every local replica listens on (each on its own address). */
function replicaPort(replicas: StackInfo['replicas']): number {
  const port = replicas[0]?.port;
  if (port === undefined) throw new Error('the local system runs no replica');
  return port;
}
