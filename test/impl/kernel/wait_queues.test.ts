// Waits are checked again only when their queue is woken (sched.ts wakeUp): that is sound only
// if every write of what a wait's condition reads wakes its queue. Checked here on generated
// scenarios of every property, under their own schedules, with no seeded bug and with each one
// (their code writes the same state): between any two steps, a waiting task's remembered
// verdict must be what its condition says now.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../../harness/run.ts';
import { BUDGETS, genConfig } from '../../../harness/verify.ts';
import { NO_BUGS, SEEDED_BUGS, type BugName } from '../../../impl/faults.ts';
import type { Host } from '../../../impl/host.ts';
import { runnableTasks } from '../../../impl/kernel/sched.ts';
import { PROPERTIES } from '../../../properties/catalog.ts';
import { scenario } from '../../../properties/generators.ts';
import { COMPAT, UPSTREAM, V2 } from '../../../properties/revisions/index.ts';

const REVISIONS = { v2: V2, compat: COMPAT, upstream: UPSTREAM };

/**
 * The waiting tasks the run queue gets wrong: offered to run while their condition does not
 * hold, or out of the queue while it does; and spinners out of the queue, or offered while
 * their lock is held.
 */
function stale(h: Host): string[] {
  const offered = new Set(runnableTasks(h.sched)); // evaluates every wait whose queue was woken
  const waiting = h.sched.tasks.filter((t) => t.waitUntil !== null && (t.queued !== t.waitUntil() || (offered.has(t) && !t.waitUntil())));
  const spinning = h.sched.tasks.filter((t) => t.spinOn !== null && (!t.queued || (offered.has(t) && t.spinOn.owner !== null)));
  return [...waiting, ...spinning].map((t) => t.name);
}

const CASES = [
  { name: 'no bug', kernel: 'v2' as const, bugs: NO_BUGS },
  ...SEEDED_BUGS.map((b) => ({ name: b.catalogId, kernel: b.kernel, bugs: new Set<BugName>([b.name]) })),
];

describe('every write of what a wait reads wakes its queue', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const revision = REVISIONS[c.kernel];
    const found: string[] = [];
    for (const p of PROPERTIES) {
      const cfg = genConfig(p, { seed: 1, budget: BUDGETS.quick, revision, bugs: c.bugs });
      for (const s of fc.sample(scenario(cfg), { seed: 7, numRuns: 25 }))
        runScenario(s, { revision, bugs: c.bugs, observe: (step, h) => found.push(...stale(h).map((t) => `${p.id} step ${step}: ${t}`)) });
    }
    expect(found.slice(0, 5)).toEqual([]);
  });
});
