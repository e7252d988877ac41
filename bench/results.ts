// The shape of reports/bench.json: every section's figures plus the targets' verdicts.
import type { BugFinding } from './bugs.ts';
import type { BenchConfig } from './config.ts';
import type { Diagnosis } from './diagnose.ts';
import type { BoundProjection, SpaceSize } from './exhaustive.ts';
import type { Machine } from './machine.ts';
import type { MemoryFigure } from './memory.ts';
import type { Scaling } from './scaling.ts';
import type { SchedulerComparison } from './schedulers.ts';
import type { StateGrowth } from './states.ts';
import type { PhaseProfile } from './shares.ts';
import type { Throughput } from './throughput.ts';

export interface Target {
  readonly id: string;
  readonly goal: string;
  readonly measured: string;
  readonly status: 'met' | 'missed' | 'not measured';
  /** Which part of the profile is responsible (when missed). */
  readonly responsible: readonly string[];
  /** What would fix it, with the expected gain (when missed). */
  readonly fix: readonly string[];
}

export interface BenchResult {
  readonly tool: string;
  readonly smoke: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: Machine;
  readonly source: { readonly commit: string; readonly dirty: boolean };
  readonly kernel: string;
  /** 1-minute load average when the run started and ended: other work on the machine. */
  readonly load: { readonly start: number; readonly end: number };
  readonly config: BenchConfig;
  readonly throughput: Throughput | null;
  readonly profiles: readonly PhaseProfile[] | null;
  readonly scaling: Scaling | null;
  /** Only when single-CPU commands miss their goal: the body profiled at the fewest and most CPUs. */
  readonly diagnosis: Diagnosis | null;
  readonly bugs: readonly BugFinding[] | null;
  readonly memory: readonly MemoryFigure[] | null;
  readonly schedulers: SchedulerComparison | null;
  /** Distinct model states per scheduler on the default workload (the curve: reports/distinct-states.svg). */
  readonly states: readonly StateGrowth[] | null;
  /** The exhaustive scheduler's executions per bound, and issue 13's bound projected (section 8). */
  readonly exhaustive: { readonly spaces: readonly SpaceSize[]; readonly bound: readonly BoundProjection[] } | null;
  readonly targets: readonly Target[];
}

/** The sections a run can be limited to (`--only`). */
export const SECTIONS = ['throughput', 'profile', 'scaling', 'bugs', 'memory', 'schedulers', 'states', 'exhaustive'] as const;
export type Section = (typeof SECTIONS)[number];
