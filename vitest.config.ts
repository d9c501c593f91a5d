import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for something another process does (a page redrawn after a socket event,
    // an event relayed through Redis): vitest's default of 1 s is a round trip of a busy 2-core
    // machine running two test files, their browsers and app instances. A condition that never
    // holds still fails, after 5 s.
    expect: { poll: { timeout: 5_000 } },
    projects: [
      {
        extends: true,
        test: {
          name: 'app',
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'tests/simulation/**'],
          // Browser and kill -9 tests start real processes; two cores do not gain from more workers.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The shortened conference day (bench/conference-day.ts --quick) starts its own apps, store,
        // Redis and watcher processes: it runs alone, after every other test file has finished.
        extends: true,
        test: {
          name: 'simulation',
          include: ['tests/simulation/**/*.test.ts'],
          maxWorkers: 1,
          testTimeout: 900_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
