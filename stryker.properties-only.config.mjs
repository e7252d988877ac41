// `npm run mutation:properties`: what the properties alone catch (issue 14). The kernel update
// path (impl/kernel) is mutated and only the property catalog may kill a mutant: every property,
// corrupt images included, on every kernel revision, at the quick budget with seed 42
// (vitest.properties-only.config.ts, test/mutation/properties-only.catalog.ts). No unit test
// runs, so a surviving mutant is a change of the kernel no property notices.
// Everything else as in `npm run mutation` (stryker.config.mjs): static mutants ignored, the same
// concurrency; longer timeouts (below). Deterministic for the same reasons.
// Reports: reports/mutation-properties/{index.html,mutation.json,scores.md}. impl/kernel/csum.ts
// (the v1 blob checksum's loop) is mutated in a run of its own (stryker.properties-only-csum.config.mjs):
// Stryker instruments every mutated file in every test, and an instrumented loop over every word
// of every uploaded image made each test 10-15 times slower. Stryker writes its report only at
// the end, so every tested mutant is
// also written as it is tested (events/, Stryker's event recorder): `npx tsx
// test/mutation/scores.ts --properties-only --partial` scores a run that was stopped early.
// One file: `npx stryker run stryker.properties-only.config.mjs --mutate impl/kernel/seamldr.ts`.
import base from './stryker.config.mjs';

const DIR = 'reports/mutation-properties';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'vitest.properties-only.config.ts' },
  mutate: ['impl/kernel/**/*.ts', '!impl/kernel/csum.ts'],
  htmlReporter: { fileName: `${DIR}/index.html` },
  jsonReporter: { fileName: `${DIR}/mutation.json` },
  // Measured (README): a mutant that survives runs every test for 1.5-2 minutes here, longer than
  // the dry run (75 s) when the machine is busy, so the base config's timeout (5 s + 1.5 x the
  // dry run's time) ended some survivors as Timeout, which counts as detected. A mutant that
  // loops forever inside one function is still stopped early by Stryker's hit limit.
  timeoutMS: 60_000,
  timeoutFactor: 3,
  reporters: [...base.reporters, 'event-recorder'],
  eventReporter: { baseDir: `${DIR}/events` },
};
