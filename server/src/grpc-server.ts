import { Server, ServerCredentials } from '@grpc/grpc-js';
import { GreeterService, type GreeterServer } from '../../gen/greeter/v1/greeter.js';
import type { HealthReporter } from './health-reporter.js';
import { joinHostPort } from './host-port.js';
import { addReflection } from './reflection.js';

/** How long a client connection may live (0 = no limit), and the grace its calls in flight get after that. */
export interface ConnectionAge {
  maxConnectionAgeMs: number;
  maxConnectionAgeGraceMs: number;
}

/** A gRPC server with greeter, health and reflection registered, not yet bound. */
export function createGrpcServer(greeter: GreeterServer, health: HealthReporter, age?: ConnectionAge): Server {
  // Only set when asked for: grpc-js's defaults (no age limit) are what every replica ran before this option existed.
  const server = new Server(
    age && age.maxConnectionAgeMs > 0
      ? { 'grpc.max_connection_age_ms': age.maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': age.maxConnectionAgeGraceMs }
      : {},
  );
  server.addService(GreeterService, greeter);
  health.addToServer(server);
  addReflection(server);
  return server;
}

/** Binds host:port without TLS (Envoy and the lab talk plaintext on a private network); resolves to the real port. */
export function bindGrpcServer(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(joinHostPort(host, port), ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error) reject(error);
      else resolve(boundPort);
    });
  });
}
