import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration suites share two real Kafka clusters and one S3Proxy; running files one at a time
    // keeps a 2-core machine from starving the brokers.
    fileParallelism: false,
  },
});
