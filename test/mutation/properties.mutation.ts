// The property run of `npm run mutation` (vitest.mutation.config.ts; `npm test` does not pick
// this file up: test/harness/verify.test.ts already runs the catalog). Every property of the
// catalog with the CLI's default seed (42) and the quick budget's scenario shapes, the way
// `npm run verify -- --kernel K` searches, but without shrinking or canonicalizing a failure: a
// mutant is killed by the first failing run (endOnFailure), and shrinking would only cost time.
// Deterministic: the same seed draws the same scenarios and runScenario is deterministic, so a
// mutant is killed or survives the same way on every run.
//
// Stryker's instrumentation makes the emulator 8-20x slower (every expression checks which mutant
// is active; the byte loops of the image checks suffer most), and this file runs for every
// mutant the unit suites leave alive, so RUNS (below) is a fraction of the quick budget's 100.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { NO_BUGS } from '../../impl/faults.ts';
import { REVISIONS } from '../../impl/kernel/revision.ts';
import { PROPERTIES } from '../../properties/catalog.ts';
import { scenario } from '../../properties/generators.ts';
import { runScenario } from '../../harness/run.ts';
import { BUDGETS, genConfig } from '../../harness/verify.ts';

export const SEED = 42;
export const BUDGET = BUDGETS.quick;
/** Runs per property and revision. */
export const RUNS = Number(process.env.MUTATION_RUNS ?? 100);

// Cheapest first: with bail, a mutant killed early skips the rest (corrupt-images checksums
// whole images and is the slowest by far under instrumentation).
const ORDER = ['concurrency', 'td-preservation', 'update-contract', 'firmware-faults', 'corrupt-images'];
const properties = [...PROPERTIES].sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id));

for (const rev of REVISIONS.filter((r) => (process.env.MUTATION_REVS ?? 'seed,compat,upstream').split(',').includes(r.name))) {
  describe(`kernel ${rev.name}, budget ${BUDGET.name}, seed ${SEED}, ${RUNS} runs`, () => {
    for (const p of properties) {
      it(`${p.id} holds`, () => {
        const arb = scenario(genConfig(p, { seed: SEED, budget: BUDGET, rev, bugs: NO_BUGS }));
        fc.assert(
          fc.property(arb, (s) => {
            const v = runScenario(s, { rev, bugs: NO_BUGS }).violation;
            if (v) throw new Error(`${v.id} at step ${v.step}: ${v.message}`);
          }),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        );
      });
    }
  });
}
