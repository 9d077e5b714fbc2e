// `npm run derive:envoy`: writes the Envoy configs of the Swarm stack and the Kubernetes manifests, derived from
// envoy.yaml (only names and addresses change). `--check` writes nothing and exits 1 when a committed file differs
// from today's derivation, saying which.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandLine, messageOf } from '../cli/command-line.js';
import { DEPLOY_ENVOY_CONFIGS } from './deploy-configs.js';
import { envoyYamlPath, projectRoot } from './paths.js';

const PROGRAM = 'derive-envoy';
const program = commandLine(PROGRAM)
  .description(`Write ${DEPLOY_ENVOY_CONFIGS.map((c) => c.file).join(' and ')} from envoy.yaml.`)
  .option('--check', 'write nothing; exit 1 if a committed file is not what envoy.yaml derives today');
program.parse();
const { check = false } = program.opts<{ check?: boolean }>();

try {
  const base = readFileSync(envoyYamlPath, 'utf8');
  let stale = 0;
  for (const config of DEPLOY_ENVOY_CONFIGS) {
    const file = path.join(projectRoot, config.file);
    const derived = config.derive(base);
    const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (current === derived) {
      console.log(`${PROGRAM}: ${config.file} is up to date (${config.orchestrator})`);
    } else if (check) {
      stale += 1;
      console.error(`${PROGRAM}: ${config.file} is stale: run \`npm run derive:envoy\` and commit it`);
    } else {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, derived);
      console.log(`${PROGRAM}: wrote ${config.file} (${config.orchestrator})`);
    }
  }
  process.exit(stale > 0 ? 1 : 0);
} catch (error) {
  console.error(`${PROGRAM}: ${messageOf(error)}`);
  process.exit(1);
}
