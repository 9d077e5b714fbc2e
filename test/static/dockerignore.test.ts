// The build context both images are built from (the repo root) must carry what the Dockerfiles COPY and nothing
// from the host that would leak into an image or make it depend on the host: node_modules, dist, the local Envoy,
// test output, git history. No engine here to build with, so the .dockerignore rules are evaluated directly.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../../scripts/envoy/paths.js';
import { readDockerfile } from './dockerfile-facts.js';
import { isIgnored, readDockerignore } from './dockerignore-rules.js';

const rules = readDockerignore(readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8'));

/** The Dockerfiles docker-compose.yml builds, as repo-relative paths. */
function composeDockerfiles(): string[] {
  const compose = parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { build?: { context?: string; dockerfile?: string } }>;
  };
  return Object.values(compose.services)
    .filter((definition) => definition.build !== undefined)
    .map((definition) => {
      expect(definition.build?.context, 'every image is built from the repo root').toBe('.');
      return definition.build?.dockerfile ?? 'Dockerfile';
    });
}

describe('.dockerignore', () => {
  it('keeps what the images need', () => {
    const needed = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'gen/greeter/v1/greeter.ts',
      'protos/greeter/v1/greeter.proto',
      'server/src/main.ts',
      'client/src/main.ts',
    ];
    for (const file of needed) expect(isIgnored(rules, file), `${file} is left out of the build context`).toBe(false);
  });

  it('keeps every path the Dockerfiles COPY from the context', () => {
    const dockerfiles = composeDockerfiles();
    expect(dockerfiles.length).toBeGreaterThan(0);
    for (const dockerfile of dockerfiles) {
      const file = path.join(projectRoot, dockerfile);
      expect(existsSync(file), `${dockerfile} does not exist`).toBe(true);
      const { contextSources } = readDockerfile(readFileSync(file, 'utf8'));
      for (const source of contextSources.filter((candidate) => !/[*?[]/.test(candidate))) {
        expect(isIgnored(rules, source), `${dockerfile} copies ${source}, which .dockerignore leaves out`).toBe(false);
      }
    }
  });

  it('leaves out host-built and host-only files, also inside the folders the images need', () => {
    const leftOut = [
      'node_modules/yaml/package.json',
      'server/node_modules/x/index.js',
      'dist/server/src/main.js',
      'server/dist/main.js',
      '.envoy/1.40.0/envoy/_bin/envoy',
      '.lab/report.json',
      '.git/HEAD',
      'coverage/index.html',
      'test/static/compose-contract.test.ts',
      'server/src/config.test.ts',
      'README.md',
      'server/README.md',
      '.env',
      'docker-compose.yml',
      'envoy.yaml',
      'scripts/stack/start.ts',
    ];
    for (const file of leftOut) expect(isIgnored(rules, file), `${file} would be sent to the builder`).toBe(true);
  });

  it('follows Docker matching: last rule wins, folders cover their contents, ** spans folders', () => {
    const sample = readDockerignore('*\n!keep/\n**/secret\n# comment\n/keep/drop.txt\n');
    expect(isIgnored(sample, 'anything.txt')).toBe(true);
    expect(isIgnored(sample, 'keep/a/b.ts')).toBe(false);
    expect(isIgnored(sample, 'keep/a/secret/key')).toBe(true);
    expect(isIgnored(sample, 'keep/drop.txt')).toBe(true);
  });
});
