// Bad calls on the wire, through Envoy and straight to a replica: each gets a clear refusal (the right gRPC status,
// an HTTP error, or a reset stream), never a crash; and since every one of them is the caller's mistake, none may
// eject a replica. After each case every replica and Envoy still answer a normal call.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ejections,
  expectStillServing,
  grpcFrame,
  rawCall,
  replicaTargets,
  sayHelloBytes,
  type RawOutcome,
  type RawRequest,
} from '../helpers/hostile.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';
import { greeterClient, sayHello } from '../integration/server-process.js';

const REPLICAS = 3;
const lab = useLocalStack({ replicas: REPLICAS });
const SAY_HELLO = '/greeter.v1.Greeter/SayHello';
const named = (name: string | Buffer): Buffer => grpcFrame(sayHelloBytes(typeof name === 'string' ? Buffer.from(name) : name));

/** One word for what came back, so a table can say what each case must get. */
function verdict(outcome: RawOutcome): string {
  if (outcome.httpStatus !== undefined && outcome.httpStatus !== 200) return `http ${outcome.httpStatus}`;
  if (outcome.grpcStatus !== undefined) return `grpc ${outcome.grpcStatus}`;
  if (outcome.rstCode !== undefined) return `reset ${outcome.rstCode}`;
  if (outcome.timedOut) return 'no answer';
  if (outcome.error === undefined) return 'closed, no status';
  return `error ${outcome.error ?? 'none'}`;
}

interface WireCase {
  name: string;
  request: RawRequest;
  /** What comes back through Envoy, and straight from a replica (one of several, where a race decides). */
  envoy: string | string[];
  replica: string;
}

// Where Envoy and grpc-js answer a refusal with a reset rather than a status, the table says so: a 10 MB message is
// refused by the replica (ENHANCE_YOUR_CALM, past its 4 MB limit) while Envoy is still streaming it, and Envoy then
// ends the client's stream with no status, or, when the replica's status wins the race, RESOURCE_EXHAUSTED.
// gRPC codes: 3 INVALID_ARGUMENT, 5 NOT_FOUND, 8 RESOURCE_EXHAUSTED, 12 UNIMPLEMENTED, 13 INTERNAL.
const CASES: WireCase[] = [
  { name: 'an empty name', request: { path: SAY_HELLO, body: named('') }, envoy: 'grpc 3', replica: 'grpc 3' },
  { name: 'a request with no message at all', request: { path: SAY_HELLO }, envoy: 'grpc 12', replica: 'grpc 12' },
  { name: 'a 5 MB name (past the 4 MB message limit)', request: { path: SAY_HELLO, body: named('x'.repeat(5 << 20)) }, envoy: 'grpc 8', replica: 'grpc 8' },
  { name: 'a 1 MB name', request: { path: SAY_HELLO, body: named('x'.repeat(1 << 20)) }, envoy: 'grpc 3', replica: 'grpc 3' },
  { name: 'a 10 MB name (past the 4 MB message limit)', request: { path: SAY_HELLO, body: named('x'.repeat(10 << 20)) }, envoy: ['closed, no status', 'grpc 8'], replica: 'reset 11' },
  { name: 'a name that is not UTF-8', request: { path: SAY_HELLO, body: named(Buffer.from([0x66, 0xc3, 0x28, 0xff])) }, envoy: 'grpc 3', replica: 'grpc 3' },
  { name: 'a name of bidirectional controls only', request: { path: SAY_HELLO, body: named('\u202e\u2066') }, envoy: 'grpc 3', replica: 'grpc 3' },
  { name: 'a name of zero-width characters only', request: { path: SAY_HELLO, body: named('\u200b\u200d\ufeff') }, envoy: 'grpc 3', replica: 'grpc 3' },
  { name: 'a name with control characters', request: { path: SAY_HELLO, body: named('a\u0000b\u001b[31m') }, envoy: 'grpc 3', replica: 'grpc 3' },
  { name: 'a body that is not protobuf', request: { path: SAY_HELLO, body: grpcFrame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])) }, envoy: 'grpc 13', replica: 'grpc 13' },
  { name: 'a frame shorter than it declares', request: { path: SAY_HELLO, body: grpcFrame(Buffer.from('abc'), { declaredLength: 100 }) }, envoy: 'grpc 12', replica: 'grpc 12' },
  { name: 'a compressed frame with no grpc-encoding', request: { path: SAY_HELLO, body: grpcFrame(Buffer.from('abc'), { compressed: true }) }, envoy: 'grpc 13', replica: 'grpc 13' },
  { name: 'a frame compressed with an encoding nobody offered', request: { path: SAY_HELLO, headers: { 'grpc-encoding': 'zstd-9' }, body: grpcFrame(Buffer.from('abc'), { compressed: true }) }, envoy: 'grpc 12', replica: 'grpc 12' },
  { name: 'a JSON content type', request: { path: SAY_HELLO, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"name":"x"}') }, envoy: 'http 415', replica: 'http 415' },
  { name: 'a GET', request: { path: SAY_HELLO, headers: { ':method': 'GET' } }, envoy: 'grpc 12', replica: 'grpc 12' },
  { name: 'a grpc-timeout that is not one', request: { path: SAY_HELLO, headers: { 'grpc-timeout': 'soon' }, body: named('x') }, envoy: 'grpc 13', replica: 'grpc 13' },
  { name: 'an unknown service', request: { path: '/foo.Bar/Baz', body: named('x') }, envoy: 'grpc 12', replica: 'grpc 12' },
  { name: 'an unknown method of the greeter', request: { path: '/greeter.v1.Greeter/Nope', body: named('x') }, envoy: 'grpc 12', replica: 'grpc 12' },
  { name: 'the root path', request: { path: '/' }, envoy: 'grpc 12', replica: 'grpc 12' },
  { name: 'a path with a traversal', request: { path: '/greeter.v1.Greeter/../../admin' }, envoy: 'grpc 12', replica: 'grpc 12' },
  { name: 'a Health/Check of a service nobody serves', request: { path: '/grpc.health.v1.Health/Check', body: grpcFrame(sayHelloBytes(Buffer.from('nope'))) }, envoy: 'grpc 5', replica: 'grpc 5' },
  {
    name: '150 metadata entries',
    request: { path: SAY_HELLO, headers: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`x-junk-${i}`, 'v'])), body: named('x') },
    envoy: 'reset 2', // Envoy's max_headers_count (100).
    replica: 'reset 11', // Node's maxHeaderListPairs (128).
  },
  { name: 'a 20 KB metadata value', request: { path: SAY_HELLO, headers: { 'x-big': 'v'.repeat(20_000) }, body: named('x') }, envoy: 'grpc 0', replica: 'grpc 0' },
];

describe.each([
  ['through Envoy', 'envoy'],
  ['straight to a replica', 'replica'],
] as const)('bad calls %s', (_where, path) => {
  let ejectedBefore = 0;
  beforeEach(async () => {
    ejectedBefore = await ejections(lab.stack);
  });
  afterEach(async () => {
    await expectStillServing(lab.stack, REPLICAS);
    expect(await ejections(lab.stack), 'replicas ejected by a caller mistake').toBe(ejectedBefore);
  });

  const target = (): string => (path === 'envoy' ? lab.stack.envoyTarget : replicaTargets(lab.stack)[0]!);

  it.each(CASES)('$name', async (wireCase) => {
    const outcome = await rawCall(target(), { timeoutMs: 8000, ...wireCase.request });
    const expected = wireCase[path];
    if (Array.isArray(expected)) expect(expected, JSON.stringify(outcome)).toContain(verdict(outcome));
    else expect(verdict(outcome), JSON.stringify(outcome)).toBe(expected);
  });

  it('a client that resets its stream right after sending leaves nothing behind', async () => {
    const outcome = await rawCall(target(), { path: SAY_HELLO, body: named('gone'), resetAfterSend: true, timeoutMs: 3000 });
    expect(outcome.timedOut).toBe(false);
  });
});

describe('caller mistakes, repeated, never eject a replica', () => {
  // The regression this guards: UNIMPLEMENTED and INTERNAL once counted as 5xx, and 9 such calls in a row ejected a
  // healthy replica (outlier detection's consecutive_5xx is 5 here).
  it.each([
    ['an unknown greeter method', { path: '/greeter.v1.Greeter/Nope', body: named('x') }, 12],
    ['a body that is not protobuf', { path: SAY_HELLO, body: grpcFrame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])) }, 13],
    ['an empty name', { path: SAY_HELLO, body: named('') }, 3],
  ] as const)('%s, 30 times through Envoy', async (_name, request, code) => {
    const before = await ejections(lab.stack);
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => rawCall(lab.stack.envoyTarget, request)));
    expect(outcomes.map((o) => o.grpcStatus)).toEqual(Array(30).fill(code));
    expect(await ejections(lab.stack)).toBe(before);
    // Every replica still gets its share of normal calls: none was set aside.
    const client = greeterClient(lab.stack.envoyTarget);
    const hosts = new Set<string>();
    try {
      for (let i = 0; i < 30; i++) {
        const outcome = await sayHello(client, 'after', 3000);
        if (outcome.ok) hosts.add(outcome.reply.hostname);
      }
    } finally {
      client.close();
    }
    expect(hosts.size).toBe(REPLICAS);
  });
});
