// Checks one property with fast-check: draws scenarios, runs each, shrinks a failing one under
// a time budget, then canonicalizes it with our own deterministic pass (minimize.ts).
// Seeds live here and in cli.ts only.
//
// Three phases, so each has its own budget and the search can be stopped (Ctrl-C):
//   1. search: up to numRuns scenarios, stopping at the first failure (endOnFailure);
//   2. shrink: fast-check replays that run (seed + path) and shrinks it, for at most shrinkMs;
//   3. canonicalize: minimize.ts, deterministic, bounded by a number of runs.
// The predicate is async and yields to the event loop now and then, so a SIGINT handler and
// the progress line get to run; yielding changes nothing a run computes.
import fc from 'fast-check';
import { NO_BUGS, type BugName, type Bugs } from '../impl/faults.ts';
import type { RevisionRecord } from '../properties/revisions/index.ts';
import type { Property } from '../properties/catalog.ts';
import { scenario, type GenConfig } from '../properties/generators.ts';
import type { Scenario } from '../properties/scenario.ts';
import { inSchemaOrder } from './corpus.ts';
import {
  domainText,
  enumerateScenarios,
  exploreSchedulesYielding,
  firstInert,
  YIELD_MS,
  scenarioCount,
  scenarioKey,
  shardOfKey,
  type Bound,
} from './exhaustive.ts';
import { DistinctStates, type Reached } from './explore.ts';
import { minimize } from './minimize.ts';
import { runScenario, type RunOptions, type RunResult } from './run.ts';
import { pctData, type ScheduledScenario, type SchedulerName } from './schedulers.ts';
import { stateObserver, type StepState } from './state_view.ts';

export interface Budget {
  readonly name: 'quick' | 'ci' | 'deep';
  readonly numRuns: number;
  /** Scales every property's maxCommands. */
  readonly lengthScale: number;
  /** Wall-clock cap for one property's search; when it runs out the property is 'exhausted'. */
  readonly timeLimitMs: number;
  /** Wall-clock cap for fast-check's shrinking of one counterexample. */
  readonly shrinkLimitMs: number;
}

export const BUDGETS: Record<Budget['name'], Budget> = {
  quick: { name: 'quick', numRuns: 100, lengthScale: 1, timeLimitMs: 60_000, shrinkLimitMs: 15_000 },
  ci: { name: 'ci', numRuns: 300, lengthScale: 1, timeLimitMs: 300_000, shrinkLimitMs: 30_000 },
  deep: { name: 'deep', numRuns: 3000, lengthScale: 2, timeLimitMs: 1_800_000, shrinkLimitMs: 120_000 },
};

/** Set by the SIGINT handler; every phase polls it and ends early, keeping what it has. */
export interface StopSignal {
  stopped: boolean;
}

export interface CheckOptions {
  readonly seed: number;
  readonly budget: Budget;
  readonly revision: RevisionRecord;
  readonly bugs: Bugs;
  /** Fixes the CPU count of every scenario. */
  readonly cpus?: number;
  /** Runs to make instead of the budget's (a shard's share). */
  readonly numRuns?: number;
  /** Overrides the budget's search time limit. */
  readonly timeLimitMs?: number;
  readonly signal?: StopSignal;
  /** Releases whose Intel blobs are loaded (`--blobs DIR`): the generators use them too. */
  readonly realReleases?: readonly string[];
  /** Who picks the next task: uniform choices (default), PCT with `pctDepth` (default 3), or every schedule within `preemptions`. */
  readonly scheduler?: SchedulerName;
  readonly pctDepth?: number;
  readonly preemptions?: number;
  /** With the exhaustive scheduler: enumerate scenarios of up to this many commands instead of drawing them. */
  readonly exploreCommands?: number;
  /** With exploreCommands: values of each command kind (harness/exhaustive.ts DOMAIN unless given). */
  readonly exploreValues?: number;
  /** With exploreCommands: explore only the scenarios of this shard (harness/exhaustive.ts shardOfKey). */
  readonly exploreShard?: { readonly index: number; readonly count: number };
  /** With exploreCommands: the scenarios explored so far in this run, by key, shared by the properties checked in it. */
  readonly explored?: ExploredScenarios;
  /** Called after every search run (not while shrinking), for the progress line. */
  readonly onRun?: (runs: number, commands: number, failed: boolean) => void;
}

export interface Counterexample {
  readonly scenario: ScheduledScenario;
  /** fast-check's replay coordinates, for `--seed N --path P`. */
  readonly seed: number;
  readonly path: string;
  /** The canonical scenario run once more, recorded (timeline) and observed (per-step states). */
  readonly run: RunResult;
  readonly states: readonly StepState[];
  readonly shrinks: number;
  /** Our pass: runs spent, steps taken, and whether it reached its fixed point. */
  readonly minimize: { readonly runs: number; readonly steps: number; readonly complete: boolean };
  /** The seeded bug this needs (fails with it, passes without); null: it fails on the kernel as it is. */
  readonly bug: BugName | null;
}

export type Status = 'holds' | 'fails' | 'exhausted' | 'interrupted';

export interface PropertyResult {
  readonly id: string;
  /** holds; fails (counterexample); exhausted (time budget ran out first); interrupted (Ctrl-C). */
  readonly status: Status;
  readonly runs: number;
  /** The runs asked for. */
  readonly requested: number;
  readonly commands: number;
  readonly ms: number;
  /** Per coverage label, the number of runs that reached it. */
  readonly coverage: ReadonlyMap<string, number>;
  /** The distinct abstract model states and (state, action) pairs the search runs reached. */
  readonly distinct: DistinctStates;
  readonly counterexample: Counterexample | null;
  /** Runs and commands until the first failure was seen (before shrinking). */
  readonly firstFailure: { readonly runs: number; readonly commands: number } | null;
  /** Executions (schedules run; one per run unless exhaustive), and whether every bounded space explored was explored whole. */
  readonly executions: number;
  readonly complete: boolean;
  /** Exhaustive: scenarios whose schedules were not all run (the cap on executions ended them). */
  readonly capped: number;
  /** `--explore`: scenarios an earlier property of the run had explored, counted here without running them again. */
  readonly reused: number;
  /** `--explore`: scenarios not run because a command in them is inert (harness/exhaustive.ts firstInert). */
  readonly inert: number;
}

/** The exhaustive scheduler's drawn scenarios are short: every schedule of a long one is too many to run. */
const EXHAUSTIVE_MAX_COMMANDS = 3;

export function genConfig(p: Property, o: CheckOptions): GenConfig {
  const g = p.gen;
  const maxCommands = Math.round(g.maxCommands * o.budget.lengthScale);
  return {
    ...g,
    cpus: o.cpus ?? g.cpus,
    maxCommands: o.scheduler === 'exhaustive' ? Math.min(maxCommands, EXHAUSTIVE_MAX_COMMANDS) : maxCommands,
    imageFormat: o.revision.checks.imageFormat,
    compatModules: o.revision.checks.compatModules,
    realReleases: o.realReleases,
  };
}

/**
 * PCT's change points fall among a scenario's first decisions (PCT's k): a default scenario
 * takes 24 to 65 decisions at the median by property, 117 to 154 at the 90th percentile.
 * Counted in steps instead (93 at the median), depth 3 needed 6 to 8 times random's runs for B21;
 * over 200 decisions, most change points miss the short windows the faults need (bench section 6).
 */
const PCT_DECISIONS = 100;
export const PCT_DEPTH = 3;

/** The exhaustive scheduler's default bound, and its cap on one scenario's executions. */
export const PREEMPTIONS = 2;
export const EXPLORE_COMMANDS = 2;
const MAX_EXECUTIONS = 100_000;

/** The property's scenarios, with PCT's data drawn beside them when the scheduler is pct (its choices are unused). */
export function scenarios(p: Property, o: CheckOptions): fc.Arbitrary<ScheduledScenario> {
  const s = scenario(genConfig(p, o));
  if (o.scheduler === 'exhaustive') return s.map((x) => ({ ...x, schedule: [] }));
  if (o.scheduler !== 'pct') return s;
  return fc.tuple(s, pctData(o.pctDepth ?? PCT_DEPTH, PCT_DECISIONS)).map(([x, pct]): ScheduledScenario => ({ ...x, schedule: [], pct }));
}

/** A plugin that interrupts fast-check (search or shrink) once the stop signal is set. */
function stopPlugin(signal: StopSignal | undefined): fc.Plugin<[Scenario]> {
  return () => ({
    decorateRun: (run) => (value) => (signal?.stopped ? new fc.PreconditionFailure(true) : run(value)),
  });
}

const only = (bugs: Bugs): BugName | null => (bugs.size === 1 ? [...bugs][0]! : null);

/**
 * fast-check's shrunk scenario made canonical, and run once more to report it. With a seeded
 * bug on, the scenario is kept one that fails (any check) with the bug and passes without it,
 * so the bug is what it shows, whichever check saw it first from this seed; if the shrunk
 * scenario fails without the bug too, it is a real counterexample and keeps its check.
 */
export function canonicalize(
  shrunk: ScheduledScenario,
  o: Pick<CheckOptions, 'revision' | 'bugs' | 'signal' | 'cpus'>,
): Omit<Counterexample, 'seed' | 'path' | 'shrinks'> | null {
  const withBug: RunOptions = { revision: o.revision, bugs: o.bugs },
    without: RunOptions = { revision: o.revision, bugs: NO_BUGS };
  const v = runScenario(shrunk, withBug).violation;
  if (!v) return null;
  const bug = only(o.bugs) !== null && runScenario(shrunk, without).violation?.id !== v.id ? only(o.bugs) : null;
  const fails = bug
    ? (c: Scenario) => runScenario(c, withBug).violation !== null && runScenario(c, without).violation === null
    : (c: Scenario) => runScenario(c, without).violation?.id === v.id;
  const startOk = fails(shrunk);
  const m = startOk
    ? minimize(shrunk, fails, { revision: o.revision, cpus: o.cpus, stop: () => o.signal?.stopped ?? false })
    : { scenario: shrunk, runs: 1, steps: 0, complete: false };
  const scenario = inSchemaOrder(m.scenario); // the same scenario prints the same, however it was built
  const { observe, states } = stateObserver(o.revision.checks);
  const run = runScenario(scenario, { ...(bug ? withBug : without), record: true, observe });
  if (!run.violation) return null;
  return { scenario, run, states, minimize: { runs: m.runs, steps: m.steps, complete: m.complete }, bug };
}

/** What the search saw: coverage, distinct states, runs (scenarios), executions (schedules), the first failure. */
class Tally {
  readonly coverage = new Map<string, number>();
  readonly distinct = new DistinctStates();
  runs = 0;
  commands = 0;
  executions = 0;
  complete = true;
  capped = 0;
  reused = 0;
  inert = 0;
  firstFailure: PropertyResult['firstFailure'] = null;
  /** The labels the current run's executions reached: the coverage table counts runs, not executions. */
  private readonly labels = new Set<string>();

  execution(r: RunResult): void {
    this.executions++;
    this.commands += r.commandsIssued;
    this.reach(r.labels, r.reached);
  }

  /** What some executions of the current run reached: their labels and model states. */
  reach(labels: ReadonlySet<string>, reached: Reached): void {
    for (const l of labels) this.labels.add(l);
    this.distinct.add(reached);
  }

  run(failed: boolean, o: CheckOptions): void {
    for (const l of this.labels) this.coverage.set(l, (this.coverage.get(l) ?? 0) + 1);
    this.labels.clear();
    this.runs++;
    if (failed) this.firstFailure ??= { runs: this.runs, commands: this.commands };
    o.onRun?.(this.runs, this.commands, failed);
  }
}

const boundOf = (o: CheckOptions): Bound => ({ preemptions: o.preemptions ?? PREEMPTIONS, maxExecutions: MAX_EXECUTIONS });

export async function checkProperty(p: Property, o: CheckOptions, path?: string): Promise<PropertyResult> {
  if (o.exploreCommands !== undefined) return exploreProperty(p, o, o.exploreCommands);
  const t = new Tally();
  const requested = o.numRuns ?? o.budget.numRuns;
  const timeLimitMs = o.timeLimitMs ?? o.budget.timeLimitMs;
  const runOptions: RunOptions = { revision: o.revision, bugs: o.bugs };
  /** Under the exhaustive scheduler, the failing schedule each failing scenario was found with. */
  const failingOf = new WeakMap<object, ScheduledScenario>();
  let searching = true;
  let lastYield = performance.now();
  const started = performance.now();
  let deadline = started + timeLimitMs;
  const prop = fc.asyncProperty(scenarios(p, o), async (s) => {
    if (performance.now() - lastYield > YIELD_MS) {
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
    let failed: boolean;
    if (o.scheduler === 'exhaustive') {
      // fast-check's time limits end the search and the shrinking between scenarios: one scenario's schedules (on many CPUs, hours of them) stop at them too
      const stop = () => (o.signal?.stopped ?? false) || performance.now() > deadline;
      const e = await exploreSchedulesYielding(s, runOptions, boundOf(o), searching ? (r) => t.execution(r) : undefined, stop);
      if (e.failing) failingOf.set(s, e.failing);
      failed = e.failing !== null;
      if (searching && !e.complete && !failed && !o.signal?.stopped) t.capped++;
    } else {
      const r = runScenario(s, runOptions);
      failed = r.violation !== null;
      if (searching) t.execution(r);
    }
    if (searching) t.run(failed, o);
    return !failed;
  });
  const plugins = (ms: number) => [stopPlugin(o.signal), fc.interruptAfterTimeLimit(ms, { failOnInterrupt: false })];
  const search = await fc.check(prop, {
    seed: o.seed,
    numRuns: requested,
    path,
    endOnFailure: true,
    plugins: plugins(timeLimitMs),
  });
  searching = false;
  let found: fc.RunDetails<[Scenario]> | null = search.failed && search.counterexample ? search : null;
  if (found && path === undefined && !o.signal?.stopped) {
    deadline = performance.now() + o.budget.shrinkLimitMs;
    const shrunk = await fc.check(prop, { seed: o.seed, numRuns: requested, path: found.counterexamplePath!, plugins: plugins(o.budget.shrinkLimitMs) });
    if (shrunk.failed && shrunk.counterexample) found = shrunk;
  }
  const failing = found ? (failingOf.get(found.counterexample![0]) ?? found.counterexample![0]) : null;
  const c = failing ? canonicalize(failing, o) : null;
  const counterexample = c && found ? { ...c, seed: found.seed, path: found.counterexamplePath ?? '', shrinks: found.numShrinks } : null;
  const status: Status = counterexample ? 'fails' : o.signal?.stopped ? 'interrupted' : t.runs < requested && search.interrupted ? 'exhausted' : 'holds';
  return result(p, t, { status, requested, started, counterexample, complete: false });
}

function result(
  p: Property,
  t: Tally,
  r: { status: Status; requested: number; started: number; counterexample: Counterexample | null; complete: boolean },
): PropertyResult {
  const { coverage, distinct, runs, commands, executions, firstFailure, capped, reused, inert } = t;
  const ms = Math.round(performance.now() - r.started);
  return {
    id: p.id,
    status: r.status,
    runs,
    requested: r.requested,
    commands,
    ms,
    coverage,
    distinct,
    counterexample: r.counterexample,
    firstFailure,
    executions,
    complete: r.complete,
    capped,
    reused,
    inert,
  };
}

/** The scenarios of property p that `--explore --commands N` enumerates, or a shard's share of them. */
export function exploreShare(
  p: Property,
  o: CheckOptions,
  commands: number,
  shard: { readonly index: number; readonly count: number } | null | undefined,
): number {
  if (!shard) return scenarioCount(genConfig(p, o), o.seed, commands, o.exploreValues);
  let n = 0;
  for (const s of enumerateScenarios(genConfig(p, o), o.seed, commands, o.exploreValues)) if (shardOfKey(scenarioKey(s), shard.count) === shard.index) n++;
  return n;
}

/** Each property's `--explore` domain, as the proof states it (harness/exhaustive.ts domainText). */
export function exploreDomain(properties: readonly Property[], o: CheckOptions): Record<string, string[]> {
  return Object.fromEntries(properties.map((p) => [p.id, domainText(genConfig(p, o), o.seed, o.exploreValues)]));
}

/** What exploring one scenario gave, kept for a later property that enumerates it too: as its executions added up. */
interface ScenarioExplored {
  readonly executions: number;
  readonly commands: number;
  readonly labels: readonly string[];
  readonly states: readonly string[];
  readonly pairs: readonly string[];
  readonly complete: boolean;
  readonly failing: ScheduledScenario | null;
}

/**
 * The scenarios a run explored, by harness/exhaustive.ts scenarioKey: an exploration depends
 * only on the scenario, the kernel and the bound, which one run shares, so a property that
 * enumerates a scenario an earlier one explored counts that exploration as its own. Strings
 * are interned: the same state keys and labels recur in thousands of scenarios.
 */
export class ExploredScenarios {
  private readonly byKey = new Map<string, ScenarioExplored>();
  private readonly strings = new Map<string, string>();

  get(k: string): ScenarioExplored | undefined {
    return this.byKey.get(k);
  }

  set(k: string, e: Omit<ScenarioExplored, 'labels' | 'states' | 'pairs'>, labels: ReadonlySet<string>, d: Reached): void {
    this.byKey.set(k, { ...e, labels: this.intern(labels), states: this.intern(d.states), pairs: this.intern(d.pairs) });
  }

  private intern(xs: Iterable<string>): string[] {
    const out: string[] = [];
    for (const x of xs) {
      let y = this.strings.get(x);
      if (y === undefined) this.strings.set(x, (y = x));
      out.push(y);
    }
    return out;
  }
}

/** Explores the schedules of `s` (its key `k`), or takes what an earlier property's exploration of it gave; adds it to `t`. */
async function exploreOnce(s: ScheduledScenario, k: string, o: CheckOptions, t: Tally): Promise<{ complete: boolean; failing: ScheduledScenario | null }> {
  const known = o.explored?.get(k);
  if (known) {
    t.reused++;
    t.executions += known.executions;
    t.commands += known.commands;
    t.reach(new Set(known.labels), { states: new Set(known.states), pairs: new Set(known.pairs) });
    return known;
  }
  const mine = { commands: 0, labels: new Set<string>(), states: new Set<string>(), pairs: new Set<string>() };
  const onRun = (r: RunResult) => {
    t.execution(r);
    if (!o.explored) return;
    mine.commands += r.commandsIssued;
    for (const l of r.labels) mine.labels.add(l);
    for (const x of r.reached.states) mine.states.add(x);
    for (const x of r.reached.pairs) mine.pairs.add(x);
  };
  const stopped = () => o.signal?.stopped ?? false;
  const e = await exploreSchedulesYielding(s, { revision: o.revision, bugs: o.bugs }, boundOf(o), onRun, stopped);
  if (o.explored && !stopped())
    o.explored.set(k, { executions: e.executions, commands: mine.commands, complete: e.complete, failing: e.failing }, mine.labels, mine);
  return e;
}

/**
 * `--explore`: every scenario of up to `commands` commands over the property's command kinds
 * (harness/exhaustive.ts enumerateScenarios), each with every schedule within the bound. The
 * first failure is made canonical like any other; its seed and path are the enumeration's.
 */
async function exploreProperty(p: Property, o: CheckOptions, commands: number): Promise<PropertyResult> {
  const t = new Tally();
  const started = performance.now();
  let lastYield = performance.now();
  let failing: ScheduledScenario | null = null;
  for (const s of enumerateScenarios(genConfig(p, o), o.seed, commands, o.exploreValues)) {
    const k = scenarioKey(s);
    if (o.exploreShard && shardOfKey(k, o.exploreShard.count) !== o.exploreShard.index) continue;
    if (performance.now() - lastYield > YIELD_MS) {
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
    if (o.signal?.stopped) break;
    if (firstInert(s.commands) >= 0) {
      // The scenario without its inert commands is enumerated too, and its proof covers this one.
      t.inert++;
      t.run(false, o);
      continue;
    }
    const e = await exploreOnce(s, k, o, t);
    t.complete &&= e.complete;
    if (!e.complete && !e.failing && !o.signal?.stopped) t.capped++;
    t.run(e.failing !== null, o);
    failing = e.failing;
    if (failing) break;
  }
  const c = failing ? canonicalize(failing, o) : null;
  const counterexample = c ? { ...c, seed: o.seed, path: '', shrinks: 0 } : null;
  const status: Status = counterexample ? 'fails' : o.signal?.stopped ? 'interrupted' : 'holds';
  const requested = exploreShare(p, o, commands, o.exploreShard);
  return result(p, t, { status, requested, started, counterexample, complete: t.complete && status === 'holds' });
}
