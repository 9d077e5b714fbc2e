import { describe, expect, it } from 'vitest';
import { planLoad } from '../../client/src/load/load-options.js';
import {
  ConfigError,
  DEFAULTS,
  HelpRequested,
  maxInFlightFor,
  parseClientConfig,
  workerLoadOptions,
} from '../../client/src/worker-config.js';

/** The one-line message parseClientConfig throws for these inputs (main prefixes it with "grpc-client: "). */
function errorFor(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    parseClientConfig(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`expected ${JSON.stringify(argv)} ${JSON.stringify(env)} to be rejected`);
}

describe('parseClientConfig', () => {
  it('uses the contract defaults when nothing is set', () => {
    expect(parseClientConfig([], {})).toEqual({
      target: 'localhost:5000',
      intervalMs: 1000,
      deadlineMs: 2000,
      summaryEveryS: 30,
      count: 0,
      name: 'lab',
      logFormat: 'text',
    });
    expect(DEFAULTS.target).toBe('localhost:5000');
  });

  it('reads every env var', () => {
    const env = {
      ENVOY_ADDRESS: 'envoy:5000',
      CALL_INTERVAL_MS: '250',
      CALL_DEADLINE_MS: '750',
      SUMMARY_EVERY_S: '0',
      CALL_COUNT: '12',
      GREET_NAME: 'env-name',
      LOG_FORMAT: 'json',
    };
    expect(parseClientConfig([], env)).toEqual({
      target: 'envoy:5000',
      intervalMs: 250,
      deadlineMs: 750,
      summaryEveryS: 0,
      count: 12,
      name: 'env-name',
      logFormat: 'json',
    });
  });

  it('lets each flag win over its env var', () => {
    const env = {
      ENVOY_ADDRESS: 'envoy:5000',
      CALL_INTERVAL_MS: '250',
      CALL_DEADLINE_MS: '750',
      SUMMARY_EVERY_S: '9',
      CALL_COUNT: '12',
      GREET_NAME: 'env-name',
      LOG_FORMAT: 'text',
    };
    const argv = [
      '--target', '127.0.0.1:7000',
      '--interval', '50',
      '--deadline=300',
      '--summary-every', '5',
      '--count', '3',
      '--name', 'flag-name',
      '--json',
    ];
    expect(parseClientConfig(argv, env)).toEqual({
      target: '127.0.0.1:7000',
      intervalMs: 50,
      deadlineMs: 300,
      summaryEveryS: 5,
      count: 3,
      name: 'flag-name',
      logFormat: 'json',
    });
  });

  it('accepts bracketed IPv6 and dns: targets', () => {
    expect(parseClientConfig(['--target', '[::1]:5000'], {}).target).toBe('[::1]:5000');
    expect(parseClientConfig(['--target', 'dns:///envoy:5000'], {}).target).toBe('dns:///envoy:5000');
    expect(parseClientConfig(['--target', 'ipv4:127.0.0.1:5000,127.0.0.1:5001'], {}).target).toBe('ipv4:127.0.0.1:5000,127.0.0.1:5001');
  });

  it.each([
    [['--interval', '0'], {}, '--interval must be a positive integer (ms), got "0"'],
    [['--interval', 'abc'], {}, '--interval must be a positive integer (ms), got "abc"'],
    [['--interval', '1.5'], {}, '--interval must be a positive integer (ms), got "1.5"'],
    [['--interval', '1e3'], {}, '--interval must be a positive integer (ms), got "1e3"'],
    [['--interval', '2147483648'], {}, '--interval must be a positive integer (ms) no larger than 2147483647, got "2147483648"'],
    [[], { CALL_INTERVAL_MS: '' }, 'CALL_INTERVAL_MS must be a positive integer (ms), got ""'],
    [[], { CALL_DEADLINE_MS: '-5' }, 'CALL_DEADLINE_MS must be a positive integer (ms), got "-5"'],
    [['--deadline', '-5'], {}, '--deadline must be a positive integer (ms), got "-5"'],
    [['--summary-every', 'x'], {}, '--summary-every must be a non-negative integer (s, 0 = only at exit), got "x"'],
    [[], { SUMMARY_EVERY_S: '2147484' }, 'SUMMARY_EVERY_S must be a non-negative integer (s, 0 = only at exit) no larger than 2147483, got "2147484"'],
    [['--count', '-1'], {}, '--count must be a non-negative integer (0 = run forever), got "-1"'],
    [[], { CALL_COUNT: ' 3' }, 'CALL_COUNT must be a non-negative integer (0 = run forever), got " 3"'],
    [['--target', ''], {}, '--target must be host:port with a port from 1 to 65535, got ""'],
    [['--target', 'host:notaport'], {}, '--target must be host:port with a port from 1 to 65535, got "host:notaport"'],
    [['--target', 'host'], {}, '--target must be host:port with a port from 1 to 65535, got "host"'],
    [['--target', 'host:70000'], {}, '--target must be host:port with a port from 1 to 65535, got "host:70000"'],
    [['--target', 'host:0'], {}, '--target must be host:port with a port from 1 to 65535, got "host:0"'],
    [[], { ENVOY_ADDRESS: 'envoy' }, 'ENVOY_ADDRESS must be host:port with a port from 1 to 65535, got "envoy"'],
    [['--name', ' '], {}, '--name must be a non-empty name, got " "'],
    [[], { GREET_NAME: '' }, 'GREET_NAME must be a non-empty name, got ""'],
    [[], { LOG_FORMAT: 'yaml' }, 'LOG_FORMAT must be text or json, got "yaml"'],
    [['--bogus'], {}, "unknown option '--bogus' (see --help)"],
    [['--jsno'], {}, "unknown option '--jsno' (Did you mean --json?) (see --help)"],
    [['--interval'], {}, "option '--interval <ms>' argument missing (see --help)"],
    [['stray'], {}, 'too many arguments. Expected 0 arguments but got 1. (see --help)'],
  ] as const)('rejects %j %j with one line', (argv, env, message) => {
    const text = errorFor([...argv], { ...env });
    expect(text).toBe(message);
    expect(text).not.toContain('\n');
  });

  it('rejects a bad env var even when the flag is fine elsewhere', () => {
    expect(errorFor(['--interval', '10'], { CALL_DEADLINE_MS: 'soon' })).toBe(
      'CALL_DEADLINE_MS must be a positive integer (ms), got "soon"',
    );
  });

  it('ignores a bad env var that a flag overrides', () => {
    expect(parseClientConfig(['--interval', '10'], { CALL_INTERVAL_MS: 'abc' }).intervalMs).toBe(10);
  });

  it('reports --help as HelpRequested carrying the usage text', () => {
    let caught: unknown;
    try {
      parseClientConfig(['--help'], {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HelpRequested);
    expect((caught as HelpRequested).helpText).toContain('Usage: grpc-client [options]');
    expect((caught as HelpRequested).helpText).toContain('CALL_DEADLINE_MS');
  });
});

describe('maxInFlightFor', () => {
  it('allows the calls one deadline can overlap, plus one', () => {
    expect(maxInFlightFor(1000, 2000)).toBe(3);
    expect(maxInFlightFor(50, 2000)).toBe(41);
    expect(maxInFlightFor(300, 1000)).toBe(5);
  });

  it('stays within the load loop\'s concurrency limit', () => {
    expect(maxInFlightFor(1, 2_147_483_647)).toBe(10_000);
  });
});

describe('workerLoadOptions', () => {
  it('one call per interval in this thread, capped in flight, for --count calls', () => {
    const config = parseClientConfig(['--target', 'envoy:5000', '--interval', '50', '--count', '10', '--name', 'w'], {});
    expect(workerLoadOptions(config)).toEqual({
      target: 'envoy:5000',
      rate: 20,
      catchUp: false,
      concurrency: 41,
      count: 10,
      deadlineMs: 2000,
      name: 'w',
      workers: 1,
    });
  });

  it('with --count 0 runs until stopped, and every accepted config is a plan the loop accepts', () => {
    const config = parseClientConfig([], {});
    expect(planLoad(workerLoadOptions(config))).toMatchObject({ rate: 1, concurrency: 3, limit: { kind: 'until-stopped' }, workers: 1 });
    const extremes = parseClientConfig(['--interval', '1', '--deadline', '2147483647', '--target', 'dns:///envoy:5000'], {});
    expect(planLoad(workerLoadOptions(extremes))).toMatchObject({ rate: 1000, concurrency: 10_000 });
    const slowest = parseClientConfig(['--interval', '2147483647', '--deadline', '1'], {});
    expect(planLoad(workerLoadOptions(slowest)).rate).toBeGreaterThan(0);
  });
});
