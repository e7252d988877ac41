// The kernel frees what it allocates for an update: the fw_upload buffer (fw_upload_main's
// vfree), the SEAMLDR_PARAMS page and SEAMLDR.INFO's page (free_page). After any generated
// scenario without TDs (whose private pages the module keeps), on every revision, physical
// memory holds exactly what boot left.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../../harness/run.ts';
import { BUDGETS, scenarios } from '../../../harness/verify.ts';
import type { Host } from '../../../impl/host.ts';
import { NO_BUGS } from '../../../impl/faults.ts';
import { PROPERTIES } from '../../../properties/catalog.ts';
import { REVISIONS } from '../../../properties/revisions/index.ts';
import type { Scenario } from '../../../properties/scenario.ts';

/**
 * The pages a run of `s` leaves allocated (null: the run stopped at a violation, tasks may be
 * mid-way), less a buffer the loading state still holds: a load refused -EBUSY as an upload
 * finished keeps it until the device goes (properties/goals.ts upload-not-wedged).
 */
function pagesAfter(s: Scenario, revision: (typeof REVISIONS)[number]): number | null {
  let h: Host | null = null;
  const r = runScenario(s, { revision, bugs: NO_BUGS, observe: (_, x) => void (h = x) });
  const end = h as Host | null;
  return r.violation ? null : end!.mem.size - (end!.tdxHost.fw?.buffer?.pas.length ?? 0);
}

describe('no page leaks', () => {
  it.each(REVISIONS.map((r) => [r.name, r] as const))('%s: every scenario without TDs ends with the pages boot left', (_, revision) => {
    const leaks: string[] = [];
    let checked = 0;
    for (const p of PROPERTIES)
      for (const s of fc.sample(scenarios(p, { seed: 3, budget: BUDGETS.quick, revision, bugs: NO_BUGS }), { seed: 9, numRuns: 150 })) {
        if (s.commands.some((c) => c.kind.startsWith('td_'))) continue;
        const after = pagesAfter(s, revision);
        const boot = pagesAfter({ ...s, commands: [{ kind: 'read_version' }], schedule: [] }, revision);
        if (after === null || boot === null) continue;
        checked++;
        if (after !== boot) leaks.push(`${p.id}: ${after - boot} page(s) after ${s.commands.map((c) => c.kind).join(', ')}`);
      }
    expect(checked).toBeGreaterThan(100);
    expect(leaks.slice(0, 3)).toEqual([]);
  });
});
