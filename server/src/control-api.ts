import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { controlRequestRefusal } from './control-access.js';
import { FaultConflictError, FaultPatchError, parseFaultPatch, type FaultState } from './fault-state.js';

// A fault patch is a few dozen bytes; anything this large is a mistake or abuse, not a patch.
const MAX_BODY_BYTES = 16 * 1024;

const ROUTES: Record<string, readonly string[]> = { '/state': ['GET', 'POST'], '/reset': ['POST'] };

/**
 * Creates (without listening) the HTTP/1.1 JSON control API: GET/POST /state, POST /reset. Every request must carry
 * `Authorization: Bearer <token>` and a Host that is this server's own IP address or localhost with its port (a page
 * from another origin, or a rebinding DNS name, is refused), and every POST a JSON body.
 */
export function createControlServer(faults: FaultState, token: string): Server {
  return createServer((request, response) => {
    const refusal = controlRequestRefusal(request, token);
    if (refusal) {
      sendJson(response, refusal.status, { error: refusal.error });
      return;
    }
    handle(faults, request, response).catch((error: unknown) => {
      sendJson(response, 500, { error: `internal error: ${error instanceof Error ? error.message : String(error)}` });
    });
  });
}

async function handle(faults: FaultState, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://control').pathname;
  const method = request.method ?? 'GET';
  const allowed = ROUTES[path];
  if (allowed === undefined) {
    sendJson(response, 404, { error: `no such path ${path}; use GET /state, POST /state or POST /reset` });
    return;
  }
  if (!allowed.includes(method)) {
    response.setHeader('Allow', allowed.join(', '));
    sendJson(response, 405, { error: `${method} is not allowed on ${path}; use ${allowed.join(' or ')}` });
    return;
  }
  if (path === '/reset') {
    sendJson(response, 200, faults.reset());
    return;
  }
  if (method === 'GET') {
    sendJson(response, 200, faults.get());
    return;
  }

  const body = await readBody(request);
  if (body === undefined) {
    sendJson(response, 413, { error: `body larger than ${MAX_BODY_BYTES} bytes` });
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    // V8 may quote the offending input, newlines included; the error must stay one line.
    const reason = (error as Error).message.replace(/\s+/g, ' ');
    sendJson(response, 400, { error: `body is not valid JSON: ${reason}` });
    return;
  }
  try {
    sendJson(response, 200, faults.update(parseFaultPatch(parsed)));
  } catch (error) {
    if (error instanceof FaultPatchError) sendJson(response, 400, { error: error.message });
    else if (error instanceof FaultConflictError) sendJson(response, 409, { error: error.message });
    else throw error;
  }
}

// Resolves to undefined when the body exceeds MAX_BODY_BYTES.
function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, statusCode: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(statusCode, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}
