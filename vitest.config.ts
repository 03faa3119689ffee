import { defineConfig } from 'vitest/config';

// Two projects: fast pure/unit specs that sit beside the code, and integration
// tests under test/ that talk to real parts (kernel binfmt_misc, dockerd, polkit, Chromium).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['shared/**/*.spec.ts', 'electron/**/*.spec.ts', 'renderer/**/*.spec.{ts,tsx}', 'scripts/**/*.spec.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Integration suites share machine-wide state (host binfmt_misc, dockerd, polkit):
          // run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
