// The runner's default choice (issue 13): with no recorded choice, the runnable task run least
// recently steps (tasks never run first, by id); issuing the next command waits until no task
// can run. Kept in a queue instead of sorted per step, the order must be the one recorded
// schedules were made with: checked here against that rule, computed the slow way before
// every step of a run (runs are deterministic, so a first run says which task each step ran).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../harness/run.ts';
import { BUDGETS, genConfig } from '../../harness/verify.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import type { Host } from '../../impl/host.ts';
import { runnableTasks, type Task } from '../../impl/kernel/sched.ts';
import { PROPERTIES } from '../../properties/catalog.ts';
import { scenario } from '../../properties/generators.ts';
import type { Scenario } from '../../properties/scenario.ts';
import { V2 } from '../../properties/revisions/index.ts';

const ISSUE = '(issue)';

/** The rule, the slow way: runnable tasks sorted by the step they last ran at, then by id. */
function expectedNext(h: Host, lastRun: ReadonlyMap<string, number>): string {
  const at = (t: Task) => lastRun.get(t.name) ?? -1;
  const tasks = h.sched.tasks.filter((t) => runnableTasks(h.sched).includes(t)).sort((a, b) => at(a) - at(b) || a.id - b.id);
  return tasks[0]?.name ?? ISSUE;
}

/** Per step, the task the runner ran, and the one the rule says it should have. */
function picks(s: Scenario): { ran: string[]; rule: string[] } {
  const ran = runScenario(s, { revision: V2, bugs: NO_BUGS, record: true }).records.map((r) => (r.command ? ISSUE : r.task));
  const lastRun = new Map<string, number>();
  const rule: string[] = [];
  runScenario(s, {
    revision: V2,
    bugs: NO_BUGS,
    observe: (step, h) => {
      if (ran[step] !== ISSUE) lastRun.set(ran[step]!, step);
      // A task that ended is forgotten: a later task of the same name (the next stopper/0) has never run.
      for (const name of lastRun.keys()) if (!h.sched.tasks.some((t) => t.name === name)) lastRun.delete(name);
      rule[step + 1] = expectedNext(h, lastRun);
    },
  });
  return { ran: ran.slice(1), rule: rule.slice(1, ran.length) };
}

describe('the default choice', () => {
  it.each(PROPERTIES.map((p) => [p.id, p] as const))('is the least recently run task, in %s scenarios', (_, p) => {
    const cfg = genConfig(p, { seed: 1, budget: BUDGETS.quick, revision: V2, bugs: NO_BUGS });
    for (const s of fc.sample(scenario(cfg), { seed: 3, numRuns: 10 })) {
      const { ran, rule } = picks({ ...s, schedule: [] });
      expect(ran).toEqual(rule);
    }
  });
});
