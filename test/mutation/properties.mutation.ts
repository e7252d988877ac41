// The property run of `npm run mutation` (vitest.mutation.config.ts; `npm test` does not pick this
// file up: it duplicates test/harness/verify.test.ts's catalog runs). Every property of the catalog
// at the quick budget and the CLI's default seed (42), on every emulated kernel revision, the way
// `npm run verify -- --kernel K` searches, but without shrinking or canonicalizing a failure:
// a mutant is killed by the first failing run (endOnFailure), and shrinking it would only cost
// time. Deterministic: the same seed draws the same scenarios, and runScenario is deterministic,
// so a mutant is killed or survives the same way on every run.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { NO_BUGS } from '../../impl/faults.ts';
import { REVISIONS } from '../../impl/kernel/revision.ts';
import { PROPERTIES } from '../../properties/catalog.ts';
import { scenario } from '../../properties/generators.ts';
import { runScenario } from '../../harness/run.ts';
import { BUDGETS, genConfig } from '../../harness/verify.ts';

const SEED = 42;
const budget = BUDGETS.quick;

for (const rev of REVISIONS) {
  describe(`kernel ${rev.name}, budget ${budget.name}, seed ${SEED}`, () => {
    for (const p of PROPERTIES) {
      it(`${p.id} holds`, () => {
        const arb = scenario(genConfig(p, { seed: SEED, budget, rev, bugs: NO_BUGS }));
        fc.assert(
          fc.property(arb, (s) => {
            const v = runScenario(s, { rev, bugs: NO_BUGS }).violation;
            if (v) throw new Error(`${v.id} at step ${v.step}: ${v.message}`);
          }),
          { seed: SEED, numRuns: budget.numRuns, endOnFailure: true },
        );
      });
    }
  });
}
