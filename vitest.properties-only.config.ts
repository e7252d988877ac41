// The test selection of `npm run mutation:properties` (stryker.properties-only.config.mjs): the
// property catalog on every revision and nothing else (test/mutation/properties-only.catalog.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/mutation/properties-only.catalog.ts'],
    // A guard against a mutant that makes the emulator loop forever; Stryker's own timeout
    // (timeoutMS + timeoutFactor x the test's dry-run time) normally ends such a run first. One
    // property on one revision runs about a minute under Stryker's coverage instrumentation.
    testTimeout: 600_000,
  },
});
