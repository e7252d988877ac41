// Checks one property with fast-check: draws scenarios, runs each, shrinks a failing one.
// Seeds live here and in cli.ts only.
import fc from 'fast-check';
import type { Bugs } from '../impl/faults.ts';
import type { Revision } from '../impl/kernel/revision.ts';
import type { Property } from '../properties/catalog.ts';
import { scenario, type GenConfig } from '../properties/generators.ts';
import type { Scenario } from '../properties/scenario.ts';
import { minimize } from './minimize.ts';
import { runScenario, type RunResult } from './run.ts';

export interface Budget {
  readonly name: 'quick' | 'ci' | 'deep';
  readonly numRuns: number;
  /** Scales every property's maxCommands. */
  readonly lengthScale: number;
  /** Wall-clock cap for one property, shrinking included; hitting it counts as a failure. */
  readonly timeLimitMs: number;
}

export const BUDGETS: Record<Budget['name'], Budget> = {
  quick: { name: 'quick', numRuns: 100, lengthScale: 1, timeLimitMs: 60_000 },
  ci: { name: 'ci', numRuns: 300, lengthScale: 1, timeLimitMs: 300_000 },
  deep: { name: 'deep', numRuns: 3000, lengthScale: 2, timeLimitMs: 1_800_000 },
};

export interface CheckOptions {
  readonly seed: number;
  readonly budget: Budget;
  readonly rev: Revision;
  readonly bugs: Bugs;
  /** Fixes the CPU count of every scenario. */
  readonly cpus?: number;
}

export interface Counterexample {
  readonly scenario: Scenario;
  /** fast-check's replay coordinates, for `--seed N --path P`. */
  readonly seed: number;
  readonly path: string;
  readonly run: RunResult;
  readonly shrinks: number;
}

export interface PropertyResult {
  readonly id: string;
  readonly status: 'holds' | 'fails' | 'interrupted';
  readonly runs: number;
  readonly commands: number;
  readonly ms: number;
  /** Per coverage label, the number of runs that reached it. */
  readonly coverage: ReadonlyMap<string, number>;
  readonly counterexample: Counterexample | null;
  /** Runs and commands until the first failure was seen (before shrinking). */
  readonly firstFailure: { readonly runs: number; readonly commands: number } | null;
}

/** fast-check's shrunk scenario, minimized further by our own pass, then run once more recorded. */
function canonical(shrunk: Scenario, o: CheckOptions, d: fc.RunDetails<[Scenario]>): Counterexample {
  const ro = { rev: o.rev, bugs: o.bugs };
  const id = runScenario(shrunk, ro).violation?.id;
  const scenario = id ? minimize(shrunk, ro, id).scenario : shrunk;
  return { scenario, seed: d.seed, path: d.counterexamplePath ?? '', run: runScenario(scenario, { ...ro, record: true }), shrinks: d.numShrinks };
}

export function genConfig(p: Property, o: CheckOptions): GenConfig {
  const g = p.gen;
  return { ...g, cpus: o.cpus ?? g.cpus, maxCommands: Math.round(g.maxCommands * o.budget.lengthScale), imageFormat: o.rev.imageFormat };
}

export function checkProperty(p: Property, o: CheckOptions, path?: string): PropertyResult {
  const coverage = new Map<string, number>();
  let runs = 0, commands = 0, firstFailure: PropertyResult['firstFailure'] = null;
  const started = performance.now();
  const prop = fc.property(scenario(genConfig(p, o)), (s) => {
    const r = runScenario(s, { rev: o.rev, bugs: o.bugs });
    if (firstFailure) return r.violation === null; // shrinking: not counted
    runs++;
    commands += r.commandsIssued;
    for (const l of r.labels) coverage.set(l, (coverage.get(l) ?? 0) + 1);
    if (r.violation) firstFailure = { runs, commands };
    return r.violation === null;
  });
  const d = fc.check(prop, {
    seed: o.seed, numRuns: o.budget.numRuns, path, endOnFailure: path !== undefined,
    plugins: [fc.interruptAfterTimeLimit(o.budget.timeLimitMs, { failOnInterrupt: true })],
  }) as fc.RunDetails<[Scenario]>;
  const ms = Math.round(performance.now() - started);
  const counterexample = d.failed && d.counterexample ? canonical(d.counterexample[0], o, d) : null;
  const status = counterexample?.run.violation ? 'fails' : d.failed || d.interrupted ? 'interrupted' : 'holds';
  return { id: p.id, status, runs, commands, ms, coverage, counterexample, firstFailure };
}
