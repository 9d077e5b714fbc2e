import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { ConfigError, loadServerConfig, type ServerConfig } from './config.js';
import { createControlServer } from './control-api.js';
import { controlTokenFile, newControlToken, publishControlToken } from './control-access.js';
import { FaultState } from './fault-state.js';
import { createGreeterService } from './greeter-service.js';
import { bindGrpcServer, createGrpcServer } from './grpc-server.js';
import { HealthReporter } from './health-reporter.js';
import { joinHostPort } from './host-port.js';
import { createLogger } from './log.js';
import { ReplicaMetrics } from './metrics.js';
import { createMetricsServer } from './metrics-server.js';
import { resolveReplicaName } from './replica-name.js';
import { installShutdown } from './shutdown.js';

const PROGRAM = 'grpc-server';

/** Starts the greeter replica: gRPC (greeter, health, reflection) plus the HTTP control API. */
async function main(): Promise<void> {
  let config: ServerConfig;
  try {
    config = loadServerConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }

  const replica = await resolveReplicaName(config.replicaName, config.grpcHost);
  const log = createLogger(config.logFormat, replica.name);

  const faults = new FaultState(replica.name);
  const health = new HealthReporter(faults.get().health);
  const metrics = new ReplicaMetrics(replica.name);
  metrics.showState(faults.get(), faults.isDraining());
  faults.onChange((next, previous) => {
    metrics.showState(next, faults.isDraining());
    if (next.health !== previous.health) {
      health.setAll(next.health);
      log('health', { status: next.health });
    }
    if (next.failRate !== previous.failRate || next.failCode !== previous.failCode || next.latencyMs !== previous.latencyMs) {
      log('fault', { failRate: next.failRate, failCode: next.failCode, latencyMs: next.latencyMs });
    }
  });

  const grpcServer = createGrpcServer(
    createGreeterService({
      replica: replica.name,
      faults,
      log,
      logCalls: config.logCalls,
      metrics: metrics.forMethod('greeter.v1.Greeter', 'SayHello'),
    }),
    health,
    config,
  );
  let grpcPort: number;
  try {
    grpcPort = await bindGrpcServer(grpcServer, config.grpcHost, config.grpcPort);
  } catch (error) {
    fail(`cannot listen for gRPC on ${joinHostPort(config.grpcHost, config.grpcPort)}: ${oneLine(error)}`, 1);
  }

  const controlToken = config.controlToken ?? newControlToken();
  const controlServer = createControlServer(faults, controlToken);
  try {
    controlServer.listen(config.controlPort, config.controlHost);
    await once(controlServer, 'listening');
  } catch (error) {
    grpcServer.forceShutdown();
    fail(`cannot listen for control on ${joinHostPort(config.controlHost, config.controlPort)}: ${oneLine(error)}`, 1);
  }
  const control = controlServer.address() as AddressInfo;
  // Where greeterctl on this machine (or in this container) finds the token; gone again when the process exits.
  const unpublish = publishControlToken(controlTokenFile(control.address, control.port), controlToken);
  process.once('exit', unpublish);

  // Beside the gRPC port, on the same host: Prometheus scrapes each replica where Envoy calls it.
  const metricsServer = createMetricsServer(metrics.registry);
  try {
    metricsServer.listen(config.metricsPort, config.grpcHost);
    await once(metricsServer, 'listening');
  } catch (error) {
    grpcServer.forceShutdown();
    controlServer.close();
    fail(`cannot listen for metrics on ${joinHostPort(config.grpcHost, config.metricsPort)}: ${oneLine(error)}`, 1);
  }
  const metricsAddress = metricsServer.address() as AddressInfo;

  installShutdown({
    grpcServer,
    httpServers: [controlServer, metricsServer],
    faults,
    log,
    drainDelayMs: config.drainDelayMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    exit: (code) => process.exit(code),
  });
  // The one start-up line: where it listens, what it is called and why, and how it will stop.
  log('listening', {
    grpc: joinHostPort(config.grpcHost, grpcPort),
    control: joinHostPort(control.address, control.port),
    metrics: joinHostPort(metricsAddress.address, metricsAddress.port),
    name: replica.from,
    pid: process.pid,
    node: process.version,
    drainDelayMs: config.drainDelayMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    logCalls: config.logCalls,
    // Said only when set, so the usual line stays as it was.
    ...(config.maxConnectionAgeMs > 0
      ? { maxConnectionAgeMs: config.maxConnectionAgeMs, maxConnectionAgeGraceMs: config.maxConnectionAgeGraceMs }
      : {}),
  });
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

function fail(message: string, code: number): never {
  process.stderr.write(`${PROGRAM}: ${message}\n`);
  process.exit(code);
}

main().catch((error: unknown) => {
  // Not a user mistake: keep the stack, it is the only clue to a bug.
  console.error(`${PROGRAM}: unexpected error`, error);
  process.exit(1);
});
