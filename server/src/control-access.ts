// Who may use a control API. It changes what a replica (or a whole local system) does, so only someone who holds
// its token may call it. A browser page on
// another origin (CSRF) or a DNS-rebinding host name can reach 127.0.0.N:8081 but cannot know the token. The token
// is the system's (CONTROL_TOKEN, which the local stack sets for every replica) or one the replica makes itself;
// either way the replica writes it to a file only its user can read, where greeterctl on the same machine (or in
// the same container) finds it.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Tokens as the config accepts them: long enough to guess never, short enough for an env var or a header. */
export const CONTROL_TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/;

/** A fresh random token (32 bytes, base64url). */
export function newControlToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Where the replica listening on host:port keeps its token: one file per control address, never shared. */
export function controlTokenFile(host: string, port: number): string {
  return path.join(tmpdir(), `greeter-control-${host.replace(/[^A-Za-z0-9.-]/g, '_')}-${port}.token`);
}

/** Writes the token for its owner alone (0600); returns a function that removes it again. */
export function publishControlToken(file: string, token: string): () => void {
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/** The token a file holds, or undefined when there is none to read. */
export function readControlToken(file: string): string | undefined {
  try {
    const token = readFileSync(file, 'utf8').trim();
    return CONTROL_TOKEN_PATTERN.test(token) ? token : undefined;
  } catch {
    return undefined;
  }
}

/** True when `presented` is the token, compared in constant time. */
export function tokenMatches(presented: string | undefined, token: string): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Why a control request may not be served (who sent it, not what it asks), or undefined when it may: it must carry
 * `Authorization: Bearer <token>`, a Host that is this server's own IP address or localhost with its port (a page
 * from another origin, or a rebinding DNS name, is refused), and for POST a JSON body.
 */
export function controlRequestRefusal(request: IncomingMessage, token: string): { status: number; error: string } | undefined {
  const host = request.headers.host ?? '';
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(host);
  const name = match?.[1]?.replace(/^\[|\]$/g, '') ?? '';
  if (!match || Number(match[2]) !== request.socket.localPort || (isIP(name) === 0 && name !== 'localhost')) {
    return { status: 403, error: `Host ${JSON.stringify(host)} is not this server's address and port` };
  }
  const presented = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (!tokenMatches(presented, token)) return { status: 401, error: 'missing or wrong control token' };
  if (request.method === 'POST' && !/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
    return { status: 415, error: 'POST bodies must be JSON (Content-Type: application/json)' };
  }
  return undefined;
}
