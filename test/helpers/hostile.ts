// The hostile-input suite's kit: raw HTTP/2 and TCP peers that send what no well-behaved gRPC client would, and the
// check that runs after every case: Envoy and every replica still answer a normal call, nothing crashed or
// restarted, and (for a caller's mistake) no replica was ejected.
import http2 from 'node:http2';
import net from 'node:net';
import protobuf from 'protobufjs';
import { expect } from 'vitest';
import { clusterStat } from '../../scripts/envoy/index.js';
import type { LocalStack } from '../../scripts/stack/index.js';
import { greeterClient, sayHello } from '../integration/server-process.js';

/** What came back for one raw call: HTTP status and headers, gRPC status (from headers or trailers), or the reset. */
export interface RawOutcome {
  httpStatus?: number;
  grpcStatus?: number;
  grpcMessage?: string;
  /** The RST_STREAM code when the stream was reset, or a session error's message. */
  rstCode?: number;
  error?: string;
  /** Nothing at all within the time limit. */
  timedOut: boolean;
  ms: number;
}

/** A raw request: the pseudo-headers and headers (defaults: POST, gRPC content type, te) and the body bytes. */
export interface RawRequest {
  path: string;
  headers?: http2.OutgoingHttpHeaders;
  body?: Buffer;
  /** Reset the stream (CANCEL) right after sending, as an impatient or malicious client does. */
  resetAfterSend?: boolean;
  timeoutMs?: number;
}

/** A gRPC length-prefixed message: flag byte, 4-byte big-endian length, payload. */
export function grpcFrame(payload: Buffer, { compressed = false, declaredLength = payload.length } = {}): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(compressed ? 1 : 0, 0);
  header.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([header, payload]);
}

/** A SayHelloRequest whose field 1 (name) holds exactly these bytes, valid UTF-8 or not (protobufjs's writer). */
export function sayHelloBytes(name: Buffer): Buffer {
  return Buffer.from(protobuf.Writer.create().uint32((1 << 3) | 2).bytes(name).finish());
}

const SAY_HELLO = '/greeter.v1.Greeter/SayHello';

/** The headers a gRPC client sends, for `path`. */
export function grpcHeaders(path = SAY_HELLO): http2.OutgoingHttpHeaders {
  return { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' };
}

/** Sends one raw HTTP/2 request on a connection of its own and reports what came back; never rejects. */
export function rawCall(target: string, request: RawRequest): Promise<RawOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const outcome: RawOutcome = { timedOut: false, ms: 0 };
    const session = http2.connect(`http://${target}`);
    const finish = (): void => {
      clearTimeout(timer);
      outcome.ms = performance.now() - started;
      session.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      outcome.timedOut = true;
      finish();
    }, request.timeoutMs ?? 5000);
    session.on('error', (error) => {
      outcome.error ??= error.message;
      finish();
    });
    const stream = session.request({ ...grpcHeaders(request.path), ...request.headers });
    const readStatus = (headers: http2.IncomingHttpHeaders): void => {
      if (headers['grpc-status'] !== undefined) outcome.grpcStatus = Number(headers['grpc-status']);
      if (typeof headers['grpc-message'] === 'string') outcome.grpcMessage = decodeURIComponent(headers['grpc-message']);
    };
    stream.on('response', (headers) => {
      outcome.httpStatus = Number(headers[':status']);
      readStatus(headers);
    });
    stream.on('trailers', readStatus);
    stream.on('error', (error) => (outcome.error ??= error.message));
    stream.on('close', () => {
      if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) outcome.rstCode = stream.rstCode;
      finish();
    });
    stream.resume();
    stream.end(request.body ?? Buffer.alloc(0));
    if (request.resetAfterSend) stream.close(http2.constants.NGHTTP2_CANCEL);
  });
}

/** Opens a TCP connection, writes `bytes` (if any), and resolves with how long until the peer closed it (or the limit). */
export function socketClosedAfter(target: string, bytes: Buffer | undefined, limitMs: number): Promise<{ closed: boolean; ms: number; received: string }> {
  const [host, port] = splitTarget(target);
  const started = performance.now();
  return new Promise((resolve) => {
    let received = '';
    const socket = net.connect({ host, port }, () => {
      if (bytes) socket.write(bytes);
    });
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ closed, ms: performance.now() - started, received });
    };
    const timer = setTimeout(() => done(false), limitMs);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => done(true));
    socket.on('error', () => undefined); // 'close' follows and settles it.
  });
}

export function splitTarget(target: string): [string, number] {
  const index = target.lastIndexOf(':');
  return [target.slice(0, index), Number(target.slice(index + 1))];
}

/** host:port of each live replica, as a direct caller reaches it. */
export function replicaTargets(stack: LocalStack): string[] {
  return stack.replicas().map((replica) => `${replica.address}:${replica.port}`);
}

/** Replicas Envoy ejected so far (outlier detection, enforced). */
export function ejections(stack: LocalStack): Promise<number> {
  return clusterStat(stack.adminUrl, 'grpc_server', 'outlier_detection.ejections_enforced_total');
}

/**
 * After every case: a normal call through Envoy and one straight to each replica succeed, every replica process
 * still runs (none crashed, none was restarted behind our back), and Envoy never had to be started again.
 */
export async function expectStillServing(stack: LocalStack, replicaCount: number): Promise<void> {
  const replicas = stack.replicas();
  expect(replicas, 'live replicas').toHaveLength(replicaCount);
  for (const replica of replicas) expect(replica.process.running, `${replica.name} still running`).toBe(true);
  expect(stack.envoyStatus().restarts, 'Envoy restarts').toBe(0);
  for (const target of [stack.envoyTarget, ...replicaTargets(stack)]) {
    const client = greeterClient(target);
    try {
      const outcome = await sayHello(client, 'still-here', 3000);
      expect(outcome.ok, `a normal call to ${target}: ${outcome.ok ? 'ok' : outcome.error.message}`).toBe(true);
    } finally {
      client.close();
    }
  }
}
