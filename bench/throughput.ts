// Section 1: commands per second of the full check against fast-check's bare model-based run,
// alternated in the same process, median over the repetitions.
import type { BenchConfig } from './config.ts';
import { barePass } from './bare.ts';
import { median } from './stats.ts';
import { harnessPass, type PassTotals } from './workload.ts';

export interface ThroughputRep {
  readonly harness: PassTotals;
  readonly bare: PassTotals;
}

export interface Throughput {
  readonly harnessCommandsPerSec: number;
  readonly bareCommandsPerSec: number;
  readonly ratio: number;
  /** Median per-run figures of the harness workload (the default verify's runs, no shrinking). */
  readonly harness: { readonly runs: number; readonly commands: number; readonly steps: number; readonly violations: number; readonly ms: number; readonly usPerCommand: number; readonly usPerStep: number };
  readonly bare: { readonly runs: number; readonly commands: number; readonly ms: number; readonly usPerCommand: number };
  readonly perProperty: readonly { readonly id: string; readonly commands: number; readonly ms: number; readonly commandsPerSec: number }[];
  readonly reps: readonly ThroughputRep[];
}

const perSec = (t: PassTotals): number => t.commands / (t.ms / 1000);

function perPropertyMedians(all: readonly Map<string, PassTotals>[]): Throughput['perProperty'] {
  return [...all[0]!.keys()].map((id) => {
    const ms = median(all.map((m) => m.get(id)!.ms));
    const commands = all[0]!.get(id)!.commands;
    return { id, commands, ms, commandsPerSec: commands / (ms / 1000) };
  });
}

export function throughput(cfg: BenchConfig, log: (s: string) => void): Throughput {
  const reps: ThroughputRep[] = [];
  const props: Map<string, PassTotals>[] = [];
  for (let i = 0; i < cfg.reps; i++) {
    const h = harnessPass(cfg.seed, cfg.runsPerProperty);
    const bare = barePass(cfg.seed, cfg.runsPerProperty);
    reps.push({ harness: h.total, bare });
    props.push(h.perProperty);
    log(`  rep ${i + 1}: harness ${Math.round(perSec(h.total))} commands/s, bare ${Math.round(perSec(bare))} commands/s`);
  }
  const hRate = median(reps.map((r) => perSec(r.harness)));
  const bRate = median(reps.map((r) => perSec(r.bare)));
  const h = reps[0]!.harness, b = reps[0]!.bare;
  const hMs = median(reps.map((r) => r.harness.ms)), bMs = median(reps.map((r) => r.bare.ms));
  return {
    harnessCommandsPerSec: hRate, bareCommandsPerSec: bRate, ratio: hRate / bRate,
    harness: { runs: h.runs, commands: h.commands, steps: h.steps, violations: h.violations, ms: hMs, usPerCommand: (hMs * 1000) / h.commands, usPerStep: (hMs * 1000) / h.steps },
    bare: { runs: b.runs, commands: b.commands, ms: bMs, usPerCommand: (bMs * 1000) / b.commands },
    perProperty: perPropertyMedians(props),
    reps,
  };
}
