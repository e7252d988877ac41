// Section 4: how fast the properties find each seeded bug. Per bug and seed, the properties are
// checked in catalog order, as `verify --fault NAME` does, until one fails, in verify's three
// phases: search (runs, commands and wall time to the first failure), fast-check's shrinking
// under the budget's shrink limit (time, predicate executions), and verify's canonicalize
// (minimizing pass: time, runs). A run counts as a failure only if the same scenario passes
// with no bug switched on, so a failure the kernel shows anyway is not credited to the bug
// (such runs are counted as `masked`). Every bug is hunted on the seed kernel (the default
// verify's); a bug that lived in another revision is hunted there too, as `verify --fault` does.
import fc from 'fast-check';
import { NO_BUGS, SEEDED_BUGS, type BugName } from '../impl/faults.ts';
import { findRevision, V2, type RevisionRecord } from '../properties/revisions/index.ts';
import { runScenario } from '../harness/run.ts';
import { canonicalize, genConfig, type CheckOptions } from '../harness/verify.ts';
import { PROPERTIES, type Property } from '../properties/catalog.ts';
import { scenario } from '../properties/generators.ts';
import type { Scenario } from '../properties/scenario.ts';
import type { BenchConfig } from './config.ts';
import { median } from './stats.ts';
import { checkOptions } from './workload.ts';

export interface Hunt {
  readonly seed: number;
  readonly property: string | null;
  readonly violation: string | null;
  /** Up to and including the first failing run, over every property checked so far. */
  readonly runs: number;
  readonly commands: number;
  readonly msToFirstFailure: number;
  readonly shrinkMs: number;
  readonly shrinkExecutions: number;
  readonly shrinks: number;
  readonly minimizeMs: number;
  readonly minimizeRuns: number;
  readonly length: number;
  readonly masked: number;
}

/** One bug hunted on one kernel revision over every seed. */
export interface HuntSummary {
  readonly kernel: string;
  readonly detectedSeeds: number;
  readonly seeds: number;
  /** Medians over the seeds that detected the bug (null when none did). */
  readonly median: Omit<Hunt, 'seed' | 'property' | 'violation'> | null;
  /** property/check -> seeds. */
  readonly violations: Record<string, number>;
  readonly hunts: readonly Hunt[];
}

export interface BugFinding extends HuntSummary {
  readonly name: string;
  readonly catalogId: string;
  /** The revision the bug lived in, when it is not the seed kernel: the same hunt there. */
  readonly home: HuntSummary | null;
}

interface HuntState {
  runs: number;
  commands: number;
  masked: number;
  searching: boolean;
  executions: number;
}

/** The property predicate: fails only on a violation the bug causes. */
function predicate(o: CheckOptions, st: HuntState): (s: Scenario) => boolean {
  return (s) => {
    const r = runScenario(s, { revision: o.revision, bugs: o.bugs });
    if (st.searching) {
      st.runs++;
      st.commands += r.commandsIssued;
    } else st.executions++;
    if (r.violation === null) return true;
    if (runScenario(s, { revision: o.revision, bugs: NO_BUGS }).violation === null) return false;
    if (st.searching) st.masked++;
    return true;
  };
}

type Details = fc.RunDetails<[Scenario]>;

/** verify's three phases for one property: search to the first failure, shrink, canonicalize. */
function search(p: Property, o: CheckOptions, st: HuntState): { prop: fc.IPropertyWithHooks<[Scenario]>; d: Details } {
  const prop = fc.property(scenario(genConfig(p, o)), predicate(o, st));
  const d = fc.check(prop, {
    seed: o.seed,
    numRuns: o.budget.numRuns,
    endOnFailure: true,
    plugins: [fc.interruptAfterTimeLimit(o.budget.timeLimitMs, { failOnInterrupt: false })],
  }) as Details;
  return { prop, d };
}

function shrink(prop: fc.IPropertyWithHooks<[Scenario]>, o: CheckOptions, first: Details): Details {
  const d = fc.check(prop, {
    seed: o.seed,
    numRuns: o.budget.numRuns,
    path: first.counterexamplePath!,
    plugins: [fc.interruptAfterTimeLimit(o.budget.shrinkLimitMs, { failOnInterrupt: false })],
  }) as Details;
  return d.failed && d.counterexample ? d : first;
}

function found(seed: number, p: Property, o: CheckOptions, st: HuntState, first: Details, prop: fc.IPropertyWithHooks<[Scenario]>, t0: number): Hunt {
  const firstAt = performance.now();
  st.searching = false;
  const shrunk = shrink(prop, o, first);
  const shrunkAt = performance.now();
  const c = canonicalize(shrunk.counterexample![0], { revision: o.revision, bugs: o.bugs });
  return {
    seed,
    property: p.id,
    violation: c?.run.violation?.id ?? '?',
    runs: st.runs,
    commands: st.commands,
    msToFirstFailure: firstAt - t0,
    shrinkMs: shrunkAt - firstAt,
    shrinkExecutions: st.executions,
    shrinks: shrunk.numShrinks,
    minimizeMs: performance.now() - shrunkAt,
    minimizeRuns: c?.minimize.runs ?? 0,
    length: (c?.scenario ?? shrunk.counterexample![0]).commands.length,
    masked: st.masked,
  };
}

export function hunt(bug: BugName, seed: number, cfg: BenchConfig, revision: RevisionRecord = V2): Hunt {
  const o: CheckOptions = { ...checkOptions(seed, cfg.bugRunsPerProperty), revision, bugs: new Set([bug]) };
  const st: HuntState = { runs: 0, commands: 0, masked: 0, searching: true, executions: 0 };
  const t0 = performance.now();
  for (const p of PROPERTIES) {
    const { prop, d } = search(p, o, st);
    if (d.failed && d.counterexample) return found(seed, p, o, st, d, prop, t0);
  }
  return {
    seed,
    property: null,
    violation: null,
    runs: st.runs,
    commands: st.commands,
    msToFirstFailure: performance.now() - t0,
    shrinkMs: 0,
    shrinkExecutions: 0,
    shrinks: 0,
    minimizeMs: 0,
    minimizeRuns: 0,
    length: 0,
    masked: st.masked,
  };
}

const MEDIAN_KEYS = [
  'runs',
  'commands',
  'msToFirstFailure',
  'shrinkMs',
  'shrinkExecutions',
  'shrinks',
  'minimizeMs',
  'minimizeRuns',
  'length',
  'masked',
] as const;

function medians(hs: readonly Hunt[]): HuntSummary['median'] {
  if (hs.length === 0) return null;
  return Object.fromEntries(MEDIAN_KEYS.map((k) => [k, median(hs.map((h) => h[k]))])) as NonNullable<HuntSummary['median']>;
}

function summary(bug: BugName, revision: RevisionRecord, cfg: BenchConfig): HuntSummary {
  const hunts = cfg.bugSeeds.map((seed) => hunt(bug, seed, cfg, revision));
  const hit = hunts.filter((h) => h.violation !== null);
  const violations: Record<string, number> = {};
  for (const h of hit) violations[`${h.property}/${h.violation}`] = (violations[`${h.property}/${h.violation}`] ?? 0) + 1;
  return { kernel: revision.name, detectedSeeds: hit.length, seeds: hunts.length, median: medians(hit), violations, hunts };
}

function logLine(id: string, s: HuntSummary): string {
  const m = s.median;
  return `  ${id} on ${s.kernel}: ${s.detectedSeeds}/${s.seeds} seeds${m ? `, median ${m.runs} runs, ${m.commands} commands, ${Math.round(m.msToFirstFailure)} ms to the first failure, shrink ${Math.round(m.shrinkMs)} ms / ${m.shrinkExecutions} executions` : ''}`;
}

/** Every seeded bug on the seed kernel; a bug from another revision also on that one. */
export function bugFinding(cfg: BenchConfig, log: (s: string) => void): BugFinding[] {
  return SEEDED_BUGS.map((b) => {
    const onSeed = summary(b.name, V2, cfg);
    log(logLine(`${b.catalogId} ${b.name}`, onSeed));
    const homeRev = findRevision((b as { kernel?: string }).kernel ?? V2.name);
    const home = homeRev && homeRev.name !== V2.name ? summary(b.name, homeRev, cfg) : null;
    if (home) log(logLine(`${b.catalogId} ${b.name}`, home));
    return { name: b.name, catalogId: b.catalogId, ...onSeed, home };
  });
}
