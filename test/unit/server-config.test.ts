import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig, parsePort } from '../../server/src/config.js';

/** The one-line message loadServerConfig throws for this environment. */
function errorFor(env: Record<string, string>): string {
  try {
    loadServerConfig(env, 'host-a');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadServerConfig', () => {
  it('uses the contract defaults when nothing is set, with the host name as replica', () => {
    expect(loadServerConfig({}, 'host-a')).toEqual({
      grpcHost: '0.0.0.0',
      grpcPort: 8080,
      replicaName: { from: 'hostname', name: 'host-a' },
      controlHost: '127.0.0.1',
      controlPort: 8081,
      metricsPort: 9464,
      drainDelayMs: 3000,
      shutdownTimeoutMs: 5000,
      logFormat: 'text',
      logCalls: false,
      maxConnectionAgeMs: 0,
      maxConnectionAgeGraceMs: 5000,
    });
  });

  it('reads every variable', () => {
    const config = loadServerConfig(
      {
        GRPC_HOST: '127.0.0.2',
        GRPC_PORT: '0',
        REPLICA_NAME: 'grpc-server-1',
        CONTROL_HOST: '::1',
        CONTROL_PORT: '0',
        METRICS_PORT: '0',
        DRAIN_DELAY_MS: '300',
        SHUTDOWN_TIMEOUT_MS: '0',
        LOG_FORMAT: 'json',
        LOG_CALLS: 'true',
        MAX_CONNECTION_AGE_MS: '2000',
        MAX_CONNECTION_AGE_GRACE_MS: '100',
      },
      'host-a',
    );
    expect(config).toEqual({
      grpcHost: '127.0.0.2',
      grpcPort: 0,
      replicaName: { from: 'env', name: 'grpc-server-1' },
      controlHost: '::1',
      controlPort: 0,
      metricsPort: 0,
      drainDelayMs: 300,
      shutdownTimeoutMs: 0,
      logFormat: 'json',
      logCalls: true,
      maxConnectionAgeMs: 2000,
      maxConnectionAgeGraceMs: 100,
    });
  });

  it('accepts a host name such as a Compose service name', () => {
    expect(loadServerConfig({ GRPC_HOST: 'grpc-server' }, 'h').grpcHost).toBe('grpc-server');
  });

  it.each([
    [{ GRPC_PORT: 'abc' }, 'GRPC_PORT must be an integer 0-65535, got "abc"'],
    [{ GRPC_PORT: '65536' }, 'GRPC_PORT must be an integer 0-65535, got "65536"'],
    [{ GRPC_PORT: '80.5' }, 'GRPC_PORT must be an integer 0-65535, got "80.5"'],
    [{ GRPC_PORT: ' 80' }, 'GRPC_PORT must be an integer 0-65535, got " 80"'],
    [{ CONTROL_PORT: '-1' }, 'CONTROL_PORT must be an integer 0-65535, got "-1"'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT must be one of text|json, got "xml"'],
    [{ LOG_FORMAT: 'JSON' }, 'LOG_FORMAT must be one of text|json, got "JSON"'],
    [{ LOG_CALLS: 'yes' }, 'LOG_CALLS must be one of true|false, got "yes"'],
    [{ DRAIN_DELAY_MS: '-1' }, 'DRAIN_DELAY_MS must be an integer 0-600000 (milliseconds), got "-1"'],
    [{ DRAIN_DELAY_MS: '3s' }, 'DRAIN_DELAY_MS must be an integer 0-600000 (milliseconds), got "3s"'],
    [{ SHUTDOWN_TIMEOUT_MS: '600001' }, 'SHUTDOWN_TIMEOUT_MS must be an integer 0-600000 (milliseconds), got "600001"'],
    [{ MAX_CONNECTION_AGE_MS: '1e3' }, 'MAX_CONNECTION_AGE_MS must be an integer 0-600000 (milliseconds), got "1e3"'],
    [{ MAX_CONNECTION_AGE_MS: '1000', MAX_CONNECTION_AGE_GRACE_MS: '-5' }, 'MAX_CONNECTION_AGE_GRACE_MS must be an integer 0-600000 (milliseconds), got "-5"'],
    [
      { MAX_CONNECTION_AGE_GRACE_MS: '100' },
      'MAX_CONNECTION_AGE_GRACE_MS is set but MAX_CONNECTION_AGE_MS is not (or is 0): set the age too, or unset the grace',
    ],
    [{ GRPC_HOST: 'bad host' }, 'GRPC_HOST must be an IP address or host name, got "bad host"'],
    [{ CONTROL_HOST: 'http://x' }, 'CONTROL_HOST must be an IP address or host name, got "http://x"'],
    [{ REPLICA_NAME: 'two words' }, 'REPLICA_NAME must be 1-253 printable ASCII characters without spaces, got "two words"'],
    [{ REPLICA_NAME_FROM: 'dns' }, 'REPLICA_NAME_FROM must be one of hostname|reverse-dns, got "dns"'],
    [
      { REPLICA_NAME: 'a', REPLICA_NAME_FROM: 'reverse-dns' },
      'REPLICA_NAME and REPLICA_NAME_FROM are both set; set one (a name, or where to learn it)',
    ],
    [{ GRPC_PORT: '' }, 'GRPC_PORT is set but empty; unset it to use the default'],
    [{ GRPC_PORT: '9000', CONTROL_PORT: '9000' }, 'GRPC_PORT and CONTROL_PORT must differ, both are 9000'],
    [{ METRICS_PORT: '8080' }, 'GRPC_PORT and METRICS_PORT must differ, both are 8080'],
    [{ METRICS_PORT: '8081' }, 'CONTROL_PORT and METRICS_PORT must differ, both are 8081'],
    [{ METRICS_PORT: '9464x' }, 'METRICS_PORT must be an integer 0-65535, got "9464x"'],
  ])('rejects %j with one line', (env, message) => {
    expect(errorFor(env)).toBe(message);
  });

  it('REPLICA_NAME_FROM=reverse-dns keeps the host name as the fallback', () => {
    expect(loadServerConfig({ REPLICA_NAME_FROM: 'reverse-dns' }, 'host-a').replicaName).toEqual({
      from: 'reverse-dns',
      fallback: 'host-a',
    });
  });

  it('lets every port be 0 (each gets its own ephemeral port)', () => {
    const config = loadServerConfig({ GRPC_PORT: '0', CONTROL_PORT: '0', METRICS_PORT: '0' }, 'h');
    expect([config.grpcPort, config.controlPort, config.metricsPort]).toEqual([0, 0, 0]);
  });
});

describe('parsePort', () => {
  it('accepts the edges of the range', () => {
    expect(parsePort('P', '0')).toBe(0);
    expect(parsePort('P', '65535')).toBe(65535);
  });
});
