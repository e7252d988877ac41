// Section 3: cost per command and per update as the emulated platform grows. Each point runs
// a hand-built scenario (setup + body) and times the body on its own (bodytime.ts), so boot
// and TD building are not charged to the commands. The cost is CPU time (robust to other load
// on the machine); wall time is kept next to it. Medians over the repetitions.
import { NO_BUGS } from '../impl/faults.ts';
import { V2 } from '../properties/revisions/index.ts';
import { runScenario, type RunResult } from '../harness/run.ts';
import type { Command } from '../properties/commands/index.ts';
import type { BenchConfig } from './config.ts';
import { sampleBody } from './bodytime.ts';
import { host, scenarioOf, singleCpuBody, tdSetup, updateBody } from './scenarios.ts';
import { fitExponent, median } from './stats.ts';

export interface Point {
  readonly cpus: number;
  readonly tds: number;
  /** Commands in the measured body. */
  readonly length: number;
  /** Boot and TD setup, wall ms (not charged to the body). */
  readonly setupMs: number;
  /** Body cost per command (for updates: per update): CPU and wall microseconds. */
  readonly usPerCommand: number;
  readonly wallUsPerCommand: number;
  readonly stepsPerCommand: number;
  /** A check that failed on the hand-built scenario (should be null). */
  readonly violation: string | null;
}

export interface Exponent {
  readonly tds: number;
  /** Fitted on every CPU count's log-log point. */
  readonly exponent: number;
  /** The slope between the two largest CPU counts: where the curve is heading. */
  readonly lastSlope: number;
  readonly stepsExponent: number;
}

export interface Scaling {
  readonly singleCpu: readonly Point[];
  readonly updates: readonly Point[];
  /** Per TD count and length: cost per single-CPU command at the most CPUs over the fewest. */
  readonly singleCpuRatios: readonly { readonly tds: number; readonly length: number; readonly ratio: number }[];
  readonly worstSingleCpuRatio: number;
  /** Per TD count: exponent k of cost per update ~ CPUs^k. */
  readonly updateExponents: readonly Exponent[];
  readonly worstUpdateExponent: number;
}

function violationOf(r: RunResult): string | null {
  return r.violation ? `${r.violation.id}: ${r.violation.message}` : null;
}

/** The body's cost per command; its steps are the run's minus the setup's. */
function measurePoint(cfg: BenchConfig, cpus: number, tds: number, body: readonly Command[], slots: number): Point {
  const setup = scenarioOf(host(cpus, slots), tdSetup(tds, cpus));
  const full = scenarioOf(setup.host, [...setup.commands, ...body]);
  const rs = runScenario(setup, { revision: V2, bugs: NO_BUGS });
  const samples = Array.from({ length: cfg.scalingReps }, () => sampleBody(full, setup.commands.length, cfg.minSampleMs));
  const rf = samples[0]!.result;
  const n = Math.max(body.length, 1);
  return {
    cpus,
    tds,
    length: body.length,
    setupMs: median(samples.map((x) => x.setup.wall)),
    usPerCommand: (median(samples.map((x) => x.body.cpu)) * 1000) / n,
    wallUsPerCommand: (median(samples.map((x) => x.body.wall)) * 1000) / n,
    stepsPerCommand: (rf.steps - rs.steps) / n,
    violation: violationOf(rf) ?? violationOf(rs),
  };
}

function singleCpuPoints(cfg: BenchConfig, log: (s: string) => void): Point[] {
  const out: Point[] = [];
  for (const tds of cfg.tds)
    for (const length of cfg.lengths)
      for (const cpus of cfg.cpus) {
        const p = measurePoint(cfg, cpus, tds, singleCpuBody(length, cpus, tds), 1);
        log(
          `  single-CPU commands: ${cpus} CPUs, ${tds} TDs, ${length} commands: ${p.usPerCommand.toFixed(0)} us/command${p.violation ? ` (violation ${p.violation})` : ''}`,
        );
        out.push(p);
      }
  return out;
}

function updatePoints(cfg: BenchConfig, log: (s: string) => void): Point[] {
  const out: Point[] = [];
  for (const tds of cfg.tds)
    for (const cpus of cfg.cpus) {
      const p = measurePoint(cfg, cpus, tds, updateBody(cfg.updates), cfg.updates);
      log(
        `  updates: ${cpus} CPUs, ${tds} TDs: ${(p.usPerCommand / 1000).toFixed(1)} ms/update, ${p.stepsPerCommand} steps${p.violation ? ` (violation ${p.violation})` : ''}`,
      );
      out.push(p);
    }
  return out;
}

function ratios(cfg: BenchConfig, points: readonly Point[]): Scaling['singleCpuRatios'] {
  const lo = Math.min(...cfg.cpus),
    hi = Math.max(...cfg.cpus);
  const at = (cpus: number, tds: number, length: number) => points.find((p) => p.cpus === cpus && p.tds === tds && p.length === length)!;
  return cfg.tds.flatMap((tds) => cfg.lengths.map((length) => ({ tds, length, ratio: at(hi, tds, length).usPerCommand / at(lo, tds, length).usPerCommand })));
}

function slope(a: Point, b: Point): number {
  return Math.log(b.usPerCommand / a.usPerCommand) / Math.log(b.cpus / a.cpus);
}

function exponents(cfg: BenchConfig, points: readonly Point[]): Exponent[] {
  return cfg.tds.map((tds) => {
    const ps = points.filter((p) => p.tds === tds).sort((a, b) => a.cpus - b.cpus);
    return {
      tds,
      exponent: fitExponent(ps.map((p) => ({ x: p.cpus, y: p.usPerCommand }))),
      lastSlope: slope(ps[ps.length - 2]!, ps[ps.length - 1]!),
      stepsExponent: fitExponent(ps.map((p) => ({ x: p.cpus, y: p.stepsPerCommand }))),
    };
  });
}

/** Compiles the hot paths before anything is timed: each kind of body, at the fewest and the most CPUs up to 64. */
function warmUp(cfg: BenchConfig): void {
  const tds = Math.min(8, Math.max(...cfg.tds));
  for (const cpus of [Math.min(...cfg.cpus), Math.min(64, Math.max(...cfg.cpus))]) {
    const plain = scenarioOf(host(cpus, 1), singleCpuBody(1000, cpus, 0));
    const withTds = scenarioOf(host(cpus, 1), [...tdSetup(tds, cpus), ...singleCpuBody(100, cpus, tds), ...updateBody(1)]);
    for (let i = 0; i < 3; i++) {
      runScenario(plain, { revision: V2, bugs: NO_BUGS });
      runScenario(withTds, { revision: V2, bugs: NO_BUGS });
    }
  }
}

export function scaling(cfg: BenchConfig, log: (s: string) => void): Scaling {
  warmUp(cfg);
  const singleCpu = singleCpuPoints(cfg, log);
  const updates = updatePoints(cfg, log);
  const singleCpuRatios = ratios(cfg, singleCpu);
  const updateExponents = exponents(cfg, updates);
  return {
    singleCpu,
    updates,
    singleCpuRatios,
    updateExponents,
    worstSingleCpuRatio: Math.max(...singleCpuRatios.map((r) => r.ratio)),
    worstUpdateExponent: Math.max(...updateExponents.map((e) => e.exponent)),
  };
}
