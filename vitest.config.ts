import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
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
