// A real Prometheus beside the Docker-free system (`npm start -- --prometheus`): the shipped observability/prometheus/
// local.yml, copied into a work folder with the alert rules, scraping the replicas through a file-based target list
// that the stack rewrites on every scale, and Envoy's loopback admin.
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { alertRulesPath, localPrometheusConfigPath, writeTargetFile } from '../observability/index.js';
import { ManagedProcess } from './managed-process.js';
import { PollAborted, pollUntil } from './poll-until.js';

/** A replica Prometheus scrapes: its name (the `replica` label, also on `up`) and where GET /metrics answers. */
export interface ScrapedReplica {
  name: string;
  address: string;
  metricsPort: number;
}

/** What Prometheus scrapes: the replicas, and Envoy's admin as host:port. */
export interface ScrapeTargets {
  replicas: readonly ScrapedReplica[];
  envoyAdmin: string;
}

/** Where local.yml expects its target lists, relative to the config (Prometheus resolves them so). */
const REPLICA_TARGETS = path.join('targets', 'grpc-server.json');
const ENVOY_TARGETS = path.join('targets', 'envoy.json');

/** Copies the config and the rules into `dir`, writes both target lists, and returns the config's path. */
export function layOutLocalPrometheus(dir: string, targets: ScrapeTargets): string {
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'prometheus.yml');
  copyFileSync(localPrometheusConfigPath, config);
  copyFileSync(alertRulesPath, path.join(dir, 'alerts.yml'));
  writeReplicaTargets(dir, targets.replicas);
  writeTargetFile(path.join(dir, ENVOY_TARGETS), [{ targets: [targets.envoyAdmin], labels: {} }]);
  return config;
}

/** Rewrites the replicas' target list; Prometheus sees the file change and follows within a moment. */
export function writeReplicaTargets(dir: string, replicas: readonly ScrapedReplica[]): void {
  writeTargetFile(
    path.join(dir, REPLICA_TARGETS),
    replicas.map((r) => ({ targets: [`${r.address}:${r.metricsPort}`], labels: { replica: r.name } })),
  );
}

/** One Prometheus process, its data in `dir`, its UI and API on 127.0.0.1:`port`. */
export class LocalPrometheus {
  private process: ManagedProcess | undefined;

  constructor(
    private readonly binary: string,
    private readonly dir: string,
    readonly port: number,
    private readonly onLine?: (line: string) => void,
  ) {}

  /** http://127.0.0.1:<port>: the UI, and the HTTP API under /api/v1. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Lays out the folder, starts Prometheus, and resolves once it answers /-/ready. */
  async start(targets: ScrapeTargets): Promise<void> {
    const config = layOutLocalPrometheus(this.dir, targets);
    const prometheus = new ManagedProcess(
      this.binary,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(this.dir, 'data')}`,
        '--storage.tsdb.retention.time=6h', // A lab looks back minutes; the folder goes when the stack stops.
        `--web.listen-address=127.0.0.1:${this.port}`, // Loopback only, like Envoy's admin.
        '--log.level=warn', // Its start-up inventory would bury the lab's lines; warnings and errors still show.
      ],
      { cwd: this.dir, env: process.env },
    );
    this.process = prometheus;
    prometheus.onLine((line) => this.onLine?.(line));
    try {
      await pollUntil(
        'Prometheus to be ready',
        async () => {
          if (!prometheus.running) throw new PollAborted('Prometheus exited during start-up; see its log lines above');
          const response = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(1000) });
          return response.ok;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
    } catch (error) {
      await prometheus.stop('SIGKILL');
      throw error;
    }
  }

  /** Points Prometheus at these replicas from now on. */
  setReplicas(replicas: readonly ScrapedReplica[]): void {
    writeReplicaTargets(this.dir, replicas);
  }

  /** Stops Prometheus (SIGTERM: it closes its database; SIGKILL after 5 s). */
  async stop(): Promise<void> {
    await this.process?.stop('SIGTERM', 5000);
  }

  /** Last resort for exit handlers. */
  killNow(): void {
    this.process?.signal('SIGKILL');
  }
}
