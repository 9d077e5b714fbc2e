// `npm run gen:xds`: writes envoy-xds.yaml (Compose's Envoy under push discovery), derived from envoy.yaml. Run it
// after changing envoy.yaml; test/static/xds-config.test.ts fails until then.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandLine } from '../cli/command-line.js';
import { envoyYamlPath, projectRoot } from '../envoy/index.js';
import { ENVOY_XDS_FILE, envoyXdsYaml } from './envoy-xds-file.js';

commandLine('gen:xds').description('write envoy-xds.yaml, derived from envoy.yaml').parse();
writeFileSync(ENVOY_XDS_FILE, envoyXdsYaml(readFileSync(envoyYamlPath, 'utf8')));
console.log(`gen:xds: wrote ${path.relative(projectRoot, ENVOY_XDS_FILE)}`);
