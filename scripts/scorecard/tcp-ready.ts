// Waiting until a balancer accepts connections, with a deadline (never a bare sleep for a condition).
import net from 'node:net';
import { pollUntil, PollAborted } from '../stack/index.js';

/** Resolves true when a TCP connection to host:port is accepted within timeoutMs (false on any error). */
export function accepts(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls until `target` (host:port) accepts connections; `alive` says why waiting longer cannot help. */
export async function waitAccepting(what: string, target: string, alive: () => string | undefined, timeoutMs = 20_000): Promise<void> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  await pollUntil(
    `${what} to accept connections on ${target}`,
    async () => {
      const dead = alive();
      if (dead !== undefined) throw new PollAborted(`${what} stopped: ${dead}`);
      return accepts(host, port);
    },
    { timeoutMs, intervalMs: 100 },
  );
}
