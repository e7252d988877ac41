// The file order of the mutation runs (vitest.mutation.config.ts). Stryker runs the tests that
// cover a mutant in one vitest worker and stops at the first failure (bail), so the cheap unit
// suites go first and the property catalog last: a mutant a unit test kills never pays for the
// property run. Vitest's own order (slowest and last-failed first) would do the opposite and
// would change from run to run.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const ORDER = ['test/impl/', 'test/properties/', 'test/scenarios/', 'test/mutation/'];

function rank(file: string): number {
  const i = ORDER.findIndex((d) => file.replace(/\\/g, '/').includes('/' + d));
  return i < 0 ? ORDER.length : i;
}

export default class MutationSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => rank(a.moduleId) - rank(b.moduleId) || (a.moduleId < b.moduleId ? -1 : a.moduleId > b.moduleId ? 1 : 0));
  }
}
