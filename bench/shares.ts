// Section 2 driver: the default verify workload and one large update, each run under the
// sampling profiler; per phase the share of samples and the time per step it stands for.
import { NO_BUGS } from '../impl/faults.ts';
import { SEED } from '../impl/kernel/revision.ts';
import { runScenario } from '../harness/run.ts';
import type { BenchConfig } from './config.ts';
import { PHASES, profiled, type Phase, type ProfileResult } from './profile.ts';
import { host, scenarioOf, updateBody } from './scenarios.ts';
import { median } from './stats.ts';
import { harnessPass } from './workload.ts';

export interface PhaseProfile {
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

interface Measured { ms: number; steps: number; commands: number }

async function repeatProfiled(reps: number, intervalUs: number, work: () => Measured): Promise<{ runs: { m: Measured; p: ProfileResult }[] }> {
  const runs: { m: Measured; p: ProfileResult }[] = [];
  for (let i = 0; i < reps; i++) {
    let m: Measured = { ms: 0, steps: 0, commands: 0 };
    const p = await profiled(() => { m = work(); }, intervalUs);
    runs.push({ m, p });
  }
  return { runs };
}

function summarize(workload: string, runs: { m: Measured; p: ProfileResult }[]): PhaseProfile {
  const ms = median(runs.map((r) => r.m.ms));
  const { steps, commands } = runs[0]!.m;
  const shares = Object.fromEntries(PHASES.map((k) => [k, median(runs.map((r) => r.p.shares[k]))])) as Record<Phase, number>;
  const usPerStep = Object.fromEntries(PHASES.map((k) => [k, (shares[k] * ms * 1000) / Math.max(steps, 1)])) as Record<Phase, number>;
  const best = runs.reduce((a, b) => (a.p.samples >= b.p.samples ? a : b));
  return { workload, reps: runs.length, ms, steps, commands, shares, usPerStep, top: best.p.top };
}

function verifyWorkload(cfg: BenchConfig): Measured {
  const t0 = performance.now();
  const { total } = harnessPass(cfg.seed, cfg.runsPerProperty);
  return { ms: performance.now() - t0, steps: total.steps, commands: total.commands };
}

function updateWorkload(cpus: number): Measured {
  const s = scenarioOf(host(cpus, 1), updateBody(1));
  const t0 = performance.now();
  const r = runScenario(s, { rev: SEED, bugs: NO_BUGS });
  return { ms: performance.now() - t0, steps: r.steps, commands: r.commandsIssued };
}

export async function whereTimeGoes(cfg: BenchConfig, log: (s: string) => void): Promise<PhaseProfile[]> {
  const reps = Math.min(cfg.reps, 3);
  const a = await repeatProfiled(reps, cfg.profileIntervalUs, () => verifyWorkload(cfg));
  const verify = summarize(`default verify workload (${cfg.runsPerProperty} runs x ${5} properties, seed ${cfg.seed})`, a.runs);
  log(`  verify workload: ${Math.round(verify.ms)} ms, ${verify.steps} steps`);
  const b = await repeatProfiled(reps, cfg.profileIntervalUs, () => updateWorkload(cfg.profileUpdateCpus));
  const update = summarize(`one update on ${cfg.profileUpdateCpus} CPUs, no TDs`, b.runs);
  log(`  one update on ${cfg.profileUpdateCpus} CPUs: ${Math.round(update.ms)} ms, ${update.steps} steps`);
  return [verify, update];
}
