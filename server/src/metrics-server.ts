import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** Creates (without listening) the HTTP server Prometheus scrapes: GET /metrics in the text exposition format. */
export function createMetricsServer(registry: Registry): Server {
  return createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://metrics').pathname;
    if (path !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('no such path; Prometheus metrics are at GET /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('use GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => response.writeHead(500, { 'Content-Type': 'text/plain' }).end(`cannot render metrics: ${String(error)}\n`),
    );
  });
}
