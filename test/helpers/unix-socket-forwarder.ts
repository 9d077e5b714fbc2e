// What `socat TCP-LISTEN:9901,bind=127.0.0.1,fork UNIX-CONNECT:<socket>` does, for the tests: Envoy's admin socket
// on the Swarm manager, offered on this host's loopback, so the kit's admin reader (an http:// URL) reads it.
import net from 'node:net';

export interface LoopbackForwarder {
  /** http://127.0.0.1:<port>, answered by whatever listens on the socket. */
  url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (a free port) and pipes every connection to the unix socket at `socketPath`. */
export function forwardLoopbackToUnixSocket(socketPath: string): Promise<LoopbackForwarder> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(socketPath);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            for (const socket of open) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
