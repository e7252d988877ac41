// `npm run bench`: measures the harness (throughput against bare fast-check, where time goes,
// scaling with CPUs/TDs/length, bug-finding speed, memory, the schedulers against the
// concurrency faults, distinct model states and their growth as an SVG) in one process run, judges the
// issue's targets, writes reports/bench.json and reports/bench.md and prints the Markdown
// (or, with --json, the JSON). `--smoke`: one repetition, small sizes, written to
// bench-smoke.{json,md} so CI can check that the benchmark runs. Progress goes to stderr.
// Exit codes: 0 done (targets missed or not) or --help, 2 bad usage or reports it cannot write
// (one line on stderr).
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { writeReportAtomic } from '../harness/files.ts';
import { runTool } from '../harness/cli/tool.ts';
import { V2 } from '../properties/revisions/index.ts';
import { bugFinding } from './bugs.ts';
import { GOALS, parseCli, reportFiles, USAGE, type BenchCli, type BenchConfig } from './config.ts';
import { diagnoseSingleCpu, type Diagnosis } from './diagnose.ts';
import { machine } from './machine.ts';
import { memory } from './memory.ts';
import { markdown } from './report.ts';
import type { BenchResult, Section } from './results.ts';
import { scaling, type Scaling } from './scaling.ts';
import { boundProjection, spaceSizes } from './exhaustive.ts';
import { schedulerComparison } from './schedulers.ts';
import { stateGrowth } from './states.ts';
import { whereTimeGoes } from './shares.ts';
import { targets } from './targets.ts';
import { throughput } from './throughput.ts';

function source(): BenchResult['source'] {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

const log = (s: string): void => {
  process.stderr.write(s + '\n');
};

/** Runs the section if selected, logging its name and duration. */
async function section<T>(cli: BenchCli, name: Section, title: string, fn: () => T | Promise<T>): Promise<T | null> {
  if (!cli.only.has(name)) return null;
  log(`${title}...`);
  const t0 = performance.now();
  const r = await fn();
  log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  return r;
}

/** Profiles the worst single-CPU point when it misses its goal. */
async function diagnose(cfg: BenchConfig, sc: Scaling): Promise<Diagnosis | null> {
  const w = sc.singleCpuRatios.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  if (!(w.ratio > GOALS.singleCpuRatio)) return null;
  // The longest body of the same TD count: the growth is per command, and more samples are steadier.
  const length = Math.max(...cfg.lengths);
  log(`  profiling single-CPU commands (${w.tds} TDs, ${length} commands) at the fewest and most CPUs`);
  return diagnoseSingleCpu(cfg, w.tds, length);
}

async function measure(cli: BenchCli): Promise<BenchResult> {
  const cfg = cli.cfg;
  const startedAt = new Date().toISOString(),
    t0 = performance.now(),
    load = os.loadavg()[0]!;
  log(`bench${cfg.smoke ? ' --smoke' : ''}: ${machine().cpuModel}, ${machine().cores} cores, Node ${process.version}`);
  const tp = await section(cli, 'throughput', '1. throughput', () => throughput(cfg, log));
  const profiles = await section(cli, 'profile', '2. where time goes', () => whereTimeGoes(cfg, log));
  const sc = await section(cli, 'scaling', '3. scaling', () => scaling(cfg, log));
  const diagnosis = sc ? await diagnose(cfg, sc) : null;
  const bugs = await section(cli, 'bugs', '4. bug-finding speed', () => bugFinding(cfg, log));
  const mem = await section(cli, 'memory', '5. memory', () => memory(cfg, log));
  const schedulers = await section(cli, 'schedulers', '6. schedulers', () => schedulerComparison(cfg, log));
  const svg = join(cli.reports, reportFiles(cfg).svg);
  const states = await section(cli, 'states', '7. distinct states', () => stateGrowth(cfg, svg, log));
  const exhaustive = await section(cli, 'exhaustive', '8. exhaustive space', () => ({
    spaces: spaceSizes(cfg.smoke, log),
    bound: boundProjection(cfg.boundSamples, cfg.seed, log),
  }));
  const figures = {
    tool: 'tdx-update-verify bench',
    smoke: cfg.smoke,
    startedAt,
    durationMs: performance.now() - t0,
    machine: machine(),
    source: source(),
    kernel: V2.name,
    load: { start: load, end: os.loadavg()[0]! },
    config: cfg,
    throughput: tp,
    profiles,
    scaling: sc,
    diagnosis,
    bugs,
    memory: mem,
    schedulers,
    states,
    exhaustive,
  };
  return { ...figures, targets: targets(figures) };
}

async function main(argv: string[]): Promise<number> {
  const cli = parseCli(argv);
  const r = await measure(cli);
  const files = reportFiles(cli.cfg);
  const json = JSON.stringify(r, null, 2) + '\n';
  const md = markdown(r) + '\n';
  writeReportAtomic(join(cli.reports, files.json), json);
  writeReportAtomic(join(cli.reports, files.md), md);
  process.stdout.write(cli.json ? json : md);
  log(`wrote ${join(cli.reports, files.json)} and ${join(cli.reports, files.md)}`);
  return 0;
}

await runTool('bench', USAGE, () => main(process.argv.slice(2)));
