// Section 2 driver: three workloads, each run under the sampling profiler: the default verify
// workload, one update on many CPUs, and single-CPU commands with many TDs. Per phase, the
// median share of samples and the time per scheduler step it stands for.
import { NO_BUGS } from '../impl/faults.ts';
import { V2 } from '../properties/revisions/index.ts';
import { runScenario } from '../harness/run.ts';
import type { Scenario } from '../properties/scenario.ts';
import type { BenchConfig } from './config.ts';
import { PHASES, profiled, type Phase, type ProfileResult } from './profile.ts';
import { host, scenarioOf, singleCpuBody, tdSetup, updateBody } from './scenarios.ts';
import { median } from './stats.ts';
import { harnessPass } from './workload.ts';

export const WORKLOADS = ['verify', 'update', 'tds'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface PhaseProfile {
  readonly key: Workload;
  readonly workload: string;
  readonly reps: number;
  /** Median wall time of one profiled repetition (the profiler adds a little). */
  readonly ms: number;
  readonly steps: number;
  readonly commands: number;
  /** Median share of samples per phase. */
  readonly shares: Record<Phase, number>;
  /** The share turned into microseconds per scheduler step (generation is per run, shown per step too). */
  readonly usPerStep: Record<Phase, number>;
  readonly top: ProfileResult['top'];
}

interface Measured {
  ms: number;
  steps: number;
  commands: number;
}
interface Rep {
  m: Measured;
  p: ProfileResult;
}

async function repeatProfiled(reps: number, intervalUs: number, work: () => Measured): Promise<Rep[]> {
  const out: Rep[] = [];
  for (let i = 0; i < reps; i++) {
    let m: Measured = { ms: 0, steps: 0, commands: 0 };
    const p = await profiled(() => {
      m = work();
    }, intervalUs);
    out.push({ m, p });
  }
  return out;
}

function summarize(key: Workload, workload: string, reps: readonly Rep[]): PhaseProfile {
  const ms = median(reps.map((r) => r.m.ms));
  const { steps, commands } = reps[0]!.m;
  const shares = Object.fromEntries(PHASES.map((k) => [k, median(reps.map((r) => r.p.shares[k]))])) as Record<Phase, number>;
  const usPerStep = Object.fromEntries(PHASES.map((k) => [k, (shares[k] * ms * 1000) / Math.max(steps, 1)])) as Record<Phase, number>;
  const best = reps.reduce((a, b) => (a.p.samples >= b.p.samples ? a : b));
  return { key, workload, reps: reps.length, ms, steps, commands, shares, usPerStep, top: best.p.top };
}

function verifyWorkload(cfg: BenchConfig): Measured {
  const t0 = performance.now();
  const { total } = harnessPass(cfg.seed, cfg.runsPerProperty);
  return { ms: performance.now() - t0, steps: total.steps, commands: total.commands };
}

function scenarioWorkload(s: Scenario): Measured {
  const t0 = performance.now();
  const r = runScenario(s, { revision: V2, bugs: NO_BUGS });
  return { ms: performance.now() - t0, steps: r.steps, commands: r.commandsIssued };
}

/** What each workload runs, and its description. */
function workload(cfg: BenchConfig, key: Workload): { name: string; work: () => Measured } {
  const tds = Math.max(...cfg.tds),
    length = Math.max(...cfg.lengths),
    cpus = Math.min(...cfg.cpus);
  switch (key) {
    case 'verify':
      return { name: `default verify workload (${cfg.runsPerProperty} runs of each property, seed ${cfg.seed})`, work: () => verifyWorkload(cfg) };
    case 'update': {
      const s = scenarioOf(host(cfg.profileUpdateCpus, 1), updateBody(1));
      return { name: `one update on ${cfg.profileUpdateCpus} CPUs, no TDs`, work: () => scenarioWorkload(s) };
    }
    case 'tds': {
      const s = scenarioOf(host(cpus, 1), [...tdSetup(tds, cpus), ...singleCpuBody(length, cpus, tds)]);
      return { name: `${tds} TDs built, then ${length} single-CPU commands, ${cpus} CPUs`, work: () => scenarioWorkload(s) };
    }
  }
}

export async function whereTimeGoes(cfg: BenchConfig, log: (s: string) => void): Promise<PhaseProfile[]> {
  const out: PhaseProfile[] = [];
  for (const key of WORKLOADS) {
    const w = workload(cfg, key);
    const p = summarize(key, w.name, await repeatProfiled(Math.min(cfg.reps, 3), cfg.profileIntervalUs, w.work));
    log(`  ${p.workload}: ${Math.round(p.ms)} ms, ${p.steps} steps`);
    out.push(p);
  }
  return out;
}
