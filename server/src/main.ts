import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { ConfigError, loadServerConfig, type ServerConfig } from './config.js';
import { createControlServer } from './control-api.js';
import { FaultState } from './fault-state.js';
import { createGreeterService } from './greeter-service.js';
import { bindGrpcServer, createGrpcServer } from './grpc-server.js';
import { HealthReporter } from './health-reporter.js';
import { joinHostPort } from './host-port.js';
import { createLogger } from './log.js';
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
  faults.onChange((next, previous) => {
    if (next.health !== previous.health) {
      health.setAll(next.health);
      log('health', { status: next.health });
    }
    if (next.failRate !== previous.failRate || next.failCode !== previous.failCode || next.latencyMs !== previous.latencyMs) {
      log('fault', { failRate: next.failRate, failCode: next.failCode, latencyMs: next.latencyMs });
    }
  });

  const grpcServer = createGrpcServer(
    createGreeterService({ replica: replica.name, faults, log, logCalls: config.logCalls }),
    health,
    config,
  );
  let grpcPort: number;
  try {
    grpcPort = await bindGrpcServer(grpcServer, config.grpcHost, config.grpcPort);
  } catch (error) {
    fail(`cannot listen for gRPC on ${joinHostPort(config.grpcHost, config.grpcPort)}: ${oneLine(error)}`, 1);
  }

  const controlServer = createControlServer(faults);
  try {
    controlServer.listen(config.controlPort, config.controlHost);
    await once(controlServer, 'listening');
  } catch (error) {
    grpcServer.forceShutdown();
    fail(`cannot listen for control on ${joinHostPort(config.controlHost, config.controlPort)}: ${oneLine(error)}`, 1);
  }
  const control = controlServer.address() as AddressInfo;

  installShutdown({
    grpcServer,
    controlServer,
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
