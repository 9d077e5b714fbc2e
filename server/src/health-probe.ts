import { credentials, makeGenericClientConstructor, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { ConfigError, parsePort } from './config.js';

/*
 * The Compose healthcheck: grpc.health.v1.Health/Check for greeter.v1.Greeter on 127.0.0.1:$GRPC_PORT.
 * Exit 0 when SERVING, 1 otherwise, always with one line. Every failure is exit 1, never 2: Docker
 * reserves exit code 2 of a HEALTHCHECK command.
 */

const PROGRAM = 'health-probe';
const SERVICE = 'greeter.v1.Greeter';
const DEADLINE_MS = 1000;

interface HealthCheckClient {
  check(
    request: { service: string },
    options: { deadline: number },
    callback: (error: ServiceError | null, response?: { status: string }) => void,
  ): void;
  close(): void;
}

function finish(code: 0 | 1, message: string): never {
  (code === 0 ? process.stdout : process.stderr).write(`${PROGRAM}: ${message}\n`);
  process.exit(code);
}

let port: number;
try {
  port = process.env.GRPC_PORT === undefined ? 8080 : parsePort('GRPC_PORT', process.env.GRPC_PORT);
  if (port === 0) throw new ConfigError(`GRPC_PORT must be the server's real port (1-65535) for a probe, got "0"`);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  finish(1, error.message);
}

const target = `127.0.0.1:${port}`;
// proto-loader's service definition is what grpc-js expects at runtime; only the declared types differ.
const HealthClient = makeGenericClientConstructor(healthService as unknown as ServiceDefinition, 'Health');
const client = new HealthClient(target, credentials.createInsecure()) as unknown as HealthCheckClient;
client.check({ service: SERVICE }, { deadline: Date.now() + DEADLINE_MS }, (error, response) => {
  client.close();
  if (error) finish(1, `${SERVICE} at ${target}: check failed: ${error.message.replace(/\s+/g, ' ').trim()}`);
  const status = response?.status ?? 'UNKNOWN';
  finish(status === 'SERVING' ? 0 : 1, `${SERVICE} at ${target}: ${status}`);
});
