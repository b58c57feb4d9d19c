import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Playwright specs live in e2e/ and must not be picked up here.
    include: ['src/**/*.test.{ts,tsx}', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // the CLI tests run the compiled CLI (bin/fusion-cam.js → lib/): rebuilt here when stale
    globalSetup: ['scripts/vitest-lib-setup.mjs'],
    // TF.js's 'looks like you are running TensorFlow.js in Node.js' banner, once per test file
    setupFiles: ['src/test-utils/quietTfjs.ts'],
  },
});
