import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { once } from 'node:events';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SayHelloRequest } from '../../gen/greeter/v1/greeter.js';
import { control, killAllProcesses, startServer, type ServerProcess } from './server-process.js';

/*
 * Envoy decides retries (retry_on: unavailable, ...) and counts gRPC errors for outlier detection only
 * from a grpc-status in the response HEADERS. A status sent later, in trailers after response
 * headers, is invisible to both. These tests look at the raw HTTP/2 frames to prove errors leave
 * the server "trailers-only": grpc-status in the first and only HEADERS frame, which ends the stream.
 */

interface RawResponse {
  headers: IncomingHttpHeaders;
  /** True when the first HEADERS frame also carried END_STREAM (nothing may follow it). */
  headersEndedStream: boolean;
  trailers: IncomingHttpHeaders | undefined;
  body: Buffer;
}

/** A gRPC length-prefixed message: compressed flag 0, 4-byte big-endian length, protobuf bytes. */
function grpcFrame(name: string): Buffer {
  const message = SayHelloRequest.encode({ name }).finish();
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(0, 0);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

async function rawSayHello(session: ClientHttp2Session, name: string): Promise<RawResponse> {
  const stream = session.request({
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: '/greeter.v1.Greeter/SayHello',
    [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
    te: 'trailers',
  });
  const chunks: Buffer[] = [];
  let trailers: IncomingHttpHeaders | undefined;
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('trailers', (received: IncomingHttpHeaders) => (trailers = received));
  const response = once(stream, 'response') as Promise<[IncomingHttpHeaders, number]>;
  const closed = once(stream, 'close');
  stream.end(grpcFrame(name));
  const [headers, flags] = await response;
  await closed;
  return {
    headers,
    headersEndedStream: (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0,
    trailers,
    body: Buffer.concat(chunks),
  };
}

describe('errors are trailers-only at the HTTP/2 level', () => {
  let server: ServerProcess;
  let session: ClientHttp2Session;

  beforeAll(async () => {
    server = await startServer();
    session = connect(`http://${server.grpcAddress}`);
    await once(session, 'connect');
  });

  afterAll(async () => {
    session?.close();
    await killAllProcesses();
  });

  it('a success carries grpc-status only in trailers (the contrast that shows the check can tell)', async () => {
    const response = await rawSayHello(session, 'lab');
    expect(response.headers[':status']).toBe(200);
    expect(response.headers['grpc-status']).toBeUndefined();
    expect(response.headersEndedStream).toBe(false);
    expect(response.body.length).toBeGreaterThan(5);
    expect(response.trailers?.['grpc-status']).toBe('0');
  });

  it('INVALID_ARGUMENT for a bad name: grpc-status in the first HEADERS frame, no trailers, no body', async () => {
    const response = await rawSayHello(session, 'x'.repeat(300));
    expect(response.headers[':status']).toBe(200);
    expect(response.headers['content-type']).toBe('application/grpc+proto');
    expect(response.headers['grpc-status']).toBe(String(status.INVALID_ARGUMENT));
    expect(decodeURIComponent(String(response.headers['grpc-message']))).toBe('name must be 1-64 characters, got 300');
    expect(response.headersEndedStream).toBe(true);
    expect(response.trailers).toBeUndefined();
    expect(response.body.length).toBe(0);
  });

  it('an injected UNAVAILABLE: grpc-status in the first HEADERS frame, no trailers, no body', async () => {
    await control(server.controlPort, 'POST', '/state', '{"failRate":1,"failCode":"UNAVAILABLE"}');
    try {
      const response = await rawSayHello(session, 'lab');
      expect(response.headers['grpc-status']).toBe(String(status.UNAVAILABLE));
      expect(response.headersEndedStream).toBe(true);
      expect(response.trailers).toBeUndefined();
      expect(response.body.length).toBe(0);
    } finally {
      await control(server.controlPort, 'POST', '/reset');
    }
  });

  it('an injected failure after injected latency is still trailers-only', async () => {
    await control(server.controlPort, 'POST', '/state', '{"failRate":1,"failCode":"INTERNAL","latencyMs":50}');
    try {
      const response = await rawSayHello(session, 'lab');
      expect(response.headers['grpc-status']).toBe(String(status.INTERNAL));
      expect(response.headersEndedStream).toBe(true);
      expect(response.trailers).toBeUndefined();
    } finally {
      await control(server.controlPort, 'POST', '/reset');
    }
  });
});
