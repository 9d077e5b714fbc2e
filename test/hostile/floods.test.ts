// Floods through Envoy, each bounded in count and time on loopback: one client holding many streams, many clients
// holding idle connections, control-frame floods, and connections that never speak HTTP/2. While each runs, a new
// client must still be served; afterwards every replica and Envoy still answer and nothing restarted.
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { stats } from '../../scripts/envoy/index.js';
import { expectStillServing, grpcFrame, grpcHeaders, sayHelloBytes, socketClosedAfter, splitTarget } from '../helpers/hostile.js';
import { useLocalStack } from '../helpers/local-stack-fixture.js';
import { greeterClient, sayHello } from '../integration/server-process.js';

const REPLICAS = 2;
const lab = useLocalStack({ replicas: REPLICAS });
const opened: Array<{ destroy(): void }> = [];

afterEach(async () => {
  for (const handle of opened.splice(0)) handle.destroy();
  await expectStillServing(lab.stack, REPLICAS);
});

/** A new client's normal call, made while the flood is on: how it went and how long it took. */
async function newClientCall(): Promise<{ ok: boolean; ms: number; detail: string }> {
  const client = greeterClient(lab.stack.envoyTarget);
  const started = performance.now();
  try {
    const outcome = await sayHello(client, 'newcomer', 3000);
    return { ok: outcome.ok, ms: performance.now() - started, detail: outcome.ok ? 'ok' : outcome.error.message };
  } finally {
    client.close();
  }
}

async function connected(): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://${lab.stack.envoyTarget}`);
  session.on('error', () => undefined); // The peer may close a flooding session; that is the point.
  opened.push(session);
  await new Promise((resolve) => session.once('remoteSettings', resolve));
  return session;
}

const closedByPeer = (session: http2.ClientHttp2Session): Promise<boolean> =>
  new Promise((resolve) => {
    if (session.closed || session.destroyed) resolve(true);
    session.once('close', () => resolve(true));
    setTimeout(() => resolve(session.closed || session.destroyed), 1000);
  });

describe('floods through Envoy', () => {
  it('300 streams held open on one connection: Envoy allows 100 of them, and other clients are served', async () => {
    const session = await connected();
    expect(session.remoteSettings.maxConcurrentStreams).toBe(100);
    const body = grpcFrame(sayHelloBytes(Buffer.from('held')));
    for (let i = 0; i < 300; i++) {
      const stream = session.request(grpcHeaders());
      stream.on('error', () => undefined);
      stream.write(body); // and never end it: the call stays in flight until the connection goes
    }
    const adminActive = async (): Promise<number> =>
      (await stats(lab.stack.adminUrl, '^cluster\\.grpc_server\\.upstream_rq_active$')).get('cluster.grpc_server.upstream_rq_active') ?? 0;
    const deadline = Date.now() + 5000;
    while ((await adminActive()) < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await adminActive()).toBe(100);
    const call = await newClientCall();
    expect(call.ok, call.detail).toBe(true);
  });

  it('520 Health/Watch streams (never routed by the public listener) hold nothing', async () => {
    const session = await connected();
    const codes = await Promise.all(
      Array.from({ length: 520 }, () =>
        new Promise<string>((resolve) => {
          const stream = session.request(grpcHeaders('/grpc.health.v1.Health/Watch'));
          let code = 'none';
          const read = (headers: http2.IncomingHttpHeaders): void => {
            if (headers['grpc-status'] !== undefined) code = String(headers['grpc-status']);
          };
          stream.on('response', read);
          stream.on('trailers', read);
          stream.on('error', () => undefined);
          stream.on('close', () => resolve(code));
          stream.end(grpcFrame(Buffer.alloc(0)));
        }),
      ),
    );
    expect(new Set(codes)).toEqual(new Set(['12']));
    const call = await newClientCall();
    expect(call.ok, call.detail).toBe(true);
  });

  it('1100 connections that never send a byte: a new client is still served during the flood', async () => {
    const [host, port] = splitTarget(lab.stack.envoyTarget);
    for (let i = 0; i < 1100; i++) {
      const socket = net.connect({ host, port });
      socket.on('error', () => undefined);
      opened.push(socket);
    }
    await new Promise((r) => setTimeout(r, 500));
    const call = await newClientCall();
    expect(call.ok, call.detail).toBe(true);
  });

  it('a connection that sends nothing is closed after the 5 s listener timeout', async () => {
    const silent = await socketClosedAfter(lab.stack.envoyTarget, undefined, 8000);
    expect(silent.closed).toBe(true);
    expect(silent.ms).toBeGreaterThan(4500);
    expect(silent.ms).toBeLessThan(7000);
  });

  it.each([
    ['garbage bytes', Buffer.from('\x00\xff\x13\x37garbage'.repeat(20), 'latin1')],
    ['an HTTP/1.1 request', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a TLS ClientHello', Buffer.from('16030100a5010000a10303', 'hex')],
  ])('%s: Envoy closes the connection at once', async (_name, bytes) => {
    const result = await socketClosedAfter(lab.stack.envoyTarget, bytes, 8000);
    expect(result.closed).toBe(true);
    expect(result.ms).toBeLessThan(3000);
  });

  it.each([
    [
      '5000 PINGs',
      (session: http2.ClientHttp2Session) => {
        for (let i = 0; i < 5000 && !session.destroyed; i++) session.ping(Buffer.alloc(8), () => undefined);
      },
    ],
    [
      '2000 streams opened and reset at once (rapid reset)',
      (session: http2.ClientHttp2Session) => {
        for (let i = 0; i < 2000 && !session.destroyed; i++) {
          const stream = session.request(grpcHeaders());
          stream.on('error', () => undefined);
          stream.close(http2.constants.NGHTTP2_CANCEL);
        }
      },
    ],
    [
      '2000 SETTINGS frames',
      (session: http2.ClientHttp2Session) => {
        for (let i = 0; i < 2000 && !session.destroyed; i++) session.settings({ initialWindowSize: 65_535 + (i % 2) });
      },
    ],
  ])('%s on one connection: other clients are served', async (_name, flood) => {
    const session = await connected();
    try {
      flood(session);
    } catch {
      // Node refuses to queue more once the peer closed the session: the flood is over either way.
    }
    await closedByPeer(session);
    const call = await newClientCall();
    expect(call.ok, call.detail).toBe(true);
  });
});
