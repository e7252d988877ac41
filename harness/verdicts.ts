// The revision x goal verdict table: for each kernel revision and safety goal, search for a
// violation and compare with what the revision's record (properties/revisions/) expects. A
// violation the record does not expect is a failure; so is an expected violation that no longer
// shows.
import fc from 'fast-check';
import { NO_BUGS } from '../impl/faults.ts';
import type { Expected, RevisionRecord } from '../properties/revisions/index.ts';
import type { GenConfig } from '../properties/generators.ts';
import { scenario } from '../properties/generators.ts';
import type { Goal } from '../properties/goals.ts';
import { GOALS } from '../properties/stack_goals.ts';
import type { Scenario } from '../properties/scenario.ts';
import { minimize } from './minimize.ts';
import { runScenario, type RunResult } from './run.ts';

export type { Expected };

export type VerdictKind = 'holds' | 'expected-violation' | 'unexpected-violation' | 'expected-violation-missing';

export interface Verdict {
  readonly kernel: string;
  readonly goal: string;
  readonly expected: Expected;
  readonly verdict: VerdictKind;
  /** The violation found: the goal itself, or an invariant that failed on the way (a bug). */
  readonly violation: { readonly id: string; readonly message: string } | null;
  readonly counterexample: { readonly scenario: Scenario; readonly run: RunResult } | null;
  readonly counterexampleLength: number | null;
}

/** Scenarios that can reach every goal: uploads good and bad, TD builds, hotplug, faults. */
function goalGen(revision: RevisionRecord): GenConfig {
  return {
    cpus: [1, 4],
    maxCommands: 10,
    maxSchedule: 120,
    faultRate: 0.3,
    corruptRate: 0.3,
    imageFormat: revision.checks.imageFormat,
    compatModules: revision.checks.compatModules,
    weights: { upload: 5, tool_update: 5, cpu_offline: 2, cpu_online: 1, td_create: 2, td_add_page: 2, td_finalize: 1, read_version: 1 },
  };
}

export function expectedVerdict(revision: RevisionRecord, goal: string): Expected {
  const e = Object.hasOwn(revision.verdicts, goal) ? revision.verdicts[goal] : undefined;
  if (e === undefined) throw new Error(`properties/revisions/${revision.name}.ts has no verdict for ${goal}`);
  return e;
}

export function checkGoal(revision: RevisionRecord, goal: Goal, seed: number, numRuns: number): Verdict {
  const ro = { revision, bugs: NO_BUGS, goals: [goal] };
  const d = fc.check(
    fc.property(scenario(goalGen(revision)), (s) => runScenario(s, ro).violation === null),
    { seed, numRuns },
  ) as fc.RunDetails<[Scenario]>;
  const expected = expectedVerdict(revision, goal.id);
  if (!d.failed || !d.counterexample) {
    return {
      kernel: revision.name,
      goal: goal.id,
      expected,
      verdict: expected === 'holds' ? 'holds' : 'expected-violation-missing',
      violation: null,
      counterexample: null,
      counterexampleLength: null,
    };
  }
  const first = runScenario(d.counterexample[0], ro).violation!;
  const small = minimize(d.counterexample[0], (c) => runScenario(c, ro).violation?.id === first.id, { revision }).scenario;
  const run = runScenario(small, { ...ro, record: true });
  const v = run.violation!;
  const isGoal = v.id === goal.id;
  const verdict: VerdictKind = isGoal && expected === 'expected-violation' ? 'expected-violation' : 'unexpected-violation';
  return {
    kernel: revision.name,
    goal: goal.id,
    expected,
    verdict,
    violation: { id: v.id, message: v.message },
    counterexample: { scenario: small, run },
    counterexampleLength: small.commands.length,
  };
}

export function checkVerdicts(revs: readonly RevisionRecord[], seed: number, numRuns: number): Verdict[] {
  return revs.flatMap((revision) => GOALS.map((g) => checkGoal(revision, g, seed, numRuns)));
}

export function verdictFailed(v: Verdict): boolean {
  return v.verdict === 'unexpected-violation' || v.verdict === 'expected-violation-missing';
}

const MARK: Record<VerdictKind, string> = {
  holds: 'holds',
  'expected-violation': 'expected violation',
  'unexpected-violation': '**UNEXPECTED VIOLATION**',
  'expected-violation-missing': '**expected violation missing**',
};

/** A counterexample as one line: the host and the commands in order. */
export function oneLine(s: Scenario, describe: (c: Scenario['commands'][number]) => string): string {
  return `${s.host.nrCpus} CPU(s), ${s.host.slots} slot(s): ${s.commands.map(describe).join('; ')}`;
}

/** reports/verdicts.md: the table revisions x goals, then each violation's shortest counterexample. */
export function verdictsMarkdown(vs: readonly Verdict[], revs: readonly RevisionRecord[], describe: (c: Scenario['commands'][number]) => string): string {
  const goals = [...new Set(vs.map((v) => v.goal))];
  const cell = (k: string, g: string) => {
    const v = vs.find((x) => x.kernel === k && x.goal === g);
    return v ? `${MARK[v.verdict]}${v.counterexampleLength ? ` (${v.counterexampleLength} cmd)` : ''}` : '';
  };
  const out = [
    '# Verdicts: kernel revisions x safety goals',
    '',
    `| goal | ${revs.map((r) => `${r.name} (${r.title})`).join(' | ')} |`,
    `|---|${revs.map(() => '---').join('|')}|`,
    ...goals.map((g) => `| ${g} | ${revs.map((r) => cell(r.name, g)).join(' | ')} |`),
    '',
    'Every invariant of spec §7 holds on every revision (`npm run verify -- --kernel all`); the goals are what a revision may break by design.',
    '',
  ];
  for (const v of vs.filter((x) => x.counterexample)) {
    out.push(`- **${v.kernel} / ${v.goal}** (${v.violation!.id}): ${v.violation!.message}. ${oneLine(v.counterexample!.scenario, describe)}`);
  }
  return out.join('\n') + '\n';
}
