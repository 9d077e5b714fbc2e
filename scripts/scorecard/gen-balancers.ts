// `npm run gen:balancers`: writes balancers/envoy-l4.yaml, the scorecard's Envoy at L4, derived from envoy.yaml
// (deriveL4EnvoyConfig). Run it after changing envoy.yaml; test/static/balancer-configs.test.ts fails until then.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandLine } from '../cli/command-line.js';
import { deriveL4EnvoyConfig, envoyYamlPath, projectRoot } from '../envoy/index.js';
import { CONFIG_FILES } from './balancer-configs.js';

commandLine('gen:balancers').description('write balancers/envoy-l4.yaml, derived from envoy.yaml').parse();
writeFileSync(CONFIG_FILES['envoy-l4'], deriveL4EnvoyConfig(readFileSync(envoyYamlPath, 'utf8')));
console.log(`gen:balancers: wrote ${path.relative(projectRoot, CONFIG_FILES['envoy-l4'])}`);
