// Chained updates are reached by the generators, not only by hand-written scenarios: the ci
// budget of the two properties that draw the most uploads shows each chain label of a revision,
// and each TD leaf fault striking a call (`fault NAME struck`), not only drawn.
import { describe, expect, it } from 'vitest';
import { CHAIN_LABELS } from '../../harness/coverage.ts';
import { BUDGETS, checkProperty } from '../../harness/verify.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { findProperty } from '../../properties/catalog.ts';
import { findRevision } from '../../properties/revisions/index.ts';
import { TD_FAULT_LEAVES } from '../../model/types.ts';

describe('chained updates in the coverage table', () => {
  it.each(Object.keys(CHAIN_LABELS))('%s: the ci budget reaches every chain label and strikes every TD leaf fault', async (kernel) => {
    const reached = new Set<string>();
    for (const id of ['update-contract', 'td-preservation']) {
      const r = await checkProperty(findProperty(id)!, { seed: 42, budget: BUDGETS.ci, revision: findRevision(kernel)!, bugs: NO_BUGS });
      expect(r.status).toBe('holds');
      for (const l of r.coverage.keys()) reached.add(l);
    }
    expect(CHAIN_LABELS[kernel]!.filter((l) => !reached.has(l))).toEqual([]);
    expect(TD_FAULT_LEAVES.map((l) => `fault ${l} struck`).filter((l) => !reached.has(l))).toEqual([]);
  });
});
