/** host:port, with IPv6 literals in brackets (as gRPC targets and URLs need them). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
