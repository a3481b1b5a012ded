import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real worker threads and servers; two files at a time suit 2 cores.
    maxWorkers: 2,
    // dist/ is built once for the CLI's end-to-end tests (tests/helpers/build-once.ts).
    globalSetup: ['tests/helpers/build-once.ts'],
  },
});
