import { request as httpRequest } from 'node:http';
import { controlTokenFile, readControlToken } from './control-access.js';
import type { FaultPatch, FaultStateView } from './fault-state.js';
import { joinHostPort } from './host-port.js';

// The control API answers from memory; a slow answer means the wrong port or a wedged server.
const REQUEST_TIMEOUT_MS = 5000;

/** A failed control request; the message is one line for the user. */
export class ControlRequestError extends Error {
  override name = 'ControlRequestError';
}

/**
 * Talks to one replica's HTTP control API.
 *
 * node:http rather than fetch: fetch refuses "bad ports" (1, 6000, 6665...) that a user may well pick.
 */
export class ControlClient {
  private readonly address: string;

  /**
   * `token`: the replica's control token; left out, the token file the replica wrote for host:port on this machine
   * (control-access.ts) is read at each request.
   */
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly token?: string,
  ) {
    this.address = `http://${joinHostPort(host, port)}`;
  }

  /** GET /state. */
  getState(): Promise<FaultStateView> {
    return this.send('GET', '/state');
  }

  /** POST /state with a partial patch; resolves to the new full state. */
  update(patch: FaultPatch): Promise<FaultStateView> {
    return this.send('POST', '/state', patch);
  }

  /** POST /reset. */
  reset(): Promise<FaultStateView> {
    return this.send('POST', '/reset', {});
  }

  private async send(method: string, path: string, body?: unknown): Promise<FaultStateView> {
    const token = this.token ?? readControlToken(controlTokenFile(this.host, this.port));
    const { statusCode, text } = await this.exchange(method, path, token, body === undefined ? undefined : JSON.stringify(body));
    if (statusCode === 401 && token === undefined) {
      const file = controlTokenFile(this.host, this.port);
      throw new ControlRequestError(`${this.address} wants its control token: give --token (or CONTROL_TOKEN), or run where ${file} is readable`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ControlRequestError(`${method} ${path} at ${this.address} answered ${statusCode} with a non-JSON body`);
    }
    if (statusCode !== 200) {
      const error = (parsed as { error?: unknown } | null)?.error;
      const reason = typeof error === 'string' ? error : text;
      throw new ControlRequestError(`${method} ${path} rejected (${statusCode}): ${oneLine(reason)}`);
    }
    return parsed as FaultStateView;
  }

  private exchange(
    method: string,
    path: string,
    token: string | undefined,
    body: string | undefined,
  ): Promise<{ statusCode: number; text: string }> {
    return new Promise((resolve, reject) => {
      const headers = {
        ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }),
      };
      const request = httpRequest({ host: this.host, port: this.port, method, path, headers, timeout: REQUEST_TIMEOUT_MS });
      const unreachable = (reason: string): void =>
        reject(new ControlRequestError(`cannot reach control API at ${this.address}: ${oneLine(reason)}`));
      request.on('timeout', () => {
        request.destroy();
        unreachable(`no answer within ${REQUEST_TIMEOUT_MS}ms`);
      });
      request.on('error', (error: NodeJS.ErrnoException) => unreachable(error.message || error.code || 'connection failed'));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => unreachable(error.message));
        response.on('end', () => resolve({ statusCode: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      request.end(body);
    });
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
