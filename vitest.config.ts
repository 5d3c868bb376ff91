import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests each start servers on port 0 with their own temp dirs, so files can run in parallel.
    pool: 'forks',
  },
});
