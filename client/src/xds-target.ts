/**
 * Proxyless gRPC: an `xds:///name` target is resolved by @grpc/grpc-js-xds against an xDS control plane (the kit's,
 * scripts/xds), which hands the channel the listener, routes, cluster and endpoints; the channel then balances over
 * the replicas itself, with no Envoy in the middle. The plugin is loaded only by a channel that needs it (it parses
 * the Envoy API's protos at load, about a second).
 */
import { createRequire } from 'node:module';
import type { ChannelOptions } from '@grpc/grpc-js';

/** True for a target the xDS resolver owns. */
export function isXdsTarget(target: string): boolean {
  return target.startsWith('xds:');
}

/**
 * grpc-js-xds's per-channel bootstrap. The documented GRPC_XDS_BOOTSTRAP(_CONFIG) variables are read once per process
 * and cached, so a long-lived caller (the lab, a test) could never follow a control plane that moved to another
 * port; this option gives each channel its own xDS client on the bootstrap it names. The programs still honour the
 * environment variables when no bootstrap is given.
 */
const BOOTSTRAP_OPTION = 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config';

let registered = false;

/** The channel options an xDS target needs: the resolver registered, and the bootstrap (JSON) if one is given. */
export function xdsChannelOptions(bootstrap: string | undefined): ChannelOptions {
  if (!registered) {
    (createRequire(import.meta.url)('@grpc/grpc-js-xds') as { register(): void }).register();
    registered = true;
  }
  return bootstrap === undefined ? {} : { [BOOTSTRAP_OPTION]: bootstrap };
}

/** Checks a bootstrap (JSON text) enough to name a mistake in one line; grpc-js-xds validates the rest. */
export function checkXdsBootstrap(bootstrap: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bootstrap);
  } catch {
    return 'the xDS bootstrap is not JSON';
  }
  const servers = (parsed as { xds_servers?: unknown } | null)?.xds_servers;
  if (!Array.isArray(servers) || servers.length === 0) return 'the xDS bootstrap names no xds_servers';
  return undefined;
}
