// Section 7: distinct-state coverage (issue 13, part 4). The default workload (every property,
// the quick budget's runs, verify's seed) under each scheduler, counting the distinct abstract
// model states and (state, action) pairs the runs reach, and how the counts grow with the runs:
// a curve that flattens says more runs of this kind find little new. Drawn as an SVG.
import fc from 'fast-check';
import { NO_BUGS } from '../impl/faults.ts';
import { DistinctStates } from '../harness/explore.ts';
import { writeReportAtomic } from '../harness/files.ts';
import { runScenario } from '../harness/run.ts';
import { SCHEDULERS, type SchedulerName } from '../harness/schedulers.ts';
import { scenarios, type CheckOptions } from '../harness/verify.ts';
import { PROPERTIES } from '../properties/catalog.ts';
import type { BenchConfig } from './config.ts';
import { checkOptions } from './workload.ts';

export interface StateGrowth {
  readonly scheduler: SchedulerName;
  readonly runs: number;
  readonly states: number;
  readonly pairs: number;
  /** After every run: the runs so far, distinct states, distinct pairs. */
  readonly growth: readonly { readonly runs: number; readonly states: number; readonly pairs: number }[];
}

function grow(scheduler: SchedulerName, cfg: BenchConfig): StateGrowth {
  const d = new DistinctStates();
  for (const p of PROPERTIES) {
    const o: CheckOptions = { ...checkOptions(cfg.seed, cfg.runsPerProperty), scheduler };
    const prop = fc.property(scenarios(p, o), (s) => {
      d.add(runScenario(s, { revision: o.revision, bugs: NO_BUGS }).reached);
    });
    fc.check(prop, { seed: o.seed, numRuns: o.budget.numRuns });
  }
  return { scheduler, runs: d.runs, states: d.states.size, pairs: d.pairs.size, growth: d.growth };
}

const W = 640,
  H = 360,
  PAD = 48;
const COLOURS: Record<SchedulerName, string> = { random: '#1f77b4', pct: '#d62728', exhaustive: '#2ca02c' };

/** Distinct states (solid) and pairs (dashed) against runs, one colour per scheduler. */
export function growthSvg(gs: readonly StateGrowth[]): string {
  const maxX = Math.max(1, ...gs.map((g) => g.runs)),
    maxY = Math.max(1, ...gs.map((g) => g.pairs));
  const x = (v: number) => (PAD + ((W - 2 * PAD) * v) / maxX).toFixed(1),
    y = (v: number) => (H - PAD - ((H - 2 * PAD) * v) / maxY).toFixed(1);
  const line = (g: StateGrowth, k: 'states' | 'pairs') =>
    `<polyline fill="none" stroke="${COLOURS[g.scheduler]}"${k === 'pairs' ? ' stroke-dasharray="6 4"' : ''} points="${g.growth.map((p) => `${x(p.runs)},${y(p[k])}`).join(' ')}"/>`;
  const legend = gs.map(
    (g, i) =>
      `<text x="${PAD + 8}" y="${PAD + 16 * (i + 1)}" fill="${COLOURS[g.scheduler]}">${g.scheduler}: ${g.states} states (solid), ${g.pairs} pairs (dashed)</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="black"/><line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${H - PAD}" stroke="black"/>`,
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">runs (default workload, every property in catalog order; max ${maxX})</text>`,
    `<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">distinct (max ${maxY})</text>`,
    ...gs.flatMap((g) => [line(g, 'states'), line(g, 'pairs')]),
    ...legend,
    '</svg>',
  ].join('\n');
}

export function stateGrowth(cfg: BenchConfig, svgFile: string, log: (s: string) => void): StateGrowth[] {
  const gs = SCHEDULERS.map((s) => grow(s, cfg));
  for (const g of gs) log(`  ${g.scheduler}: ${g.states} distinct states, ${g.pairs} distinct pairs over ${g.runs} runs`);
  writeReportAtomic(svgFile, growthSvg(gs) + '\n');
  return gs;
}
