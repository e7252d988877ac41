// The property run of `npm run mutation` (vitest.mutation.config.ts; `npm test` does not pick
// this file up: test/harness/verify.test.ts already runs the catalog). The catalog's properties
// on the seed kernel with the CLI's default seed (42) and the quick budget (100 runs each, the
// quick scenario lengths), the way `npm run verify` searches, but without shrinking or
// canonicalizing a failure: a mutant is killed by the first failing run (endOnFailure), and
// shrinking would only cost time. Deterministic: the same seed draws the same scenarios and
// runScenario is deterministic, so a mutant is killed or survives the same way on every run.
//
// Scope, measured (README "Mutation score"): Stryker's instrumentation makes the emulator 8-20x
// slower, and this file runs for every mutant the unit suites leave alive, so it
// costs most of the run. Left out: corrupt-images (2/3 of this file's instrumented time, because
// it checksums whole images byte by byte; it killed none of the unit suites' survivors, and
// test/properties/image_spec.test.ts checks every image check case by case) and the compat and
// upstream revisions (their switches are covered by test/impl/kernel/switches.test.ts and the
// revision tests).
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { NO_BUGS } from '../../impl/faults.ts';
import { V2 } from '../../properties/revisions/index.ts';
import { PROPERTIES } from '../../properties/catalog.ts';
import { scenario } from '../../properties/generators.ts';
import { runScenario } from '../../harness/run.ts';
import { BUDGETS, genConfig } from '../../harness/verify.ts';

const SEED = 42;
const BUDGET = BUDGETS.quick;
// Cheapest first: with bail, a mutant killed early skips the rest.
const ORDER = ['concurrency', 'td-preservation', 'update-contract', 'firmware-faults'];

const revision = V2;
const properties = ORDER.map((id) => PROPERTIES.find((p) => p.id === id)!);

describe(`kernel ${revision.name}, budget ${BUDGET.name}, seed ${SEED}`, () => {
  for (const p of properties) {
    it(`${p.id} holds`, () => {
      const arb = scenario(genConfig(p, { seed: SEED, budget: BUDGET, revision, bugs: NO_BUGS }));
      fc.assert(
        fc.property(arb, (s) => {
          const v = runScenario(s, { revision, bugs: NO_BUGS }).violation;
          if (v) throw new Error(`${v.id} at step ${v.step}: ${v.message}`);
        }),
        { seed: SEED, numRuns: BUDGET.numRuns, endOnFailure: true },
      );
    });
  }
});
