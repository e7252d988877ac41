// Section 1: commands per second of the full check against fast-check's bare model-based run,
// alternated in the same process after one warm-up pass, median over the repetitions. A bare
// pass takes milliseconds, so each bare repetition repeats it for a while and takes the mean.
import type { BenchConfig } from './config.ts';
import { barePass, barePassSampled } from './bare.ts';
import { median } from './stats.ts';
import { harnessPass, type PassTotals } from './workload.ts';

export interface Throughput {
  /** Wall-clock rates (the headline), median over the repetitions. */
  readonly harnessCommandsPerSec: number;
  readonly bareCommandsPerSec: number;
  readonly ratio: number;
  /** The same on CPU time, for a machine with other load. */
  readonly cpu: { readonly harnessCommandsPerSec: number; readonly bareCommandsPerSec: number; readonly ratio: number };
  /** One repetition's counts and median times (the default verify's runs, no shrinking). */
  readonly harness: {
    readonly runs: number;
    readonly commands: number;
    readonly steps: number;
    readonly violations: number;
    readonly ms: number;
    readonly usPerCommand: number;
    readonly usPerStep: number;
  };
  readonly bare: { readonly runs: number; readonly commands: number; readonly ms: number; readonly usPerCommand: number };
  /**
   * The full check on a new seed each repetition: the repetitions above replay the warm-up's
   * seed, so their images (and each image's checks) are built once and then reused, which a run
   * of `npm run verify` on its own seed cannot do. Median us per command, and its ratio to bare.
   */
  readonly newSeeds: { readonly usPerCommand: number; readonly ratio: number };
  readonly perProperty: readonly { readonly id: string; readonly commands: number; readonly ms: number; readonly commandsPerSec: number }[];
  readonly reps: number;
}

const perSec = (commands: number, ms: number): number => commands / (ms / 1000);

function perPropertyMedians(all: readonly Map<string, PassTotals>[]): Throughput['perProperty'] {
  return [...all[0]!.keys()].map((id) => {
    const ms = median(all.map((m) => m.get(id)!.ms));
    const commands = all[0]!.get(id)!.commands;
    return { id, commands, ms, commandsPerSec: perSec(commands, ms) };
  });
}

export function throughput(cfg: BenchConfig, log: (s: string) => void): Throughput {
  harnessPass(cfg.seed, Math.max(1, Math.round(cfg.runsPerProperty / 5)));
  barePass(cfg.seed, cfg.runsPerProperty);
  const hs: PassTotals[] = [],
    bs: PassTotals[] = [],
    fresh: number[] = [];
  const props: Map<string, PassTotals>[] = [];
  for (let i = 0; i < cfg.reps; i++) {
    const h = harnessPass(cfg.seed, cfg.runsPerProperty);
    const b = barePassSampled(cfg.seed, cfg.runsPerProperty, cfg.minSampleMs * 5);
    hs.push(h.total);
    bs.push(b);
    props.push(h.perProperty);
    log(`  rep ${i + 1}: harness ${Math.round(perSec(h.total.commands, h.total.ms))} commands/s, bare ${Math.round(perSec(b.commands, b.ms))} commands/s`);
  }
  // After the repetitions, not among them: a new seed's images evict the warm-up's from the
  // bounded caches, which made the repetitions after it 1.1 to 2 times slower.
  for (let i = 0; i < cfg.reps; i++) {
    const f = harnessPass(cfg.seed + 1 + i, cfg.runsPerProperty).total;
    fresh.push((f.ms * 1000) / f.commands);
  }
  const h = hs[0]!,
    b = bs[0]!;
  const hMs = median(hs.map((r) => r.ms)),
    bMs = median(bs.map((r) => r.ms));
  const hCpu = median(hs.map((r) => r.cpuMs)),
    bCpu = median(bs.map((r) => r.cpuMs));
  return {
    harnessCommandsPerSec: perSec(h.commands, hMs),
    bareCommandsPerSec: perSec(b.commands, bMs),
    ratio: perSec(h.commands, hMs) / perSec(b.commands, bMs),
    cpu: {
      harnessCommandsPerSec: perSec(h.commands, hCpu),
      bareCommandsPerSec: perSec(b.commands, bCpu),
      ratio: perSec(h.commands, hCpu) / perSec(b.commands, bCpu),
    },
    harness: {
      runs: h.runs,
      commands: h.commands,
      steps: h.steps,
      violations: h.violations,
      ms: hMs,
      usPerCommand: (hMs * 1000) / h.commands,
      usPerStep: (hMs * 1000) / h.steps,
    },
    bare: { runs: b.runs, commands: b.commands, ms: bMs, usPerCommand: (bMs * 1000) / b.commands },
    newSeeds: { usPerCommand: median(fresh), ratio: (bMs * 1000) / b.commands / median(fresh) },
    perProperty: perPropertyMedians(props),
    reps: cfg.reps,
  };
}
