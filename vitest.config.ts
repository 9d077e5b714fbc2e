import { defineConfig } from 'vitest/config';
import { dockerEngineStatus } from './test/helpers/docker-engine.js';
import { findGrpcurl } from './test/helpers/grpcurl.js';

// Two suites need what npm ci cannot install. The Compose tests run a real Docker engine; the grpcurl tests the real
// grpcurl (`npm run setup:grpcurl`, with Go). Where one is missing its tests are left out with one line saying why,
// unless REQUIRE_DOCKER=1 / REQUIRE_GRPCURL=1 (CI sets both): then it fails the run, as a missing Envoy always does.
const engine = await dockerEngineStatus();
if (!engine.available && process.env.REQUIRE_DOCKER === '1') {
  throw new Error(`REQUIRE_DOCKER=1 but ${engine.reason}`);
}
console.log(
  engine.available
    ? `Compose tests (test/compose/) run on Docker ${engine.versions}`
    : `Compose tests (test/compose/) skipped: ${engine.reason} (set REQUIRE_DOCKER=1 to make that an error)`,
);
const grpcurl = findGrpcurl();
if (!grpcurl && process.env.REQUIRE_GRPCURL === '1') {
  throw new Error('REQUIRE_GRPCURL=1 but no grpcurl was found (npm run setup:grpcurl installs it)');
}
const GRPCURL_TESTS = 'test/hostile/grpcurl.test.ts';
console.log(
  grpcurl
    ? `grpcurl tests (${GRPCURL_TESTS}) use ${grpcurl}`
    : `grpcurl tests (${GRPCURL_TESTS}) skipped: no grpcurl; \`npm run setup:grpcurl\` installs it (set REQUIRE_GRPCURL=1 to make that an error)`,
);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...(engine.available ? [] : ['test/compose/**']), ...(grpcurl ? [] : [GRPCURL_TESTS])],
    globalSetup: ['test/helpers/global-setup.ts'],
    // The integration tests measure timing on a 2-core machine with real Envoy and replica processes:
    // one file at a time keeps those measurements honest and the run stable.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // A focused test left in by mistake must fail CI, not silently shrink the suite.
    allowOnly: false,
    reporters: ['default'],
  },
});
