// Section 6: the schedulers against the seeded concurrency faults (issue 13, part 5). Per fault,
// scheduler and seed, the properties are searched in catalog order as `verify --fault NAME
// --scheduler S` does (on the fault's own revision) until one fails: the runs and wall time to
// that first failure. Only the search is timed; shrinking is the same for both schedulers (PCT's
// data shrinks with the scenario). As in section 4, a failure counts only if the same scenario
// passes with the fault off. A seed that finds nothing within the runs is "not found": the
// median over all seeds then counts it as the cap, so a scheduler cannot look fast by failing.
import fc from 'fast-check';
import { findBug, NO_BUGS, type BugName } from '../impl/faults.ts';
import { findRevision, V2 } from '../properties/revisions/index.ts';
import { runScenario } from '../harness/run.ts';
import type { ScheduledScenario, SchedulerName } from '../harness/schedulers.ts';
import { PCT_DEPTH, scenarios, type CheckOptions } from '../harness/verify.ts';
import { PROPERTIES } from '../properties/catalog.ts';
import type { BenchConfig } from './config.ts';
import { median } from './stats.ts';
import { checkOptions } from './workload.ts';

/** One fault hunted under one scheduler over every seed. */
export interface SchedulerHunt {
  readonly scheduler: SchedulerName;
  /** PCT's depth (null for random). */
  readonly depth: number | null;
  readonly found: number;
  readonly seeds: number;
  /** Medians over every seed; a seed that found nothing counts its runs (the cap) and time. */
  readonly medianRuns: number;
  readonly medianMs: number;
  /** Per seed: runs until the first failure (null: not found). */
  readonly runs: readonly (number | null)[];
}

export interface SchedulerRow {
  readonly catalogId: string;
  readonly name: string;
  readonly kernel: string;
  readonly random: SchedulerHunt;
  /** One per depth of the configuration's pctDepths. */
  readonly pct: readonly SchedulerHunt[];
}

export interface SchedulerComparison {
  readonly runsPerProperty: number;
  readonly rows: readonly SchedulerRow[];
}

/** Runs (over every property so far) until the first failure the fault causes; null if none. */
function hunt(o: CheckOptions): { runs: number; found: boolean } {
  let runs = 0;
  for (const p of PROPERTIES) {
    const prop = fc.property(scenarios(p, o), (s: ScheduledScenario) => {
      runs++;
      if (runScenario(s, { revision: o.revision, bugs: o.bugs }).violation === null) return true;
      return runScenario(s, { revision: o.revision, bugs: NO_BUGS }).violation !== null;
    });
    if (fc.check(prop, { seed: o.seed, numRuns: o.budget.numRuns, endOnFailure: true }).failed) return { runs, found: true };
  }
  return { runs, found: false };
}

function huntAll(bug: BugName, scheduler: SchedulerName, depth: number | null, cfg: BenchConfig): SchedulerHunt {
  const kernel = findRevision((findBug(bug) as { kernel?: string } | undefined)?.kernel ?? V2.name) ?? V2;
  const out = cfg.schedulerSeeds.map((seed) => {
    const o: CheckOptions = { ...checkOptions(seed, cfg.bugRunsPerProperty), revision: kernel, bugs: new Set([bug]), scheduler, pctDepth: depth ?? PCT_DEPTH };
    const t0 = performance.now();
    const r = hunt(o);
    return { ...r, ms: performance.now() - t0 };
  });
  return {
    scheduler,
    depth,
    found: out.filter((x) => x.found).length,
    seeds: out.length,
    medianRuns: median(out.map((x) => x.runs)),
    medianMs: median(out.map((x) => x.ms)),
    runs: out.map((x) => (x.found ? x.runs : null)),
  };
}

export function schedulerComparison(cfg: BenchConfig, log: (s: string) => void): SchedulerComparison {
  const rows = cfg.schedulerFaults.map((id): SchedulerRow => {
    const b = findBug(id)!;
    const random = huntAll(b.name as BugName, 'random', null, cfg);
    const pct = cfg.pctDepths.map((d) => huntAll(b.name as BugName, 'pct', d, cfg));
    const show = (h: SchedulerHunt) => `${h.scheduler}${h.depth ? ` ${h.depth}` : ''} ${h.found}/${h.seeds}, median ${h.medianRuns} runs`;
    log(`  ${id} ${b.name}: ${[random, ...pct].map(show).join('; ')}`);
    return { catalogId: id, name: b.name, kernel: (b as { kernel?: string }).kernel ?? V2.name, random, pct };
  });
  return { runsPerProperty: cfg.bugRunsPerProperty, rows };
}
