// Section 8: the size of the exhaustive scheduler's space (issue 13, part 5). For 2 and 3 CPUs
// and 1 to 3 commands, one scenario where the commands race: an update (the stop_machine over
// every CPU), a sysfs read of P-SEAMLDR from the last CPU, a read of the module version. Every
// schedule within 0, 1 and 2 preemptions is run (harness/exhaustive.ts); the executions, the
// ones partial-order reduction would skip (none: it is not built) and the wall time. Then
// issue 13's bound (`--explore --cpus 2 --commands 3 --preemptions 2`), projected from samples.
import { enumerateScenarios, exploreSchedules, firstInert, scenarioKey } from '../harness/exhaustive.ts';
import { genConfig } from '../harness/verify.ts';
import { PROPERTIES } from '../properties/catalog.ts';
import { checkOptions } from './workload.ts';
import { NO_BUGS } from '../impl/faults.ts';
import type { Command } from '../properties/commands/index.ts';
import { V2 } from '../properties/revisions/index.ts';
import type { Scenario } from '../properties/scenario.ts';

export interface SpaceSize {
  readonly cpus: number;
  readonly commands: number;
  readonly preemptions: number;
  readonly executions: number;
  readonly pruned: number;
  readonly complete: boolean;
  readonly ms: number;
}

function racing(cpus: number, commands: number): Scenario {
  const all: Command[] = [
    { kind: 'upload', image: { release: '1.5.08', svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false, corruption: null }, fault: null },
    { kind: 'read_seamldr', attr: 'version', cpu: cpus - 1 } as Command,
    { kind: 'read_version' },
  ];
  const host = { nrCpus: cpus, boot: { release: '1.5.06', moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots: 2, debugUnlocked: false };
  return { host, commands: all.slice(0, commands), schedule: [] };
}

export function spaceSizes(smoke: boolean, log: (s: string) => void): SpaceSize[] {
  const out: SpaceSize[] = [];
  for (const cpus of [2, 3])
    for (let commands = 1; commands <= 3; commands++)
      for (const preemptions of smoke ? [0, 1] : [0, 1, 2]) {
        const t0 = performance.now();
        const e = exploreSchedules(racing(cpus, commands), { revision: V2, bugs: NO_BUGS }, { preemptions, maxExecutions: 1e6 });
        const ms = performance.now() - t0;
        out.push({ cpus, commands, preemptions, executions: e.executions, pruned: 0, complete: e.complete, ms });
        log(`  ${cpus} CPUs, ${commands} commands, ${preemptions} preemptions: ${e.executions} executions, ${Math.round(ms)} ms`);
      }
  return out;
}

/** Issue 13's bound, projected for one property: `--explore --cpus 2 --commands 3 --preemptions 2`. */
export interface BoundProjection {
  readonly property: string;
  /** Scenarios of 1 to 3 commands the enumeration yields. */
  readonly scenarios: number;
  /** Of those with no inert command, the ones an earlier property runs too: verify explores them once (harness/verify.ts ExploredScenarios). */
  readonly reused: number;
  /** Of the scenarios, the ones verify does not run: an inert command makes each the scenario without it (harness/exhaustive.ts firstInert). */
  readonly inert: number;
  readonly sampled: number;
  readonly executionsPerScenario: number;
  readonly msPerScenario: number;
  readonly projectedExecutions: number;
  readonly projectedMs: number;
  /** Half the 95% confidence interval of projectedMs (1.96 standard errors of the sample mean). */
  readonly projectedMsPlusMinus: number;
}

export const BOUND = { cpus: 2, commands: 3, preemptions: 2 } as const;

/** Commands that run an update (stop_machine over every CPU): a scenario's cost grows with them. */
const updating = (s: Scenario) => s.commands.filter((c) => c.kind === 'upload' || c.kind === 'tool_update').length;

/**
 * Every property's scenarios under issue 13's bound on the default kernel, counted; of those
 * with no inert command (verify does not run those) and no earlier property's (verify explores
 * each scenario once), a stratified sample explored whole as verify does, and the executions and
 * time of all of them projected with a 95% interval. The strata are the number of updating
 * commands (0 to 3): a scenario's cost is heavy-tailed, a few with two or three updates cost a
 * hundred times the median, and a uniform sample of 30 projected 4.4 million executions where the whole run took 12 million (README,
 * "Schedulers and distinct states"). Each stratum gets its share of `samples`, and at least
 * `MIN_PER_STRATUM` (`samples` when fewer; all of it when smaller), drawn uniformly by a seeded LCG.
 */
export function boundProjection(samples: number, seed: number, log: (s: string) => void): BoundProjection[] {
  const o = { ...checkOptions(seed, 100), cpus: BOUND.cpus, scheduler: 'exhaustive' as const };
  let x = seed >>> 0;
  const draw = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const earlier = new Set<string>();
  return PROPERTIES.map((p) => {
    const enumerated = [...enumerateScenarios(genConfig(p, o), seed, BOUND.commands)];
    // In verify's order: an inert scenario is not run, so it is never taken from an earlier property.
    const live = enumerated.filter((s) => firstInert(s.commands) < 0);
    const all = live.filter((s) => !earlier.has(scenarioKey(s)));
    for (const s of live) earlier.add(scenarioKey(s));
    const strata = [0, 1, 2, 3].map((k) => all.filter((s) => updating(s) === k)).filter((h) => h.length > 0);
    let executions = 0,
      ms = 0,
      variance = 0,
      sampled = 0;
    for (const h of strata) {
      const n = Math.min(h.length, Math.max(Math.min(MIN_PER_STRATUM, samples), Math.round((samples * h.length) / all.length)));
      const costs = Array.from({ length: n }, () => explore(h[draw(h.length)]!));
      const mean = (f: (c: Cost) => number) => costs.reduce((a, c) => a + f(c), 0) / n;
      const m = mean((c) => c.ms);
      executions += mean((c) => c.executions) * h.length;
      ms += m * h.length;
      // the variance of the stratum's total; a stratum explored whole has none
      if (n < h.length) variance += (h.length ** 2 * costs.reduce((a, c) => a + (c.ms - m) ** 2, 0)) / Math.max(n - 1, 1) / n;
      sampled += n;
    }
    const b = {
      property: p.id,
      scenarios: enumerated.length,
      reused: live.length - all.length,
      inert: enumerated.length - live.length,
      sampled,
      executionsPerScenario: executions / Math.max(all.length, 1),
      msPerScenario: ms / Math.max(all.length, 1),
      projectedExecutions: executions,
      projectedMs: ms,
      projectedMsPlusMinus: 1.96 * Math.sqrt(variance),
    };
    log(
      `  ${p.id}: ${enumerated.length} scenarios, ${all.length} not an earlier property's nor inert, ${Math.round(b.executionsPerScenario)} executions and ${Math.round(b.msPerScenario)} ms a scenario (${sampled} sampled in ${strata.length} strata): about ${Math.round(ms / 60_000)} +- ${Math.round(b.projectedMsPlusMinus / 60_000)} min`,
    );
    return b;
  });
}

const MIN_PER_STRATUM = 6;

interface Cost {
  readonly executions: number;
  readonly ms: number;
}

function explore(s: Scenario): Cost {
  const t0 = performance.now();
  const e = exploreSchedules(s, { revision: V2, bugs: NO_BUGS }, { preemptions: BOUND.preemptions, maxExecutions: 100_000 });
  return { executions: e.executions, ms: performance.now() - t0 };
}
