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
  /** Random's scenarios, each tried under FLOOR_SCHEDULES schedules: runs until one that can fail. */
  readonly floor: SchedulerHunt;
}

/**
 * Schedules tried per drawn scenario for the floor. Over 64 the floor did not move (B7 with 512:
 * the same 20 seeds, the same runs), so it stands for "a scenario on which the fault can show".
 */
const FLOOR_SCHEDULES = 64;

export interface SchedulerComparison {
  readonly runsPerProperty: number;
  readonly rows: readonly SchedulerRow[];
}

/** Whether `s` as scheduled fails with the fault and passes without it. */
function failsByFault(s: ScheduledScenario, o: CheckOptions): boolean {
  return (
    runScenario(s, { revision: o.revision, bugs: o.bugs }).violation !== null && runScenario(s, { revision: o.revision, bugs: NO_BUGS }).violation === null
  );
}

/**
 * Random's scenario under FLOOR_SCHEDULES uniform schedules of its own (a fixed LCG per run):
 * whether any fails. A scheduler that runs one schedule a scenario can hardly need fewer runs
 * than the first scenario for which this holds: its median is about how far any can beat random.
 */
function canFail(s: ScheduledScenario, o: CheckOptions, run: number): boolean {
  let x = run >>> 0;
  const choice = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) % 1024;
  for (let k = 0; k < FLOOR_SCHEDULES; k++) if (failsByFault({ ...s, schedule: Array.from({ length: 512 }, choice) }, o)) return true;
  return false;
}

/** Runs (over every property so far) until the first failure the fault causes; null if none. */
function hunt(o: CheckOptions, floor = false): { runs: number; found: boolean } {
  let runs = 0;
  for (const p of PROPERTIES) {
    const prop = fc.property(scenarios(p, o), (s: ScheduledScenario) => {
      runs++;
      return floor ? !canFail(s, o, runs) : !failsByFault(s, o);
    });
    if (fc.check(prop, { seed: o.seed, numRuns: o.budget.numRuns, endOnFailure: true }).failed) return { runs, found: true };
  }
  return { runs, found: false };
}

function huntAll(bug: BugName, scheduler: SchedulerName, depth: number | null, cfg: BenchConfig, floor = false): SchedulerHunt {
  const kernel = findRevision((findBug(bug) as { kernel?: string } | undefined)?.kernel ?? V2.name) ?? V2;
  const out = cfg.schedulerSeeds.map((seed) => {
    const o: CheckOptions = { ...checkOptions(seed, cfg.bugRunsPerProperty), revision: kernel, bugs: new Set([bug]), scheduler, pctDepth: depth ?? PCT_DEPTH };
    const t0 = performance.now();
    const r = hunt(o, floor);
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
    const floor = huntAll(b.name as BugName, 'random', null, cfg, true);
    const show = (h: SchedulerHunt) => `${h.scheduler}${h.depth ? ` ${h.depth}` : ''} ${h.found}/${h.seeds}, median ${h.medianRuns} runs`;
    log(`  ${id} ${b.name}: ${[random, ...pct].map(show).join('; ')}; floor ${floor.medianRuns} runs`);
    return { catalogId: id, name: b.name, kernel: (b as { kernel?: string }).kernel ?? V2.name, random, pct, floor };
  });
  return { runsPerProperty: cfg.bugRunsPerProperty, rows };
}
