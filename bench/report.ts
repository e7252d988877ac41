// reports/bench.md: the targets first, then one table per section.
import type { BugFinding, HuntSummary } from './bugs.ts';
import type { BenchConfig } from './config.ts';
import type { Diagnosis } from './diagnose.ts';
import type { MemoryFigure } from './memory.ts';
import { PHASES } from './profile.ts';
import type { BenchResult, Target } from './results.ts';
import type { Point, Scaling } from './scaling.ts';
import type { SchedulerComparison, SchedulerHunt } from './schedulers.ts';
import type { PhaseProfile } from './shares.ts';
import type { StateGrowth } from './states.ts';
import { BOUND, type BoundProjection, type SpaceSize } from './exhaustive.ts';
import type { Throughput } from './throughput.ts';

const pct = (x: number, d = 1): string => `${(x * 100).toFixed(d)}%`;
const n = (x: number, d = 0): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-');

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function header(r: BenchResult): string[] {
  const m = r.machine;
  return [
    `# Benchmark${r.smoke ? ' (smoke run: one repetition, small sizes; not a measurement)' : ''}`,
    '',
    `${r.startedAt}, ${(r.durationMs / 1000).toFixed(0)} s, kernel ${r.kernel}, source ${r.source.commit.slice(0, 12)}${r.source.dirty ? ' (uncommitted changes)' : ''}.`,
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${n(m.totalMemMiB / 1024, 1)} GiB, Node ${m.node} (V8 ${m.v8}), fast-check ${m.fastCheck}, ${m.platform}; load average ${r.load.start.toFixed(2)} at the start, ${r.load.end.toFixed(2)} at the end.`,
    '',
  ];
}

function targetsSection(ts: readonly Target[], smoke: boolean): string[] {
  const out = [
    '## Targets',
    '',
    ...(smoke ? ['Smoke sizes: the verdicts below say nothing about the real figures.', ''] : []),
    ...table(
      ['target', 'measured', 'status'],
      ts.map((t) => [t.goal, t.measured, t.status]),
    ),
    '',
  ];
  for (const t of ts.filter((x) => x.status === 'missed')) {
    out.push(`**${t.goal}: missed.** Responsible:`, '', ...t.responsible.map((l) => `- ${l}`), '', 'Fix:', '', ...t.fix.map((l) => `- ${l}`), '');
  }
  return out;
}

function throughputSection(t: Throughput, minSampleMs: number): string[] {
  return [
    "## 1. Throughput against the engine's limit",
    '',
    `Medians of ${t.reps} repetitions, alternated in this process after a warm-up pass. Full check: the default verify's generators and runs (every property, seed fixed), each scenario through model, emulator, result comparison, refinement and every invariant after every step; no shrinking (${t.harness.violations} of ${t.harness.runs} runs violated a check and stopped early). Bare: \`fc.modelRun\` over \`fc.commands\` of no-op commands, same properties' weights, runs and maximum length; each repetition repeats the bare pass for at least ${5 * minSampleMs} ms and takes the mean, since one pass takes milliseconds.`,
    '',
    ...table(
      ['', 'runs', 'commands', 'time', 'commands/s', 'us/command'],
      [
        ['full check', n(t.harness.runs), n(t.harness.commands), `${n(t.harness.ms)} ms`, n(t.harnessCommandsPerSec), n(t.harness.usPerCommand, 1)],
        ['bare fast-check', n(t.bare.runs), n(t.bare.commands), `${n(t.bare.ms, 1)} ms`, n(t.bareCommandsPerSec), n(t.bare.usPerCommand, 2)],
      ],
    ),
    '',
    `**Ratio: ${pct(t.ratio, 3)}** of the bare rate (on CPU time: ${pct(t.cpu.ratio, 3)}). ${n(t.harness.steps)} scheduler steps, ${n(t.harness.usPerStep, 1)} us per step.`,
    '',
    `The repetitions replay the warm-up's seed, so each image is built and checked once for all of them. On a new seed each repetition, as a run of \`npm run verify\` draws its own scenarios, the full check took ${n(t.newSeeds.usPerCommand, 1)} us per command (median): ${pct(t.newSeeds.ratio, 3)} of the bare rate.`,
    '',
    ...table(
      ['property', 'commands', 'time', 'commands/s'],
      t.perProperty.map((p) => [p.id, n(p.commands), `${n(p.ms)} ms`, n(p.commandsPerSec)]),
    ),
    '',
  ];
}

function profileTable(p: PhaseProfile): string[] {
  return [
    `**${p.workload}**: ${n(p.ms)} ms under the profiler, ${n(p.steps)} steps, ${n(p.commands)} commands, median of ${p.reps}.`,
    '',
    ...table(
      ['phase', 'share', 'us per step'],
      PHASES.map((k) => [k, pct(p.shares[k]), n(p.usPerStep[k], 2)]),
    ),
    '',
    `Top functions (self time): ${p.top
      .slice(0, 8)
      .map((t) => `${t.fn} ${pct(t.share)}`)
      .join('; ')}.`,
    '',
  ];
}

function profileSection(ps: readonly PhaseProfile[]): string[] {
  return [
    '## 2. Where time goes',
    '',
    "Sampled by V8's CPU profiler (node:inspector) in this process. A sample counts for invariants if properties/invariants.ts is on its stack, else refinement if refinementDiff is, else model (model/), else images if properties/images.ts imageBytes is (an upload's bytes built from the drawn image), else runner if impl/kernel/sched.ts runnableTasks() is (the scheduling choice), else emulator (impl/, the commands), else runner (the rest of runScenario's loop), else generation (fast-check and the generators outside runScenario); gc is V8's collector. \"us per step\" is the share of the wall time divided by the scheduler steps.",
    '',
    ...ps.flatMap(profileTable),
  ];
}

function cell(p: Point | undefined, show: (p: Point) => string): string {
  return p ? show(p) + (p.violation ? ' (!)' : '') : '-';
}

function singleCpuRows(s: Scaling, c: BenchConfig): string[][] {
  return c.tds.flatMap((tds) =>
    c.lengths.map((length) => {
      const at = (cpus: number) => s.singleCpu.find((p) => p.cpus === cpus && p.tds === tds && p.length === length);
      const ratio = s.singleCpuRatios.find((r) => r.tds === tds && r.length === length)?.ratio ?? NaN;
      return [`${tds} TDs, ${length} commands`, ...c.cpus.map((cpus) => cell(at(cpus), (p) => n(p.usPerCommand))), n(ratio, 2)];
    }),
  );
}

function updateRows(s: Scaling, c: BenchConfig): string[][] {
  return c.tds.map((tds) => {
    const at = (cpus: number) => s.updates.find((p) => p.cpus === cpus && p.tds === tds);
    const e = s.updateExponents.find((x) => x.tds === tds)!;
    return [
      `${tds} TDs`,
      ...c.cpus.map((cpus) => cell(at(cpus), (p) => `${n(p.usPerCommand / 1000, 1)} ms, ${n(p.stepsPerCommand)} steps`)),
      `${n(e.exponent, 2)} (last ${n(e.lastSlope, 2)}; steps ${n(e.stepsExponent, 2)})`,
    ];
  });
}

function scalingSection(s: Scaling, c: BenchConfig): string[] {
  const cols = c.cpus.map((x) => `${x} CPUs`);
  return [
    '## 3. Scaling',
    '',
    'Hand-built scenarios: N CPUs, T TDs (each created, 2 measured pages, finalized), then the body; the schedule is empty, so each command runs to completion before the next. Only the body is timed (a Proxy on the command list notes when the runner takes the first body command), so boot and TD setup are not charged. Cost is CPU time of this process, median of the repetitions ((!) marks a scenario that violated a check).',
    '',
    '**Commands on one CPU** (sysfs reads, TD runs, a CPU offline and back online), us per command:',
    '',
    ...table(['', ...cols, `${Math.max(...c.cpus)}/${Math.min(...c.cpus)} CPUs`], singleCpuRows(s, c)),
    '',
    "**Updates** (upload of a valid image: stop_machine over every CPU), cost and scheduler steps per update; k of cost ~ CPUs^k fitted on the log-log points, the slope between the two largest counts, and the steps' exponent:",
    '',
    ...table(['', ...cols, 'k'], updateRows(s, c)),
    '',
  ];
}

function diagnosisSection(d: Diagnosis): string[] {
  const [lo, hi] = d.cpus;
  return [
    `**Why single-CPU commands cost more** (${d.tds} TDs, ${d.length} commands; only the body's samples), us per command:`,
    '',
    ...table(
      ['phase', `${lo} CPUs`, `${hi} CPUs`],
      d.phases.map((p) => [p.phase, n(p.us[0], 1), n(p.us[1], 1)]),
    ),
    '',
    ...table(
      ['function (self time)', `${lo} CPUs`, `${hi} CPUs`],
      d.functions.map((x) => [x.fn, n(x.us[0], 1), n(x.us[1], 1)]),
    ),
    '',
  ];
}

function huntCells(h: HuntSummary): string[] {
  const m = h.median;
  if (!m) return [`0/${h.seeds}`, '-', '-', '-', '-', '-', '-', 'not detected'];
  const v = Object.entries(h.violations)
    .map(([k, c]) => `${k} x${c}`)
    .join(', ');
  return [
    `${h.detectedSeeds}/${h.seeds}`,
    n(m.runs),
    n(m.commands),
    n(m.msToFirstFailure),
    `${n(m.shrinkMs)} ms / ${n(m.shrinkExecutions)}`,
    `${n(m.minimizeMs)} ms / ${n(m.minimizeRuns)}`,
    n(m.length),
    v,
  ];
}

function bugRows(b: BugFinding): string[][] {
  const rows = [[`${b.catalogId} ${b.name}`, b.kernel, ...huntCells(b)]];
  if (b.home) rows.push([`${b.catalogId} ${b.name}`, `${b.home.kernel} (its own)`, ...huntCells(b.home)]);
  return rows;
}

function bugSection(bs: readonly BugFinding[], seeds: number): string[] {
  return [
    '## 4. Bug-finding speed',
    '',
    `Each seeded bug (impl/faults.ts) on the seed kernel, ${seeds} seeds; a bug that lived in another kernel revision is hunted there too (\`verify --fault\` picks that revision). Properties are checked in catalog order as \`verify --fault\` does, in its phases: search to the first failure, fast-check's shrinking (time / predicate executions), canonicalize (the minimizing pass: time / runs). Medians over the seeds that found the bug. A failure counts only if the same scenario passes without the bug.`,
    '',
    ...table(
      ['bug', 'kernel', 'found', 'runs', 'commands', 'ms to 1st failure', 'fast-check shrink', 'minimize', 'length', 'violated (property/check)'],
      bs.flatMap(bugRows),
    ),
    '',
  ];
}

function memorySection(ms: readonly MemoryFigure[]): string[] {
  return [
    '## 5. Memory',
    '',
    "Each workload in a child process under `--trace-gc`: the peak heap is the largest heap-in-use V8 reports before a collection (or at exit) in the workload's isolate; peak RSS is the process's own high-water mark (/proc/self/status VmHWM; getrusage's maxRSS would count the bench's own RSS at the fork). The verify time is wall clock including tsx start-up.",
    '',
    ...table(
      ['workload', 'peak heap', 'peak RSS', 'collections', 'wall', 'exit', 'result'],
      ms.map((m) => [
        m.workload,
        `${n(m.peakHeapMiB)} MiB`,
        `${n(m.peakRssMiB)} MiB`,
        n(m.gcs),
        `${n(m.wallMs / 1000, 1)} s`,
        String(m.exitCode),
        m.detail.replace(/\|/g, '\\|'),
      ]),
    ),
    '',
  ];
}

function schedulerCells(h: SchedulerHunt): string[] {
  return [`${h.found}/${h.seeds}`, n(h.medianRuns, 1), n(h.medianMs)];
}

function schedulerSection(c: SchedulerComparison): string[] {
  return [
    '## 6. Schedulers',
    '',
    `Each seeded concurrency fault on its own kernel revision, under \`--scheduler random\` and \`--scheduler pct --pct-depth D\`, ${c.rows[0]?.random.seeds ?? 0} seeds, at most ${c.runsPerProperty} runs per property in catalog order; only the search to the first failure is measured. Medians over every seed: a seed that found nothing counts all its runs. A failure counts only if the same scenario passes without the fault. The floor row runs random's scenarios under 64 uniform schedules each and counts the runs until one scenario fails under any of them (512 schedules gave the same floor for B7): a scheduler that runs one schedule per scenario can hardly need fewer, so floor / random is about the best ratio any scheduler can reach on these generators.`,
    '',
    ...table(
      ['fault', 'kernel', 'scheduler', 'found', 'median runs', 'median ms', 'runs / random runs'],
      c.rows.flatMap((r) =>
        [r.random, ...r.pct, r.floor].map((h) => [
          `${r.catalogId} ${r.name}`,
          r.kernel,
          h === r.floor ? "floor: random's scenarios, 64 schedules each" : h.depth === null ? h.scheduler : `${h.scheduler}, depth ${h.depth}`,
          ...schedulerCells(h),
          n(h.medianRuns / r.random.medianRuns, 2),
        ]),
      ),
    ),
    '',
  ];
}

function statesSection(gs: readonly StateGrowth[], smoke: boolean): string[] {
  const half = (g: StateGrowth) => g.growth[Math.floor(g.growth.length / 2) - 1];
  return [
    '## 7. Distinct model states',
    '',
    `The default workload (every property, the quick budget's runs, verify's seed) under each scheduler: the distinct abstract model states (model/state.ts, hashed after every linearization point) and (state, action) pairs its runs reached. Growth against runs: \`${smoke ? 'distinct-states-smoke' : 'distinct-states'}.svg\` beside this file.`,
    '',
    ...table(
      ['scheduler', 'runs', 'distinct states', 'distinct pairs', 'states after half the runs'],
      gs.map((g) => [g.scheduler, n(g.runs), n(g.states), n(g.pairs), n(half(g)?.states ?? 0)]),
    ),
    '',
  ];
}

function exhaustiveSection({ spaces: xs, bound }: { spaces: readonly SpaceSize[]; bound: readonly BoundProjection[] }): string[] {
  return [
    '## 8. Exhaustive space',
    '',
    'One scenario whose commands race (an update, a sysfs read of P-SEAMLDR from the last CPU, a version read; the first 1 to 3 of them) on 2 and 3 CPUs, every schedule within K preemptions (departures from round-robin; harness/exhaustive.ts) run once. Pruned: executions partial-order reduction skipped (not built: 0).',
    '',
    ...table(
      ['CPUs', 'commands', 'preemptions', 'executions', 'pruned', 'complete', 'time', 'ms per execution'],
      xs.map((x) => [
        n(x.cpus),
        n(x.commands),
        n(x.preemptions),
        n(x.executions),
        n(x.pruned),
        x.complete ? 'yes' : 'no',
        `${n(x.ms)} ms`,
        n(x.ms / x.executions, 2),
      ]),
    ),
    '',
    `Issue 13's bound, \`--scheduler exhaustive --explore --cpus ${BOUND.cpus} --commands ${BOUND.commands} --preemptions ${BOUND.preemptions}\` on the default kernel: each property's scenarios counted; verify explores a scenario an earlier property enumerated once (harness/verify.ts ExploredScenarios) and does not run one with an inert command (harness/exhaustive.ts firstInert), so of the others a sample is explored whole and the rest projected (with its 95% interval), stratified by the number of commands that run an update (0 to 3): the cost per scenario is heavy-tailed, and a uniform sample of 30 missed the tail (4.4 million executions projected, 12 million in the whole run at 7d01e0d).`,
    '',
    ...table(
      [
        'property',
        'scenarios',
        "an earlier property's",
        'inert (not run)',
        'sampled',
        'executions a scenario',
        'ms a scenario',
        'projected executions',
        'projected time',
      ],
      bound.map((b) => [
        b.property,
        n(b.scenarios),
        n(b.reused),
        n(b.inert),
        n(b.sampled),
        n(b.executionsPerScenario),
        n(b.msPerScenario),
        n(b.projectedExecutions),
        `${minutes(b.projectedMs)} +- ${minutes(b.projectedMsPlusMinus)}`,
      ]),
    ),
    '',
  ];
}

function minutes(ms: number): string {
  return ms < 60_000 ? `${n(ms / 1000, 1)} s` : `${n(ms / 60_000, 1)} min`;
}

export function markdown(r: BenchResult): string {
  return [
    ...header(r),
    ...targetsSection(r.targets, r.smoke),
    ...(r.throughput ? throughputSection(r.throughput, r.config.minSampleMs) : []),
    ...(r.profiles ? profileSection(r.profiles) : []),
    ...(r.scaling ? scalingSection(r.scaling, r.config) : []),
    ...(r.diagnosis ? diagnosisSection(r.diagnosis) : []),
    ...(r.bugs ? bugSection(r.bugs, r.config.bugSeeds.length) : []),
    ...(r.memory ? memorySection(r.memory) : []),
    ...(r.schedulers ? schedulerSection(r.schedulers) : []),
    ...(r.states ? statesSection(r.states, r.smoke) : []),
    ...(r.exhaustive ? exhaustiveSection(r.exhaustive) : []),
  ].join('\n');
}
