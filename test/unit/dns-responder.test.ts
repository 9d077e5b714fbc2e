// The Docker-DNS stand-in, asked by a real DNS client (node's c-ares resolver, the same library Envoy uses).
import { Resolver } from 'node:dns/promises';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { DnsResponder } from '../../scripts/stack/dns-responder.js';

let responder: DnsResponder;
let resolver: Resolver;

beforeEach(async () => {
  responder = new DnsResponder('grpc-server');
  const port = await responder.listen('127.0.0.1', 0);
  resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
});

afterEach(async () => {
  await responder.close();
});

test('answers the service name with one A record per live replica, and follows changes at once', async () => {
  responder.setAddresses(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
  expect((await resolver.resolve4('grpc-server')).sort()).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
  responder.setAddresses(['127.0.0.3']);
  expect(await resolver.resolve4('GRPC-SERVER')).toEqual(['127.0.0.3']);
  expect(responder.queries).toBe(2);
});

test('no live replica is NXDOMAIN, as with Docker', async () => {
  responder.setAddresses([]);
  await expect(resolver.resolve4('grpc-server')).rejects.toMatchObject({ code: 'ENOTFOUND' });
});

test('other names are NXDOMAIN and AAAA has no data', async () => {
  responder.setAddresses(['127.0.0.2']);
  await expect(resolver.resolve4('envoy')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  await expect(resolver.resolve6('grpc-server')).rejects.toMatchObject({ code: 'ENODATA' });
});
