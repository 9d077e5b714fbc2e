// `npm run setup:observability`: makes sure the Docker engine has the image the Compose profile `observability`
// runs Prometheus from. Where the official prom/prometheus image cannot be pulled (no registry: CI here), it builds
// a stand-in under the same tag from Debian's prometheus package; where the tag exists already it does nothing.
// Grafana has no Debian package and no stand-in: see docs/observability.md.
import { commandLine, messageOf } from '../cli/command-line.js';
import { composePrometheusImage, ensurePrometheusStandin } from './standin.js';

const PROGRAM = 'setup-observability';

commandLine(PROGRAM)
  .description("Build the Prometheus stand-in image (Debian's prometheus package, tagged as the official image) when the engine lacks it.")
  .parse();

try {
  const tag = composePrometheusImage();
  const done = await ensurePrometheusStandin(tag, (line) => console.log(`${PROGRAM}: ${line}`));
  console.log(`${PROGRAM}: ${tag} ${done === 'present' ? 'is present already; nothing to do' : 'built (a stand-in: Debian\'s Prometheus)'}`);
} catch (error) {
  console.error(`${PROGRAM}: ${messageOf(error)}`);
  process.exit(1);
}
