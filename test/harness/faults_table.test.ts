import { describe, expect, it } from 'vitest';
import { SEEDED_BUGS } from '../../impl/faults.ts';
import { checkFault, faultsMarkdown, faultsTable } from '../../harness/faults_table.ts';
import { BUDGETS } from '../../harness/verify.ts';

describe('every catalog fault is caught within the ci budget, on the revision it lived in', () => {
  for (const bug of SEEDED_BUGS) {
    it(`${bug.catalogId} ${bug.name} (${bug.kernel})`, async () => {
      const row = await checkFault(bug, 42, BUDGETS.ci);
      expect(row.detected).toBe(true);
      expect(row.shrunkLength!).toBeLessThanOrEqual(bug.minimalLength + 2);
      expect(row.invariant).not.toBeNull();
    });
  }
});

describe('the faults table', () => {
  it('has a row per fault with every column', async () => {
    const row = await checkFault(SEEDED_BUGS[0], 42, BUDGETS.quick);
    expect(faultsTable([row])[1]).toMatch(/ack-before-fail\s+B2\s+v2\s+yes\s+I-5/);
    expect(faultsMarkdown([row]).split('\n')[2]).toMatch(/^\| ack-before-fail \| B2 \| v2 \| yes \| I-5 \|/);
  });
});
