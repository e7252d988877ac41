// What every mode of the CLI shares: the result table, the exit code of a status, recording
// a counterexample (corpus entry, HTML report, replay lines), the summary of a property, and
// the checks of the directories a run will write into, made before it starts.
import { existsSync, lstatSync, mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { RevisionRecord } from '../../properties/revisions/index.ts';
import { corpusFiles, entryName, readEntry, saveEntry, type CorpusEntry } from '../corpus.ts';
import { writeReportAtomic } from '../files.ts';
import { counterexampleHtml } from '../html.ts';
import type { CounterexampleSummary, PropertySummary } from '../reports.ts';
import type { RunResult } from '../run.ts';
import type { StepState } from '../state_view.ts';
import { formatCounterexample } from '../timeline.ts';
import type { PropertyResult, Status } from '../verify.ts';
import { UsageError, type Cli } from './args.ts';
import { stopExit, type Stop } from './stop.ts';

export function revisionTitle(revision: RevisionRecord): string {
  return (revision as { title?: string }).title ?? revision.name;
}

export const HEAD = `  ${'property'.padEnd(18)} ${'status'.padEnd(12)} ${'runs'.padStart(5)} ${'commands'.padStart(9)} ${'time'.padStart(8)}  counterexample`;

export function row(r: { id: string; status: Status | 'proved'; runs: number; commands: number; ms: number; cx: string }): string {
  const time = `${(r.ms / 1000).toFixed(1).padStart(7)}s`;
  return `  ${r.id.padEnd(18)} ${r.status.padEnd(12)} ${String(r.runs).padStart(5)} ${String(r.commands).padStart(9)} ${time}  ${r.cx}`;
}

export function mergeCoverage(maps: readonly ReadonlyMap<string, number>[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of maps) for (const [k, n] of c) m.set(k, (m.get(k) ?? 0) + n);
  return new Map([...m].sort(([a], [b]) => a.localeCompare(b)));
}

export function exitCode(status: Status, requireRuns: boolean, stop: Stop | null): number {
  switch (status) {
    case 'fails':
      return 1;
    case 'interrupted':
      return stopExit(stop?.by ?? 'SIGINT');
    case 'exhausted':
      return requireRuns ? 3 : 0;
    case 'holds':
      return 0;
  }
}

/** The command that replays fast-check's own run (seed and path) with every flag it needs. */
function replayPathLine(cli: Cli, property: string, revision: RevisionRecord, entry: CorpusEntry, fc: { seed: number; path: string }): string {
  const o = cli.options;
  const bug = entry.bug ?? cli.fault;
  const flags = [
    `--property ${property} --seed ${fc.seed} --path ${fc.path}`,
    ...(bug ? [`--fault ${bug}`] : []),
    `--kernel ${revision.name}`,
    ...(o.cpus ? [`--cpus ${o.cpus}`] : []),
    ...(o.budget.name !== 'quick' ? [`--budget ${o.budget.name}`] : []),
    ...(o.scheduler === 'pct' ? [`--scheduler pct --pct-depth ${o.pctDepth}`] : []), // the same generator draws the same run
    ...(o.scheduler === 'exhaustive' ? [`--scheduler exhaustive --preemptions ${o.preemptions}`] : []),
  ];
  return `npm run verify -- ${flags.join(' ')}`;
}

/** A counterexample recorded: the corpus entry written (or found there), its HTML report, the replay line. */
export interface Recorded {
  readonly summary: CounterexampleSummary;
  readonly text: string;
}

export function record(
  cli: Cli,
  property: string,
  revision: RevisionRecord,
  entry: CorpusEntry,
  run: RunResult,
  states: readonly StepState[],
  fc: { seed: number; path: string; shrinks: number; minimize: CounterexampleSummary['minimize'] } | null,
  title: string,
  stored?: string,
): Recorded {
  const name = entryName(entry);
  let file = stored ?? join(cli.reports, 'counterexamples', `${name}.json`),
    note = '';
  if (!stored) {
    try {
      if (cli.corpus) {
        const saved = saveEntry(cli.corpus, entry);
        file = saved.file;
        note = saved.written ? 'recorded in the regression corpus (new)' : 'already in the regression corpus';
      } else {
        writeReportAtomic(file, JSON.stringify(entry, null, 2) + '\n');
        note = 'not recorded in the corpus (--no-corpus)';
      }
    } catch (e) {
      note = `not recorded: ${(e as Error).message}`;
      writeReportAtomic(file, JSON.stringify(entry, null, 2) + '\n');
    }
  }
  const replay = `npm run verify -- --replay ${file}${cli.blobs === null ? '' : ` --blobs ${cli.blobs}`}`;
  // --explore enumerates its scenarios: there is no fast-check run to replay (path '')
  const replayPath = fc?.path ? replayPathLine(cli, property, revision, entry, fc) : null;
  const html = join(cli.reports, 'counterexamples', `${name}.html`);
  writeReportAtomic(html, counterexampleHtml({ name, entry, run, states, file, replay, replayPath }));
  const v = run.violation!;
  const text = [
    ...formatCounterexample(entry.scenario, run, title),
    ...(entry.bug
      ? [`  needs the seeded fault ${entry.bug}: the same scenario passes without it`]
      : cli.fault && !stored
        ? [`  this counterexample does not need the seeded fault ${cli.fault}: it fails on the kernel as it is`]
        : []),
    ...(note ? [`  ${note}: ${file}`] : []),
    `  report: ${html}`,
    `  replay: ${replay}`,
    ...(replayPath ? [`  replay fast-check's run: ${replayPath}`] : []),
    '',
  ].join('\n');
  const summary: CounterexampleSummary = {
    property,
    name,
    violation: { id: v.id, message: v.message, step: v.step },
    bug: entry.bug,
    length: entry.scenario.commands.length,
    seed: fc?.seed ?? null,
    path: fc?.path ?? null,
    shrinks: fc?.shrinks ?? null,
    minimize: fc?.minimize ?? null,
    file,
    html,
    replay,
    replayPath,
    entry,
  };
  return { summary, text };
}

export function propertySummary(
  r: Pick<PropertyResult, 'id' | 'status' | 'runs' | 'requested' | 'commands' | 'ms' | 'firstFailure'>,
  seed: number,
  cx: CounterexampleSummary | null,
): PropertySummary {
  return {
    id: r.id,
    status: r.status,
    runs: r.runs,
    requested: r.requested,
    commands: r.commands,
    ms: r.ms,
    seed,
    firstFailure: r.firstFailure,
    counterexample: cx && {
      name: cx.name,
      length: cx.length,
      violation: { id: cx.violation.id, message: cx.violation.message },
      seed: cx.seed,
      path: cx.path,
      shrinks: cx.shrinks,
      file: cx.file,
      replay: cx.replay,
      scenario: cx.entry.scenario,
    },
  };
}

export function header(cli: Cli): string {
  const o = cli.options;
  const parts = [
    `kernel ${o.revision.name} (${revisionTitle(o.revision)})`,
    `budget ${o.budget.name}`,
    `seed ${o.seed}`,
    ...(cli.fault ? [`seeded fault ${cli.fault}`] : []),
    ...(o.cpus ? [`${o.cpus} CPUs`] : []),
    ...(cli.shard ? [`shard ${cli.shard.index}/${cli.shard.count}`] : []),
  ];
  return `tdx-update-verify: ${parts.join(', ')}`;
}

/** The corpus a run records into is read through the schema first: a bad entry stops the run before anything is written. */
export function checkCorpus(cli: Cli): void {
  if (cli.corpus && existsSync(cli.corpus) && !statSync(cli.corpus).isDirectory()) throw new UsageError(`--corpus ${cli.corpus}: not a directory`);
  if (cli.corpus) for (const f of corpusFiles(cli.corpus)) readEntry(f);
  writable('--reports', cli.reports, cli.shard ? [join('shards', `shard-${cli.shard.index}-of-${cli.shard.count}.json`)] : SUMMARY_FILES);
  if (cli.corpus) writable('--corpus', cli.corpus);
}

/** Something is at `p`, if only a link (under a file, ENOTDIR: nothing is, and the file is found a level up). */
function present(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code !== 'ENOENT' && code !== 'ENOTDIR';
  }
}

/** What a run that is not a shard writes into --reports (harness/reports.ts writeSummary). */
export const SUMMARY_FILES = ['summary.json', 'junit.xml'];

/**
 * A directory the run will write into, tried before the run so that one that refuses files (a
 * symlink loop, procfs, a read-only mount) fails in one line before minutes of search, not after
 * it: its nearest level that exists (a dangling link or a loop counts, since nothing can be made
 * in its place) must be a directory that takes a new entry, made and removed at once. `files`,
 * the reports it will hold, must not be directories, which a rename cannot replace. `given`,
 * for the message, is what the user gave (a file to write in `dir`).
 */
export function writable(flag: string, dir: string, files: readonly string[] = [], given = dir): void {
  let d = resolve(dir);
  while (!present(d)) d = dirname(d);
  try {
    if (!statSync(d).isDirectory()) throw new UsageError(`${flag} ${given}: ${d} is not a directory`);
    rmdirSync(mkdtempSync(join(d, '.verify-probe-')));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${flag} ${given}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  for (const f of files)
    if (statSync(join(dir, f), { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${flag} ${given}: ${f} there is a directory, not a file`);
}

/** A file the run could not write (a directory that refuses it): one line, exit 2, no stack trace. */
export function writeFailure(e: unknown): string | null {
  const x = e as NodeJS.ErrnoException;
  return x && typeof x.code === 'string' && typeof x.syscall === 'string' ? `cannot write ${x.path ?? ''}: ${x.code} (${x.syscall})` : null;
}
