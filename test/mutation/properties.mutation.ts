// The property run of `npm run mutation` (vitest.mutation.config.ts; `npm test` does not pick
// this file up: test/harness/verify.test.ts already runs the catalog). The catalog's properties
// on the seed kernel at the quick budget with seed 42 (test/mutation/catalog.ts).
//
// Scope, measured (README "Mutation score"): Stryker's instrumentation makes the emulator 8-20x
// slower, and this file runs for every mutant the unit suites leave alive, so it
// costs most of the run. Left out: corrupt-images (2/3 of this file's instrumented time, because
// it checksums whole images byte by byte; it killed none of the unit suites' survivors, and
// test/properties/image_spec.test.ts checks every image check case by case) and the compat and
// upstream revisions (their switches are covered by test/impl/kernel/switches.test.ts and the
// revision tests). `npm run mutation:properties` runs the whole catalog on every revision.
import { V2 } from '../../properties/revisions/index.ts';
import { catalogSuite } from './catalog.ts';

catalogSuite([V2], ['concurrency', 'td-preservation', 'update-contract', 'firmware-faults']);
