// `npm run mutation:properties`: what the properties alone catch (issue 14). The kernel update
// path (impl/kernel) is mutated and only the property catalog may kill a mutant: every property,
// corrupt images included, on every kernel revision, at the quick budget with seed 42
// (vitest.properties-only.config.ts, test/mutation/properties-only.catalog.ts). No unit test
// runs, so a surviving mutant is a change of the kernel no property notices.
// Everything else as in `npm run mutation` (stryker.config.mjs): static mutants ignored, the same
// timeouts and concurrency. Deterministic for the same reasons.
// Reports: reports/mutation-properties/{index.html,mutation.json,scores.md}. A full run takes
// hours on 2 cores, and Stryker writes its report only at the end, so every tested mutant is
// also written as it is tested (events/, Stryker's event recorder): `npx tsx
// test/mutation/scores.ts --properties-only --partial` scores a run that was stopped early.
// One file: `npx stryker run stryker.properties-only.config.mjs --mutate impl/kernel/seamldr.ts`.
import base from './stryker.config.mjs';

const DIR = 'reports/mutation-properties';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { ...base.vitest, configFile: 'vitest.properties-only.config.ts' },
  mutate: ['impl/kernel/**/*.ts'],
  htmlReporter: { fileName: `${DIR}/index.html` },
  jsonReporter: { fileName: `${DIR}/mutation.json` },
  reporters: [...base.reporters, 'event-recorder'],
  eventReporter: { baseDir: `${DIR}/events` },
};
