// envoy-xds.yaml: the Envoy config docker-compose.xds.yml mounts, derived from envoy.yaml (deriveXdsEnvoyConfig) for
// a control plane at host.docker.internal:18000, which `npm run xds` serves. Written by `npm run gen:xds`;
// test/static/xds-config.test.ts fails while it is stale.
import path from 'node:path';
import { deriveXdsEnvoyConfig, projectRoot } from '../envoy/index.js';
import { DEFAULT_ADS_PORT, HOST_GATEWAY_NAME } from './control-plane-state.js';

export const ENVOY_XDS_FILE = path.join(projectRoot, 'envoy-xds.yaml');

/** The file's text for a given envoy.yaml. */
export function envoyXdsYaml(envoyYaml: string): string {
  return deriveXdsEnvoyConfig(envoyYaml, { controlPlaneAddress: HOST_GATEWAY_NAME, controlPlanePort: DEFAULT_ADS_PORT, nodeId: 'envoy-compose' });
}
