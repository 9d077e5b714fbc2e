import { requireEnvoy, type EnvoyBinary } from '../../scripts/envoy/binary.js';

let found: Promise<EnvoyBinary> | undefined;

/**
 * The Envoy binary the integration tests run. It is found or installed (npm run setup:envoy) and never skipped:
 * when none can be had, the calling test fails with the reason, in CI and locally alike.
 */
export function envoyForTests(): Promise<EnvoyBinary> {
  found ??= requireEnvoy();
  return found;
}
