// The default verify workload without its verdict: every catalog property, the quick budget's
// generators and runs, seed fixed, each drawn scenario fully checked by runScenario (model,
// emulator, result comparison, refinement, every invariant after every step). A run that
// violates something counts like any other, so no shrinking distorts the throughput; the
// violations are reported next to the figures.
import fc from 'fast-check';
import { NO_BUGS } from '../impl/faults.ts';
import { V2 } from '../properties/revisions/index.ts';
import { runScenario } from '../harness/run.ts';
import { BUDGETS, genConfig, type CheckOptions } from '../harness/verify.ts';
import { PROPERTIES, type Property } from '../properties/catalog.ts';
import { scenario } from '../properties/generators.ts';
import { now, since } from './stats.ts';

export interface PassTotals {
  runs: number;
  commands: number;
  steps: number;
  violations: number;
  /** Wall and CPU milliseconds. */
  ms: number;
  cpuMs: number;
}

export function emptyTotals(): PassTotals {
  return { runs: 0, commands: 0, steps: 0, violations: 0, ms: 0, cpuMs: 0 };
}

export function checkOptions(seed: number, runsPerProperty: number): CheckOptions {
  return { seed, budget: { ...BUDGETS.quick, numRuns: runsPerProperty }, revision: V2, bugs: NO_BUGS };
}

/** One property's quick-budget runs through the full check; returns what they did. */
export function harnessProperty(p: Property, o: CheckOptions): PassTotals {
  const t = emptyTotals();
  const prop = fc.property(scenario(genConfig(p, o)), (s) => {
    const r = runScenario(s, { revision: o.revision, bugs: o.bugs });
    t.runs++;
    t.commands += r.commandsIssued;
    t.steps += r.steps;
    if (r.violation) t.violations++;
    return true;
  });
  const t0 = now();
  fc.check(prop, { seed: o.seed, numRuns: o.budget.numRuns });
  const d = since(t0);
  t.ms = d.wall;
  t.cpuMs = d.cpu;
  return t;
}

export function addTotals(a: PassTotals, b: PassTotals): PassTotals {
  return {
    runs: a.runs + b.runs,
    commands: a.commands + b.commands,
    steps: a.steps + b.steps,
    violations: a.violations + b.violations,
    ms: a.ms + b.ms,
    cpuMs: a.cpuMs + b.cpuMs,
  };
}

/** Every property, in catalog order: the work `npm run verify` does before any shrinking. */
export function harnessPass(seed: number, runsPerProperty: number): { total: PassTotals; perProperty: Map<string, PassTotals> } {
  const o = checkOptions(seed, runsPerProperty);
  const perProperty = new Map<string, PassTotals>();
  let total = emptyTotals();
  for (const p of PROPERTIES) {
    const t = harnessProperty(p, o);
    perProperty.set(p.id, t);
    total = addTotals(total, t);
  }
  return { total, perProperty };
}
