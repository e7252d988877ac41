// What one bench run measures and how often: the full run and the smoke run CI calls, and the
// command line that picks one, checked whole before the minutes of measurement start.
import { parseArgs } from 'node:util';
import { HelpRequest, UsageError } from '../harness/cli/args.ts';
import { writable } from '../harness/cli/record.ts';
import { argvError, show } from '../harness/schema.ts';
import { SECTIONS, type Section } from './results.ts';

export interface BenchConfig {
  readonly smoke: boolean;
  /** Repetitions per figure; every reported time is the median over them. */
  readonly reps: number;
  /** Repetitions per scaling point (each one runs the scenario and its setup). */
  readonly scalingReps: number;
  /** The seed of every fast-check run (verify's default). */
  readonly seed: number;
  /** fast-check runs per property in the throughput and profile workloads (quick budget: 100). */
  readonly runsPerProperty: number;
  /** Sampling interval of the CPU profiler, in microseconds. */
  readonly profileIntervalUs: number;
  /** CPU count of the update profiled on its own. */
  readonly profileUpdateCpus: number;
  readonly cpus: readonly number[];
  readonly tds: readonly number[];
  readonly lengths: readonly number[];
  /** Updates issued per scaling point. */
  readonly updates: number;
  /** A single time sample repeats the scenario until this much wall time has passed. */
  readonly minSampleMs: number;
  /** Seeds each seeded bug is hunted with (the median is over them). */
  readonly bugSeeds: readonly number[];
  /** fast-check runs per property while hunting a seeded bug. */
  readonly bugRunsPerProperty: number;
  /** The concurrency faults hunted under each scheduler (section 6), the PCT depths, and the seeds. */
  readonly schedulerFaults: readonly string[];
  readonly pctDepths: readonly number[];
  readonly schedulerSeeds: readonly number[];
  /** Scenarios explored per property to project issue 13's exhaustive bound (section 8). */
  readonly boundSamples: number;
  /** The large memory scenario, and the verify arguments measured for time and memory. */
  readonly memory: { readonly cpus: number; readonly tds: number; readonly length: number; readonly updates: number; readonly verifyArgs: readonly string[] };
}

export const FULL: BenchConfig = {
  smoke: false,
  reps: 5,
  scalingReps: 3,
  seed: 42,
  runsPerProperty: 100,
  profileIntervalUs: 100,
  profileUpdateCpus: 256,
  cpus: [4, 16, 64, 256],
  tds: [0, 8, 64],
  lengths: [10, 100, 1000],
  updates: 1,
  minSampleMs: 40,
  bugSeeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  bugRunsPerProperty: 100,
  schedulerFaults: ['B4', 'B21', 'B23', 'B7', 'B27'],
  pctDepths: [3, 8],
  schedulerSeeds: Array.from({ length: 20 }, (_, i) => i + 1),
  boundSamples: 30,
  memory: { cpus: 256, tds: 64, length: 1000, updates: 2, verifyArgs: [] },
};

/** One repetition, small sizes: checks that every section runs, not how fast (CI). */
export const SMOKE: BenchConfig = {
  smoke: true,
  reps: 1,
  scalingReps: 1,
  seed: 42,
  runsPerProperty: 5,
  profileIntervalUs: 200,
  profileUpdateCpus: 8,
  cpus: [4, 16],
  tds: [0, 8],
  lengths: [10, 100],
  updates: 1,
  minSampleMs: 0,
  bugSeeds: [1],
  bugRunsPerProperty: 10,
  schedulerFaults: ['B23'],
  pctDepths: [3],
  schedulerSeeds: [1],
  boundSamples: 1,
  memory: { cpus: 16, tds: 8, length: 100, updates: 1, verifyArgs: ['--property', 'corrupt-images'] },
};

/** The issue's numbers to reach. */
export const GOALS = {
  /** Full-check commands/s over bare fast-check commands/s, at least. */
  throughputRatio: 0.25,
  /** Cost of a single-CPU command at the most CPUs over the fewest, at most. */
  singleCpuRatio: 1.5,
  /** Exponent k of cost per update ~ CPUs^k, at most. */
  updateExponent: 1.1,
  /** Default `npm run verify`, wall clock, under. */
  verifyMs: 120_000,
  /** Peak heap, under. */
  heapMiB: 512,
  /** PCT's median runs to a concurrency fault over random's, at most (issue 13). */
  pctRunsRatio: 0.25,
  /** Issue 13: full-check commands/s over bare fast-check's, at least, with checking under this share of the run. */
  issue13ThroughputRatio: 0.01,
  checkingShare: 0.2,
  /** Issue 13: one update on 256 CPUs over one on 16, at most. */
  update256Over16: 20,
  /** Issue 13: `verify --scheduler exhaustive --explore --cpus 2 --commands 3 --preemptions 2` (default kernel), under. */
  boundMs: 600_000,
} as const;

export const USAGE = `usage: npm run bench -- [--smoke] [--json] [--reports DIR] [--only SECTION[,SECTION]]
  sections: ${SECTIONS.join(', ')}`;

export interface BenchCli {
  readonly cfg: BenchConfig;
  readonly json: boolean;
  readonly reports: string;
  readonly only: ReadonlySet<Section>;
}

/** The command line; throws UsageError, or HelpRequest for --help. */
export function parseCli(argv: readonly string[]): BenchCli {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        smoke: { type: 'boolean' },
        json: { type: 'boolean' },
        reports: { type: 'string' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    throw new UsageError(argvError(e));
  }
  if (v.help) throw new HelpRequest();
  const only = (v.only ?? SECTIONS.join(',')).split(',').map((s) => {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new UsageError(`--only: no section ${show(s)} (one of ${SECTIONS.join(', ')})`);
    return s as Section;
  });
  const cfg = v.smoke ? SMOKE : FULL;
  return { cfg, json: v.json ?? false, reports: reportsDir(v.reports ?? 'reports', cfg), only: new Set(only) };
}

/** The files a run writes into --reports; the smoke run's have their own names, so CI's never replace a full run's. */
export function reportFiles(cfg: BenchConfig): { readonly json: string; readonly md: string; readonly svg: string } {
  const suffix = cfg.smoke ? '-smoke' : '';
  return { json: `bench${suffix}.json`, md: `bench${suffix}.md`, svg: `distinct-states${suffix}.svg` };
}

/** The reports are written after the run: a directory that cannot take them is refused before it. */
function reportsDir(dir: string, cfg: BenchConfig): string {
  // '' would put the reports at the root: `${dir}/bench.json` is /bench.json
  if (dir === '') throw new UsageError('--reports needs a directory name');
  writable('--reports', dir, Object.values(reportFiles(cfg)));
  return dir;
}
