import type { Server as GrpcServer } from '@grpc/grpc-js';
import type { Server as HttpServer } from 'node:http';
import type { FaultState } from './fault-state.js';
import type { Logger } from './log.js';

/** Everything a graceful shutdown has to stop, and how long it may take. */
export interface ShutdownDeps {
  grpcServer: Pick<GrpcServer, 'tryShutdown' | 'forceShutdown'>;
  /** The control API and the metrics endpoint: both keep answering through the drain, and close at the end. */
  httpServers: HttpServer[];
  faults: FaultState;
  log: Logger;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  exit: (code: number) => void;
}

/**
 * Installs SIGTERM/SIGINT handling: report NOT_SERVING, keep answering for drainDelayMs so Envoy's
 * health checks take this replica out of rotation, then tryShutdown (forceShutdown after
 * shutdownTimeoutMs). A second signal stops at once.
 */
export function installShutdown(deps: ShutdownDeps, signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): void {
  const { grpcServer, httpServers, faults, log, drainDelayMs, shutdownTimeoutMs, exit } = deps;
  let began: number | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  let forceTimer: NodeJS.Timeout | undefined;
  let completing = false;

  const complete = (): void => {
    if (completing) return;
    completing = true;
    clearTimeout(drainTimer);
    clearTimeout(forceTimer);
    const closed = httpServers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    void Promise.all(closed).then(() => {
      log('shutdown complete', { ms: Math.round(performance.now() - (began ?? performance.now())) });
      exit(0);
    });
    // close() alone waits for idle keep-alive connections (e.g. a curl, greeterctl or Prometheus still open).
    for (const server of httpServers) server.closeAllConnections();
  };

  /** Closes every call now: `event` says whether that was asked for (a second signal) or a timeout ran out. */
  const force = (event: 'shutdown now' | 'shutdown forced', reason: string): void => {
    log(event, { reason });
    grpcServer.forceShutdown();
    complete();
  };

  const stopGrpc = (): void => {
    log('shutdown stopping', { timeoutMs: shutdownTimeoutMs });
    forceTimer = setTimeout(() => force('shutdown forced', `calls still open after ${shutdownTimeoutMs}ms`), shutdownTimeoutMs);
    grpcServer.tryShutdown(() => complete());
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (completing) return;
    if (began !== undefined) {
      // Asked for (the local stack stops the whole system this way: nobody left to drain for), not a failure.
      force('shutdown now', `second signal ${signal}`);
      return;
    }
    began = performance.now();
    log('shutdown begin', { signal, drainMs: drainDelayMs });
    // Calls keep being answered during the drain; only the health status changes.
    faults.beginDrain();
    drainTimer = setTimeout(stopGrpc, drainDelayMs);
  };

  for (const signal of signals) process.on(signal, onSignal);
}
