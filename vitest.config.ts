import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/tmp_root.ts'],
    // Property suites run thousands of emulated scenarios; no per-test wall-clock limit is a
    // statement about speed (that is `npm run bench`), only a guard against a hang.
    testTimeout: 120_000,
  },
});
