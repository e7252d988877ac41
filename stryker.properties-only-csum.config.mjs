// The second run of `npm run mutation:properties`: impl/kernel/csum.ts alone, with the same tests
// and options (stryker.properties-only.config.mjs says why it is apart). Reports:
// reports/mutation-properties-csum/; test/mutation/scores.ts adds both runs up.
import base from './stryker.properties-only.config.mjs';

const DIR = 'reports/mutation-properties-csum';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  mutate: ['impl/kernel/csum.ts'],
  htmlReporter: { fileName: `${DIR}/index.html` },
  jsonReporter: { fileName: `${DIR}/mutation.json` },
  eventReporter: { baseDir: `${DIR}/events` },
};
