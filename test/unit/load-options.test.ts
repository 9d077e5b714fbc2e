import { describe, expect, it } from 'vitest';
import { LoadHelpRequested, parseLoadArgs } from '../../client/src/load/load-cli.js';
import { LoadOptionsError, planLoad } from '../../client/src/load/load-options.js';

/** The one line main.ts prints for argv/env, or undefined when they parse. */
function errorLine(argv: string[], env: NodeJS.ProcessEnv = {}): string | undefined {
  try {
    parseLoadArgs(argv, env);
    return undefined;
  } catch (error) {
    if (!(error instanceof LoadOptionsError)) throw error;
    return `grpc-load: ${error.message}`;
  }
}

describe('load CLI options', () => {
  it('applies the defaults: closed loop, 10 in flight, 10 s, deadline 2000 ms, one worker', () => {
    expect(parseLoadArgs([], {})).toEqual({
      options: expect.any(Object),
      json: false,
      plan: {
        target: 'localhost:5000',
        concurrency: 10,
        rate: null,
        catchUp: true,
        limit: { kind: 'duration', ms: 10_000 },
        deadlineMs: 2000,
        metadata: [],
        keys: null,
        workers: 1,
        name: 'load',
        balancing: 'pick_first',
        xdsBootstrap: null,
      },
    });
  });

  it('parses every flag', () => {
    const { plan, json } = parseLoadArgs(
      [
        '--target', '127.0.0.1:5001', '--concurrency', '8', '--rate', '12.5', '--count', '100', '--deadline', '300',
        '--metadata', 'x-a=1', '--metadata', 'X-B=two=2', '--metadata', 'x-a=3', '--key-header', 'X-User', '--keys', '4',
        '--workers', '2', '--name', 'bob', '--balancing', 'round_robin', '--json',
      ],
      { ENVOY_ADDRESS: 'ignored:1' },
    );
    expect(json).toBe(true);
    expect(plan).toEqual({
      target: '127.0.0.1:5001',
      concurrency: 8,
      rate: 12.5,
      catchUp: true,
      limit: { kind: 'count', calls: 100 },
      deadlineMs: 300,
      // Header names are case-insensitive in HTTP/2 and sent lower-case; a value may contain "=".
      metadata: [['x-a', '1'], ['x-b', 'two=2'], ['x-a', '3']],
      keys: { header: 'x-user', count: 4 },
      workers: 2,
      name: 'bob',
      balancing: 'round_robin',
      xdsBootstrap: null,
    });
  });

  it('takes the target from ENVOY_ADDRESS when --target is absent, and a fractional --duration', () => {
    const { plan } = parseLoadArgs(['--duration', '2.5'], { ENVOY_ADDRESS: 'envoy:5000' });
    expect(plan.target).toBe('envoy:5000');
    expect(plan.limit).toEqual({ kind: 'duration', ms: 2500 });
  });

  it('--help is not an error', () => {
    expect(() => parseLoadArgs(['--help'], {})).toThrow(LoadHelpRequested);
  });

  const bad: Array<[string[], NodeJS.ProcessEnv, string]> = [
    [['--concurrency', '0'], {}, 'grpc-load: --concurrency must be an integer from 1 to 10000, got "0"'],
    [['--concurrency', 'ten'], {}, 'grpc-load: --concurrency must be an integer from 1 to 10000, got "ten"'],
    [['--concurrency', '10001'], {}, 'grpc-load: --concurrency must be an integer from 1 to 10000, got "10001"'],
    [['--rate', '0'], {}, 'grpc-load: --rate must be calls per second, above 0 and at most 100000, got "0"'],
    [['--rate', '-5'], {}, 'grpc-load: --rate must be calls per second, above 0 and at most 100000, got "-5"'],
    [['--rate', '1e3'], {}, 'grpc-load: --rate must be calls per second, above 0 and at most 100000, got "1e3"'],
    [['--duration', '0'], {}, 'grpc-load: --duration must be seconds, above 0 and at most 2147483, got "0"'],
    [['--duration', '5s'], {}, 'grpc-load: --duration must be seconds, above 0 and at most 2147483, got "5s"'],
    [['--count', '0'], {}, 'grpc-load: --count must be a positive integer, got "0"'],
    [['--count', '1.5'], {}, 'grpc-load: --count must be a positive integer, got "1.5"'],
    [
      ['--duration', '5', '--count', '10'],
      {},
      'grpc-load: --duration and --count cannot be used together: exactly one of them decides when the run ends',
    ],
    [
      ['--until-stopped', '--count', '10'],
      {},
      'grpc-load: --count and --until-stopped cannot be used together: exactly one of them decides when the run ends',
    ],
    [
      ['--duration', '5', '--count', '10', '--until-stopped'],
      {},
      'grpc-load: --duration, --count and --until-stopped cannot be used together: exactly one of them decides when the run ends',
    ],
    [['--deadline', '0'], {}, 'grpc-load: --deadline must be an integer (ms) from 1 to 2147483647, got "0"'],
    [['--deadline', ''], {}, 'grpc-load: --deadline must be an integer (ms) from 1 to 2147483647, got ""'],
    [['--target', 'nohost'], {}, 'grpc-load: --target must be host:port with a port from 1 to 65535, got "nohost"'],
    [['--target', 'h:70000'], {}, 'grpc-load: --target must be host:port with a port from 1 to 65535, got "h:70000"'],
    [[], { ENVOY_ADDRESS: '' }, 'grpc-load: ENVOY_ADDRESS must be host:port with a port from 1 to 65535, got ""'],
    [['--metadata', 'novalue'], {}, 'grpc-load: --metadata must be key=value, got "novalue"'],
    [['--metadata', '=v'], {}, 'grpc-load: --metadata must be key=value, got "=v"'],
    [
      ['--metadata', 'bad key=v'],
      {},
      'grpc-load: --metadata header name must be letters, digits, "-", "_" or ".", got "bad key"',
    ],
    [['--metadata', 'grpc-timeout=1S'], {}, 'grpc-load: --metadata header name "grpc-timeout" is reserved by gRPC or HTTP/2'],
    [['--metadata', 'x-id-bin=AA'], {}, 'grpc-load: --metadata header name "x-id-bin" is reserved by gRPC or HTTP/2'],
    [['--metadata', 'x-a=é'], {}, 'grpc-load: --metadata value of "x-a" must be printable ASCII, got "é"'],
    [['--keys', '3'], {}, 'grpc-load: --keys needs --key-header: the header that carries each key'],
    [['--key-header', 'x-user'], {}, 'grpc-load: --key-header needs --keys: how many distinct keys to send'],
    [['--key-header', 'x-user', '--keys', '0'], {}, 'grpc-load: --keys must be an integer from 1 to 1000000, got "0"'],
    [
      ['--key-header', 'x-user', '--keys', '2', '--metadata', 'x-user=a'],
      {},
      'grpc-load: --key-header "x-user" is also set by --metadata: the key must be the only value',
    ],
    [['--key-header', 'content-type', '--keys', '2'], {}, 'grpc-load: --key-header header name "content-type" is reserved by gRPC or HTTP/2'],
    [['--workers', '0'], {}, 'grpc-load: --workers must be an integer from 1 to 64, got "0"'],
    [['--workers', '65'], {}, 'grpc-load: --workers must be an integer from 1 to 64, got "65"'],
    [
      ['--workers', '4', '--concurrency', '2'],
      {},
      'grpc-load: --workers (4) cannot exceed --concurrency (2): each worker needs at least one call in flight',
    ],
    [['--name', ' '], {}, 'grpc-load: --name must be a non-empty name, got " "'],
    [['--no-such-flag'], {}, "grpc-load: unknown option '--no-such-flag' (see --help)"],
    [['--rate'], {}, "grpc-load: option '--rate <r>' argument missing (see --help)"],
    [['extra'], {}, "grpc-load: too many arguments. Expected 0 arguments but got 1. (see --help)"],
  ];
  it.each(bad)('%j %j -> one line', (argv, env, line) => {
    const message = errorLine(argv, env);
    expect(message).toBe(line);
    expect(message).not.toContain('\n');
  });
});

describe('planLoad (library options)', () => {
  it('checks typed values the same way', () => {
    expect(() => planLoad({ concurrency: 2.5 })).toThrow('--concurrency must be an integer from 1 to 10000, got "2.5"');
    expect(() => planLoad({ rate: Number.NaN })).toThrow('--rate must be calls per second, above 0 and at most 100000, got "NaN"');
    expect(() => planLoad({ durationS: Infinity })).toThrow('--duration must be seconds');
  });

  it('runs until stopped only when asked, and then with no other limit', () => {
    expect(planLoad({ untilStopped: true }).limit).toEqual({ kind: 'until-stopped' });
    expect(planLoad({ untilStopped: false, count: 3 }).limit).toEqual({ kind: 'count', calls: 3 });
    expect(planLoad({}).limit).toEqual({ kind: 'duration', ms: 10_000 });
    expect(() => planLoad({ untilStopped: true, durationS: 1 })).toThrow(
      '--duration and --until-stopped cannot be used together: exactly one of them decides when the run ends',
    );
    expect(parseLoadArgs(['--until-stopped'], {}).plan.limit).toEqual({ kind: 'until-stopped' });
  });

  it('takes catchUp only for an open loop', () => {
    expect(planLoad({ rate: 10 }).catchUp).toBe(true);
    expect(planLoad({ rate: 10, catchUp: false }).catchUp).toBe(false);
    expect(() => planLoad({ catchUp: false })).toThrow('catchUp applies only to an open loop: it needs --rate');
  });

  it('accepts metadata as a record', () => {
    expect(planLoad({ metadata: { 'X-Tenant': 'blue' } }).metadata).toEqual([['x-tenant', 'blue']]);
  });
});

describe('proxyless targets (xds:///name)', () => {
  const bootstrap = JSON.stringify({ xds_servers: [{ server_uri: '127.0.0.1:18000', channel_creds: [{ type: 'insecure' }] }], node: { id: 'n' } });

  it('takes xds:///name with a bootstrap, and leaves the balancing to the control plane', () => {
    const plan = planLoad({ target: 'xds:///grpc-server', xdsBootstrap: bootstrap });
    expect(plan.target).toBe('xds:///grpc-server');
    expect(plan.xdsBootstrap).toBe(bootstrap);
  });

  it('refuses what cannot work, in one line', () => {
    expect(() => planLoad({ target: 'xds://authority/grpc-server' })).toThrow('--target must be xds:///name for proxyless gRPC, got "xds://authority/grpc-server"');
    expect(() => planLoad({ target: 'xds:///grpc-server', balancing: 'round_robin' })).toThrow(/--balancing does not apply to an xds:\/\/\/ target/);
    expect(() => planLoad({ target: 'xds:///grpc-server', xdsBootstrap: '{' })).toThrow('the xDS bootstrap is not JSON');
    expect(() => planLoad({ target: 'xds:///grpc-server', xdsBootstrap: '{}' })).toThrow('the xDS bootstrap names no xds_servers');
    expect(() => planLoad({ target: '127.0.0.1:5000', xdsBootstrap: bootstrap })).toThrow('an xDS bootstrap applies only to an xds:///name target');
  });
});
