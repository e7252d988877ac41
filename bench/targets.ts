// The issue's numbers to reach, judged on one run's figures; a missed one names the part of
// the profile responsible and the fix, with the gain the profile predicts.
import { GOALS } from './config.ts';
import { BOUND } from './exhaustive.ts';
import { CPU_COUNT_CULPRITS, culpritFor, sightings, type Sighting } from './culprits.ts';
import type { Diagnosis } from './diagnose.ts';
import type { Point, Scaling } from './scaling.ts';
import type { BenchResult, Target } from './results.ts';
import type { PhaseProfile } from './shares.ts';
import type { Throughput } from './throughput.ts';

type Figures = Omit<BenchResult, 'targets'>;

const pct = (x: number, d = 1): string => `${(x * 100).toFixed(d)}%`;
const num = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function notMeasured(id: string, goal: string, why = 'section not run'): Target {
  return { id, goal, measured: why, status: 'not measured', responsible: [], fix: [] };
}

function profileOf(f: Figures, key: PhaseProfile['key']): PhaseProfile | undefined {
  return f.profiles?.find((p) => p.key === key);
}

function sightingLines(ss: readonly Sighting[]): { responsible: string[]; fix: string[] } {
  return {
    responsible: ss.map((s) => `${s.culprit.where}: ${pct(s.share)} of the samples; ${s.culprit.why}`),
    fix: ss.map((s) => `${s.culprit.fix} (${s.culprit.where}): up to ${(1 / (1 - Math.min(s.share, 0.99))).toFixed(1)}x on that workload`),
  };
}

function phaseLine(p: PhaseProfile): string {
  const parts = Object.entries(p.shares)
    .filter(([, v]) => v >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${pct(v)}`);
  return `time of the ${p.workload}: ${parts.join(', ')}`;
}

/**
 * Driving a scenario (generation, images, emulator, runner) against checking it (model,
 * refinement, invariants); GC and the rest spread over both. With checking free, a command
 * still costs the driving part: that bounds the ratio any checker could reach.
 */
function ceiling(t: Throughput, p: PhaseProfile): { drivingUs: number; ratio: number; checkOverhead: number } {
  const s = p.shares;
  const known = 1 - s.gc - s.other;
  const driving = (s.generation + s.images + s.emulator + s.runner) / known;
  const checking = (s.model + s.refinement + s.invariants) / known;
  const drivingUs = t.harness.usPerCommand * driving;
  return { drivingUs, ratio: t.bare.usPerCommand / drivingUs, checkOverhead: checking / Math.max(driving, 1e-9) };
}

function throughputTarget(f: Figures): Target {
  const goal = `full-check throughput >= ${pct(GOALS.throughputRatio, 0)} of the bare fast-check rate`;
  const t = f.throughput;
  if (!t) return notMeasured('throughput', goal);
  const measured = `${num(t.harnessCommandsPerSec)} vs ${num(t.bareCommandsPerSec)} commands/s: ${pct(t.ratio, 2)}`;
  if (t.ratio >= GOALS.throughputRatio) return { id: 'throughput', goal, measured, status: 'met', responsible: [], fix: [] };
  const p = profileOf(f, 'verify');
  if (!p) return { id: 'throughput', goal, measured, status: 'missed', responsible: ['run the profile section to see why'], fix: [] };
  const c = ceiling(t, p);
  const s = sightingLines(sightings(p));
  const gain = sightings(p).reduce((a, x) => a + x.share, 0);
  return {
    id: 'throughput',
    goal,
    measured,
    status: 'missed',
    responsible: [
      phaseLine(p),
      `one command is ${num(t.harness.steps / t.harness.commands, 1)} scheduler steps and ${num(t.harness.usPerCommand)} us on average; a bare fast-check command is ${num(t.bare.usPerCommand, 2)} us. Even with model, refinement and invariants free, generating, building images, emulating and scheduling cost ${num(c.drivingUs)} us per command: at most ${pct(c.ratio, 2)} of the bare rate. The target cannot be reached by tuning the checker`,
      ...s.responsible,
    ],
    fix: [
      ...s.fix,
      `all of the above together: about ${num(t.harnessCommandsPerSec / Math.max(1 - gain, 0.01))} commands/s (${pct(t.ratio / Math.max(1 - gain, 0.01), 2)} of bare)`,
      `the checking itself (model + refinement + invariants) adds ${pct(c.checkOverhead)} to the time of driving the scenarios, i.e. the full check runs at ${pct(1 / (1 + c.checkOverhead))} of an unchecked run; a reachable target would be stated against that, not against no-op commands`,
    ],
  };
}

function worstRatio(sc: Scaling): Scaling['singleCpuRatios'][number] {
  return sc.singleCpuRatios.reduce((a, b) => (b.ratio > a.ratio ? b : a));
}

function pointAt(points: readonly Point[], cpus: number, tds: number, length?: number): Point | undefined {
  return points.find((p) => p.cpus === cpus && p.tds === tds && (length === undefined || p.length === length));
}

function singleCpuTarget(f: Figures): Target {
  const goal = `a command on one CPU: cost at the most / the fewest CPUs <= ${GOALS.singleCpuRatio}`;
  const sc = f.scaling;
  if (!sc) return notMeasured('single-cpu-scaling', goal);
  const w = worstRatio(sc);
  const lo = Math.min(...f.config.cpus),
    hi = Math.max(...f.config.cpus);
  const measured = `worst ${w.ratio.toFixed(2)} (${w.tds} TDs, ${w.length} commands; ${hi}/${lo} CPUs)`;
  if (w.ratio <= GOALS.singleCpuRatio) return { id: 'single-cpu-scaling', goal, measured, status: 'met', responsible: [], fix: [] };
  return { id: 'single-cpu-scaling', goal, measured, status: 'missed', ...singleCpuWhy(f, sc, w) };
}

function singleCpuWhy(f: Figures, sc: Scaling, w: Scaling['singleCpuRatios'][number]): { responsible: string[]; fix: string[] } {
  const lo = Math.min(...f.config.cpus),
    hi = Math.max(...f.config.cpus);
  const a = pointAt(sc.singleCpu, lo, w.tds, w.length)!,
    b = pointAt(sc.singleCpu, hi, w.tds, w.length)!;
  const moreSteps = b.stepsPerCommand > a.stepsPerCommand * 1.2;
  const d = f.diagnosis;
  const us = (x: readonly [number, number]) => `${num(x[0], 1)} -> ${num(x[1], 1)} us`;
  return {
    responsible: [
      `${num(a.usPerCommand)} -> ${num(b.usPerCommand)} us per command, ${num(a.stepsPerCommand, 1)} -> ${num(b.stepsPerCommand, 1)} steps per command (${lo} -> ${hi} CPUs)`,
      moreSteps
        ? 'the emulator takes more steps per command on more CPUs'
        : 'the same steps cost more on more CPUs: some work per step or per command is proportional to the CPU count',
      ...(d
        ? [
            `profile of the body alone, per command: ${d.phases
              .slice(0, 3)
              .map((p) => `${p.phase} ${us(p.us)}`)
              .join(', ')}`,
            `functions that grew most: ${d.functions
              .slice(0, 4)
              .map((x) => `${x.fn} ${us(x.us)}`)
              .join('; ')}`,
          ]
        : []),
    ],
    fix: cpuCountFixes(d),
  };
}

/** Known fixes for the functions that grew with the CPU count, else a general one. */
function cpuCountFixes(d: Diagnosis | null): string[] {
  const grew = (d?.functions ?? []).filter((x) => x.us[1] - x.us[0] > 1);
  const known = [...new Set(grew.map((x) => culpritFor(x.fn, CPU_COUNT_CULPRITS)).filter((c) => c !== undefined))];
  const fixes = known.map((c) => `${c.where}: ${c.why}. Fix: ${c.fix}`);
  return fixes.length
    ? fixes
    : ['make the functions above independent of the CPU count (compute per-CPU summaries once per change, not per step or per linearization point)'];
}

function updateTarget(f: Figures): Target {
  const goal = `an update: cost ~ CPUs^k with fitted k <= ${GOALS.updateExponent}`;
  const sc = f.scaling;
  if (!sc) return notMeasured('update-scaling', goal);
  const e = sc.updateExponents.reduce((a, b) => (b.exponent > a.exponent ? b : a));
  const measured = `k = ${e.exponent.toFixed(2)} (${e.tds} TDs; slope ${e.lastSlope.toFixed(2)} between the two largest CPU counts; steps ~ CPUs^${e.stepsExponent.toFixed(2)})`;
  if (e.exponent <= GOALS.updateExponent) return { id: 'update-scaling', goal, measured, status: 'met', responsible: [], fix: [] };
  return { id: 'update-scaling', goal, measured, status: 'missed', ...updateWhy(f, sc, e.tds) };
}

function updateWhy(f: Figures, sc: Scaling, tds: number): { responsible: string[]; fix: string[] } {
  const ps = sc.updates.filter((p) => p.tds === tds).sort((a, b) => a.cpus - b.cpus);
  const a = ps[0]!,
    b = ps[ps.length - 1]!;
  const perStep = (p: Point) => p.usPerCommand / Math.max(p.stepsPerCommand, 1);
  const quadSteps = b.stepsPerCommand / a.stepsPerCommand > (b.cpus / a.cpus) * 1.5;
  const prof = profileOf(f, 'update');
  const s = prof ? sightingLines(sightings(prof)) : { responsible: [], fix: [] };
  return {
    responsible: [
      `steps per update ${num(a.stepsPerCommand)} at ${a.cpus} CPUs -> ${num(b.stepsPerCommand)} at ${b.cpus} CPUs; cost per step ${num(perStep(a), 1)} -> ${num(perStep(b), 1)} us: cost = steps x cost per step, and both grow with the CPU count`,
      ...(quadSteps
        ? [
            "impl/kernel/seamldr.ts do_seamldr_install_module: a CPU waiting for the others spins with a `step` yield (cpu_relax). SEAMLDR.INSTALL is serialized by seamldr_lock over two steps, and between the holder's two steps the fair scheduler runs every CPU that is spinning, so one update takes about CPUs^2/2 steps",
          ]
        : []),
      ...(prof ? [phaseLine(prof)] : []),
      ...s.responsible,
    ],
    fix: [
      ...(quadSteps
        ? [
            "impl/kernel/seamldr.ts: make the spin a `wait` yield (`until: () => ctrl.state !== curstate || ctrl.numFailed > 0`); spinning on update_ctrl is unobservable, so the interleavings that matter are kept, and steps per update become linear in CPUs (a hang then shows as the runner's deadlock check, still I-6)",
          ]
        : []),
      ...s.fix,
      'with both: steps ~ CPUs and a per-step scan of a few ns per task, so the exponent should come down to about 1.0-1.1; an event-driven ready queue (wake a waiting task only when what it waits for changes) would make it exactly linear',
    ],
  };
}

function verifyTimeTarget(f: Figures): Target {
  const goal = `default \`npm run verify\` under ${GOALS.verifyMs / 60_000} minutes`;
  const v = f.memory?.[0];
  if (!v) return notMeasured('verify-time', goal);
  if (![0, 1, 3].includes(v.exitCode ?? -1)) return notMeasured('verify-time', goal, `verify crashed (exit ${v.exitCode}): ${v.detail}`);
  const measured = `${(v.wallMs / 1000).toFixed(1)} s (${v.workload}, exit ${v.exitCode})`;
  if (v.wallMs < GOALS.verifyMs) return { id: 'verify-time', goal, measured, status: 'met', responsible: [], fix: [] };
  const p = profileOf(f, 'verify');
  const s = p ? sightingLines(sightings(p)) : { responsible: [], fix: [] };
  return { id: 'verify-time', goal, measured, status: 'missed', responsible: p ? [phaseLine(p), ...s.responsible] : [], fix: s.fix };
}

function heapTarget(f: Figures): Target {
  const goal = `peak heap under ${GOALS.heapMiB} MiB (default verify; the large scenario)`;
  if (!f.memory) return notMeasured('peak-heap', goal);
  const worst = f.memory.reduce((a, b) => (b.peakHeapMiB > a.peakHeapMiB ? b : a));
  const measured = f.memory.map((m) => `${m.peakHeapMiB.toFixed(0)} MiB`).join(', ');
  if (worst.peakHeapMiB < GOALS.heapMiB) return { id: 'peak-heap', goal, measured, status: 'met', responsible: [], fix: [] };
  return {
    id: 'peak-heap',
    goal,
    measured,
    status: 'missed',
    responsible: [`${worst.workload}: not diagnosed by the bench`],
    fix: ['take a heap snapshot of that workload (node --heapsnapshot-near-heap-limit=1) to see what holds the memory'],
  };
}

/** Issue 13: PCT (its default depth) finds each concurrency fault in a quarter of random's median runs. */
function pctTarget(f: Figures): Target {
  const goal = `PCT's median runs to each seeded concurrency fault <= ${GOALS.pctRunsRatio} of random's`;
  const s = f.schedulers;
  if (!s) return notMeasured('pct', goal);
  const ratios = s.rows.map((r) => ({ id: r.catalogId, ratio: r.pct[0]!.medianRuns / r.random.medianRuns }));
  const measured = ratios.map((x) => `${x.id} ${num(x.ratio, 2)}`).join(', ');
  const missed = ratios.filter((x) => !(x.ratio <= GOALS.pctRunsRatio));
  if (!missed.length) return { id: 'pct', goal, measured, status: 'met', responsible: [], fix: [] };
  return {
    id: 'pct',
    goal,
    measured,
    status: 'missed',
    responsible: [
      "random is not uniform per step: its choice 0 is round-robin, which preempts at every yield, the fine interleaving these faults need; PCT's few change points must land inside a window of a few steps",
      `the floor (random's scenarios, 64 schedules each; section 6) bounds the ratio any scheduler could reach: ${s.rows.map((r) => `${r.catalogId} ${num(r.floor.medianRuns / r.random.medianRuns, 2)}`).join(', ')}`,
    ],
    fix: [
      'where the floor is near random, the scenarios, not the schedules, are what takes the runs: a generator that draws the racing commands more often, for every scheduler alike',
      'where it is far below: a PCT that places change points only where the running task touches state another task reads (needs per-step footprints from impl/)',
    ],
  };
}

/** Issue 13's form of the throughput target: 1% of bare, with the checking under a fifth of the run. */
function issue13ThroughputTarget(f: Figures): Target {
  const goal = `full-check throughput >= ${pct(GOALS.issue13ThroughputRatio, 1)} of bare fast-check, checking < ${pct(GOALS.checkingShare, 0)} of the run (issue 13)`;
  const t = f.throughput,
    p = profileOf(f, 'verify');
  if (!t || !p) return notMeasured('throughput-issue13', goal, 'needs the throughput and profile sections');
  const checking = p.shares.model + p.shares.refinement + p.shares.invariants;
  const measured = `${pct(t.ratio, 2)} (${num(t.harness.usPerCommand)} us per command against ${num(t.bare.usPerCommand, 2)}; on a new seed each repetition ${pct(t.newSeeds.ratio, 2)}, ${num(t.newSeeds.usPerCommand)} us); checking ${pct(checking)} of the run`;
  // Met only if a run on its own seed, building its images, gets there too.
  if (Math.min(t.ratio, t.newSeeds.ratio) >= GOALS.issue13ThroughputRatio && checking < GOALS.checkingShare)
    return { id: 'throughput-issue13', goal, measured, status: 'met', responsible: [], fix: [] };
  return { id: 'throughput-issue13', goal, measured, status: 'missed', responsible: throughputTarget(f).responsible, fix: throughputTarget(f).fix };
}

/** Issue 13: one update on 256 CPUs costs at most 20 times one on 16 (no TDs). */
function update256Target(f: Figures): Target {
  const goal = `one update on 256 CPUs <= ${GOALS.update256Over16} x one on 16 (issue 13)`;
  const at = (cpus: number) => f.scaling?.updates.find((p) => p.cpus === cpus && p.tds === 0);
  const a = at(16),
    b = at(256);
  if (!a || !b) return notMeasured('update-256-16', goal, 'needs the scaling section with 16 and 256 CPUs');
  const ratio = b.usPerCommand / a.usPerCommand;
  const measured = `${num(ratio, 1)} (${num(a.usPerCommand)} -> ${num(b.usPerCommand)} us; ${num(a.stepsPerCommand)} -> ${num(b.stepsPerCommand)} steps)`;
  if (ratio <= GOALS.update256Over16) return { id: 'update-256-16', goal, measured, status: 'met', responsible: [], fix: [] };
  return { id: 'update-256-16', goal, measured, status: 'missed', ...updateWhy(f, f.scaling!, 0) };
}

/** Issue 13: the exhaustive search within its bound in under 10 minutes, projected from section 8's samples. */
function boundTarget(f: Figures): Target {
  const goal = `\`verify --scheduler exhaustive --explore --cpus ${BOUND.cpus} --commands ${BOUND.commands} --preemptions ${BOUND.preemptions}\` under ${GOALS.boundMs / 60_000} minutes (issue 13)`;
  const b = f.exhaustive?.bound;
  if (!b?.length) return notMeasured('exhaustive-bound', goal);
  const ms = b.reduce((a, x) => a + x.projectedMs, 0),
    pm = Math.sqrt(b.reduce((a, x) => a + x.projectedMsPlusMinus ** 2, 0)),
    executions = b.reduce((a, x) => a + x.projectedExecutions, 0),
    scenarios = b.reduce((a, x) => a + x.scenarios, 0),
    reused = b.reduce((a, x) => a + x.reused, 0),
    inert = b.reduce((a, x) => a + x.inert, 0);
  const measured = `projected ${num(ms / 60_000, 1)} +- ${num(pm / 60_000, 1)} min: ${num(scenarios)} scenarios (${num(reused)} another property's too, explored once; ${num(inert)} not run, inert), ${num(executions)} executions, 0 pruned (${num(b.reduce((a, x) => a + x.sampled, 0))} scenarios explored)`;
  if (ms + pm < GOALS.boundMs) return { id: 'exhaustive-bound', goal, measured, status: 'met', responsible: [], fix: [] };
  return {
    id: 'exhaustive-bound',
    goal,
    measured,
    status: 'missed',
    responsible: [
      `every schedule within the bound runs: no partial-order reduction (harness/exhaustive.ts); ${num(ms / executions, 2)} ms an execution, each one booting a host and replaying its prefix`,
    ],
    fix: [`a reduction that keeps the bound's meaning: ${num(ms / GOALS.boundMs, 0)}x fewer executions, or as much faster ones`],
  };
}

export function targets(f: Figures): Target[] {
  return [
    throughputTarget(f),
    issue13ThroughputTarget(f),
    singleCpuTarget(f),
    updateTarget(f),
    update256Target(f),
    verifyTimeTarget(f),
    heapTarget(f),
    pctTarget(f),
    boundTarget(f),
  ];
}
