import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Browser and kill -9 tests start real processes; two cores do not gain from more workers.
    maxWorkers: 2,
  },
});
