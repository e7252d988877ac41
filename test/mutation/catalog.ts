// The property catalog as vitest tests, for the mutation runs: each (revision, property) pair is
// one test that searches the way `npm run verify` does (the CLI's default seed, the budget's runs
// and scenario lengths), without a time limit, shrinking or canonicalizing. A time limit would
// make the number of runs, and so the verdict on a mutant, depend on the machine's load; a
// mutant is killed by the first failing run (endOnFailure), and shrinking would only cost time.
// Deterministic: the same seed draws the same scenarios and runScenario is deterministic, so a
// mutant is killed or survives the same way on every run.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { NO_BUGS } from '../../impl/faults.ts';
import type { RevisionRecord } from '../../properties/revisions/index.ts';
import { PROPERTIES } from '../../properties/catalog.ts';
import { scenario } from '../../properties/generators.ts';
import { runScenario } from '../../harness/run.ts';
import { BUDGETS, genConfig } from '../../harness/verify.ts';

const SEED = 42;
const BUDGET = BUDGETS.quick;

/**
 * One describe per property, in the order given, one test per revision in it: cheapest
 * property first, since Stryker stops at a mutant's first failing test.
 */
export function catalogSuite(revisions: readonly RevisionRecord[], ids: readonly string[]): void {
  for (const id of ids) {
    const p = PROPERTIES.find((q) => q.id === id);
    if (!p) throw new Error(`no property ${id} in the catalog`);
    describe(`${p.id}, budget ${BUDGET.name}, seed ${SEED}`, () => {
      for (const revision of revisions) {
        it(`holds on kernel ${revision.name}`, () => {
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
  }
}
