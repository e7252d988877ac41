// When single-CPU commands cost more on more CPUs: profile the body of the worst point at the
// fewest and the most CPUs (only the samples taken while the body ran, median of up to three
// repetitions) and show, per phase and per function, the CPU microseconds per command.
import type { BenchConfig } from './config.ts';
import { timeBody, type BodyTiming } from './bodytime.ts';
import { attribute, PHASES, profileRaw, type Phase } from './profile.ts';
import { host, scenarioOf, singleCpuBody, tdSetup } from './scenarios.ts';
import { median } from './stats.ts';

export interface Diagnosis {
  readonly tds: number;
  readonly length: number;
  readonly cpus: readonly [number, number];
  /** CPU-independent costs stay level; what grows is listed first. */
  readonly phases: readonly { readonly phase: Phase; readonly us: readonly [number, number] }[];
  readonly functions: readonly { readonly fn: string; readonly us: readonly [number, number] }[];
}

/** Microseconds per command, per phase and per function, of one profiled body. */
interface BodyCost {
  phases: Map<string, number>;
  functions: Map<string, number>;
}

async function bodyProfile(cfg: BenchConfig, cpus: number, tds: number, length: number): Promise<BodyCost> {
  const setup = tdSetup(tds, cpus);
  const s = scenarioOf(host(cpus, 1), [...setup, ...singleCpuBody(length, cpus, tds)]);
  timeBody(s, setup.length); // warm
  let t: BodyTiming | null = null;
  const raw = await profileRaw(() => {
    t = timeBody(s, setup.length);
  }, cfg.profileIntervalUs);
  const w = t!.window;
  const p = attribute(raw, cfg.profileIntervalUs, 40, (ts) => ts >= w.fromUs && ts <= w.toUs);
  // Samples are taken on wall time; scaling by the body's CPU time keeps other load out.
  const us = (t!.body.cpu * 1000) / length;
  return { phases: new Map(PHASES.map((k) => [k, p.shares[k] * us])), functions: new Map(p.top.map((f) => [f.fn, f.share * us])) };
}

/** Median over the repetitions, key by key (a key missing from a repetition counts as 0). */
function medianCost(reps: readonly BodyCost[]): BodyCost {
  const med = (pick: (c: BodyCost) => Map<string, number>) => {
    const keys = new Set(reps.flatMap((c) => [...pick(c).keys()]));
    return new Map([...keys].map((k) => [k, median(reps.map((c) => pick(c).get(k) ?? 0))]));
  };
  return { phases: med((c) => c.phases), functions: med((c) => c.functions) };
}

async function repeatedBody(cfg: BenchConfig, cpus: number, tds: number, length: number): Promise<BodyCost> {
  const reps: BodyCost[] = [];
  for (let i = 0; i < Math.min(cfg.reps, 3); i++) reps.push(await bodyProfile(cfg, cpus, tds, length));
  return medianCost(reps);
}

/** Both sizes' costs per key, what grew most first. */
function growth(a: Map<string, number>, b: Map<string, number>, top: number): { key: string; us: readonly [number, number] }[] {
  return [...new Set([...a.keys(), ...b.keys()])]
    .map((key) => ({ key, us: [a.get(key) ?? 0, b.get(key) ?? 0] as const }))
    .sort((x, y) => y.us[1] - y.us[0] - (x.us[1] - x.us[0]))
    .slice(0, top);
}

export async function diagnoseSingleCpu(cfg: BenchConfig, tds: number, length: number): Promise<Diagnosis> {
  const lo = Math.min(...cfg.cpus),
    hi = Math.max(...cfg.cpus);
  const a = await repeatedBody(cfg, lo, tds, length),
    b = await repeatedBody(cfg, hi, tds, length);
  return {
    tds,
    length,
    cpus: [lo, hi],
    phases: growth(a.phases, b.phases, PHASES.length).map((x) => ({ phase: x.key as Phase, us: x.us })),
    functions: growth(a.functions, b.functions, 6).map((x) => ({ fn: x.key, us: x.us })),
  };
}
