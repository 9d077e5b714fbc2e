// One real Compose system per test file, on the Docker engine the run found: its own project name and free host
// ports, so it never meets a user's system or another run's, and `down` in teardown removes every container,
// network and image tag it made.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { projectRoot } from '../../scripts/envoy/paths.js';
import { clusterHosts, type UpstreamHost } from '../../scripts/envoy/admin.js';
import { composeErrorLine, createComposeRunner, type ComposeResult, type ComposeRunner } from '../../scripts/drivers/compose-cli.js';
import { createDockerDriver, type DockerDriver } from '../../scripts/drivers/docker-driver.js';
import { CLUSTER_NAME } from '../../scripts/envoy/config.js';
import { freePort } from '../../scripts/stack/free-port.js';
import { pollUntil } from '../../scripts/stack/poll-until.js';
import { controlPlaneStatePath, readControlPlaneState } from '../../scripts/xds/index.js';

/** A started Compose project of this repository under a name of its own. */
export class ComposeProject {
  readonly #run: ComposeRunner;

  private constructor(
    /** COMPOSE_PROJECT_NAME: every container is <name>-<service>-<n>. */
    readonly name: string,
    /** The environment every compose and lab command of this project runs with. */
    readonly env: NodeJS.ProcessEnv,
    readonly proxyPort: number,
    readonly adminPort: number,
    /** Where the observability profile's Prometheus is published, if the test starts it. */
    readonly prometheusPort: number,
  ) {
    this.#run = createComposeRunner({ composeFile: path.join(projectRoot, 'docker-compose.yml'), env, timeoutMs: 5 * 60_000 });
  }

  /** A project name and free ports; nothing runs until up(). */
  static async create(): Promise<ComposeProject> {
    const name = `gel-test-${randomBytes(3).toString('hex')}`;
    const [proxyPort, adminPort, prometheusPort, grafanaPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const env = {
      ...process.env,
      COMPOSE_PROJECT_NAME: name,
      PORT_PROXY: String(proxyPort),
      PORT_ADMIN: String(adminPort),
      PORT_PROMETHEUS: String(prometheusPort),
      PORT_GRAFANA: String(grafanaPort),
    };
    return new ComposeProject(name, env, proxyPort, adminPort, prometheusPort);
  }

  get target(): string {
    return `127.0.0.1:${this.proxyPort}`;
  }

  get adminUrl(): string {
    return `http://127.0.0.1:${this.adminPort}`;
  }

  /** `docker compose <args>` for this project; rejects with Compose's last error line when it fails. */
  async compose(...args: string[]): Promise<ComposeResult> {
    const result = await this.#run(args);
    if (result.code !== 0) throw new Error(`docker compose ${args.join(' ')} failed (${result.code}): ${composeErrorLine(result.stderr)}`);
    return result;
  }

  /** Builds the images and starts the system with `replicas` replicas, then waits until Envoy sees them healthy. */
  async up(replicas: number): Promise<void> {
    await this.compose('up', '-d', '--build', '--scale', `grpc-server=${replicas}`);
    await this.waitForHealthy(replicas);
  }

  /**
   * Removes everything the project made: containers (at once, no drain), its network and its image tags. With the
   * profile named: a plain `down` leaves a profile's containers (and so the network) behind.
   */
  async down(): Promise<void> {
    await this.#run(['--profile', 'observability', 'down', '--timeout', '1', '--remove-orphans', '--rmi', 'local']);
    // A control plane the lab started for it (`lab discovery xds`) leaves with the network; this makes sure of it.
    const controlPlane = readControlPlaneState(controlPlaneStatePath(this.name, this.env));
    if (controlPlane) process.kill(controlPlane.pid, 'SIGTERM');
  }

  /** Resolves with Envoy's hosts once it sees exactly `count`, all healthy. */
  waitForHealthy(count: number, timeoutMs = 60_000): Promise<UpstreamHost[]> {
    return pollUntil(
      `Envoy of ${this.name} to see ${count} healthy replicas`,
      async () => {
        const hosts = await clusterHosts(this.adminUrl, CLUSTER_NAME);
        return hosts.length === count && hosts.every((h) => h.healthy) ? hosts : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  /** The lines one service printed (without Compose's prefix), oldest first. */
  async logs(service: string): Promise<string[]> {
    const { stdout } = await this.compose('logs', '--no-color', '--no-log-prefix', service);
    return stdout.split('\n').filter((line) => line !== '');
  }

  /** The lab's docker driver, acting on this project exactly as `COMPOSE_PROJECT_NAME=<name> npm run lab` would. */
  driver(): DockerDriver {
    return createDockerDriver({ env: this.env });
  }

  /** The last lines of every service, for a failure message that explains itself. */
  async recentLogs(): Promise<string> {
    const result = await this.#run(['logs', '--no-color', '--tail', '30']);
    return result.stdout;
  }
}
