import { derivePolicyConfig, envoyYamlPath, servedXdsConfig, type PolicyChoice } from '../envoy/index.js';
import { readFileSync } from 'node:fs';
import type { ServedConfig } from './resources.js';

/**
 * The name a proxyless client dials (xds:///grpc-server): the Compose service name, so the same word means the
 * replicas whichever way they are found. It is the listener the control plane serves to gRPC clients.
 */
export const PROXYLESS_TARGET_NAME = 'grpc-server';

/** What the control plane serves for a policy: envoy.yaml with the policy derived in, its cluster on EDS. */
export function servedConfigFor(policy: PolicyChoice): ServedConfig {
  return { ...servedXdsConfig(derivePolicyConfig(readFileSync(envoyYamlPath, 'utf8'), policy)), apiListenerName: PROXYLESS_TARGET_NAME };
}
