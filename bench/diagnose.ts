// When single-CPU commands cost more on more CPUs: profile the body of the worst point at the
// fewest and the most CPUs (only the samples taken while the body ran) and show, per phase and
// per function, the microseconds per command at each size.
import type { BenchConfig } from './config.ts';
import { timeBody, type BodyTiming } from './bodytime.ts';
import { attribute, PHASES, profileRaw, type Phase, type ProfileResult } from './profile.ts';
import { host, scenarioOf, singleCpuBody, tdSetup } from './scenarios.ts';

export interface Diagnosis {
  readonly tds: number;
  readonly length: number;
  readonly cpus: readonly [number, number];
  /** CPU-independent costs stay level; what grows is listed first. */
  readonly phases: readonly { readonly phase: Phase; readonly us: readonly [number, number] }[];
  readonly functions: readonly { readonly fn: string; readonly us: readonly [number, number] }[];
}

async function bodyProfile(cfg: BenchConfig, cpus: number, tds: number, length: number): Promise<{ p: ProfileResult; usPerCommand: number }> {
  const setup = tdSetup(tds, cpus);
  const s = scenarioOf(host(cpus, 1), [...setup, ...singleCpuBody(length, cpus, tds)]);
  timeBody(s, setup.length); // warm
  let t: BodyTiming | null = null;
  const raw = await profileRaw(() => { t = timeBody(s, setup.length); }, cfg.profileIntervalUs);
  const w = t!.window;
  return { p: attribute(raw, cfg.profileIntervalUs, 40, (ts) => ts >= w.fromUs && ts <= w.toUs), usPerCommand: (t!.body.wall * 1000) / length };
}

function functionGrowth(a: ProfileResult, ua: number, b: ProfileResult, ub: number): Diagnosis['functions'] {
  const us = (p: ProfileResult, u: number, fn: string) => (p.top.find((t) => t.fn === fn)?.share ?? 0) * u;
  const fns = new Set([...a.top, ...b.top].map((t) => t.fn));
  return [...fns].map((fn) => ({ fn, us: [us(a, ua, fn), us(b, ub, fn)] as const }))
    .sort((x, y) => (y.us[1] - y.us[0]) - (x.us[1] - x.us[0]))
    .slice(0, 6);
}

export async function diagnoseSingleCpu(cfg: BenchConfig, tds: number, length: number): Promise<Diagnosis> {
  const lo = Math.min(...cfg.cpus), hi = Math.max(...cfg.cpus);
  const a = await bodyProfile(cfg, lo, tds, length), b = await bodyProfile(cfg, hi, tds, length);
  const phases = PHASES.map((phase) => ({ phase, us: [a.p.shares[phase] * a.usPerCommand, b.p.shares[phase] * b.usPerCommand] as const }))
    .sort((x, y) => (y.us[1] - y.us[0]) - (x.us[1] - x.us[0]));
  return { tds, length, cpus: [lo, hi], phases, functions: functionGrowth(a.p, a.usPerCommand, b.p, b.usPerCommand) };
}
