import { HealthImplementation } from 'grpc-health-check';
import type { Server } from '@grpc/grpc-js';
import type { HealthStatus } from './fault-state.js';

/** The service names whose health is reported: "" (the whole server) and the greeter, which Envoy checks. */
export const HEALTH_SERVICE_NAMES = ['', 'greeter.v1.Greeter'] as const;

/** grpc.health.v1 for this server: every reported service always shares one status. */
export class HealthReporter {
  private readonly implementation: HealthImplementation;
  private current: HealthStatus;

  constructor(initial: HealthStatus) {
    this.current = initial;
    this.implementation = new HealthImplementation(
      Object.fromEntries(HEALTH_SERVICE_NAMES.map((name) => [name, initial])),
    );
  }

  /** The status every service currently reports. */
  get status(): HealthStatus {
    return this.current;
  }

  /** Sets the status of all reported services (Watch streams are told at once). */
  setAll(status: HealthStatus): void {
    this.current = status;
    for (const name of HEALTH_SERVICE_NAMES) this.implementation.setStatus(name, status);
  }

  /** Registers grpc.health.v1.Health on the server. */
  addToServer(server: Server): void {
    this.implementation.addToServer(server);
  }
}
