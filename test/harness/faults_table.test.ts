import { afterAll, describe, expect, it } from 'vitest';
import { SEEDED_BUGS } from '../../impl/faults.ts';
import { checkFault, faultsMarkdown, faultsTable } from '../../harness/faults_table.ts';
import { BUDGETS } from '../../harness/verify.ts';
import { INVARIANTS, TERMINATION } from '../../properties/invariants.ts';

const fired = new Set<string>();
let rows = 0;

describe('every catalog fault is caught within the ci budget, on the revision it lived in', () => {
  for (const bug of SEEDED_BUGS) {
    it(`${bug.catalogId} ${bug.name} (${bug.kernel})`, async () => {
      const row = await checkFault(bug, 42, BUDGETS.ci);
      expect(row.detected).toBe(true);
      expect(row.shrunkLength!).toBeLessThanOrEqual(bug.minimalLength + 2);
      expect(row.invariant).not.toBeNull();
      expect(row.checksFired[0]).toBe(row.invariant);
      for (const id of row.checksFired) fired.add(id);
      rows++;
    });
  }
  // An invariant no seeded fault can fire proves nothing (issue 10): each fires on some
  // fault's counterexample, and so do the checks against the model.
  afterAll(() => {
    if (rows < SEEDED_BUGS.length) return; // a filtered run (-t) sees only some faults
    const catalog = [...INVARIANTS.map((i) => i.id), TERMINATION.id, 'result', 'linearizability', 'refinement'];
    expect(catalog.filter((id) => !fired.has(id))).toEqual([]);
  });
});

describe('the faults table', () => {
  it('has a row per fault with every column', async () => {
    const row = await checkFault(SEEDED_BUGS[0], 42, BUDGETS.quick);
    expect(faultsTable([row])[1]).toMatch(/ack-before-fail\s+B2\s+v2\s+yes\s+I-5\s.*\sI-5$/);
    expect(faultsMarkdown([row]).split('\n')[2]).toMatch(/^\| ack-before-fail \| B2 \| v2 \| yes \| I-5 \|.* \| I-5 \|$/);
  });
});
