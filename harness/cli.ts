// `npm run verify`: checks every property (or the named ones) against the emulated kernel,
// prints a summary table and every counterexample (a reproduction script, a timeline, the
// first check that failed, the state where model and implementation differ, and one line that
// replays it), records each counterexample in the regression corpus (test/corpus), and writes
// reports/ (summary.json, junit.xml, counterexamples/<name>.html).
//
// Exit codes: 0 every property holds (also when the time budget ran out first, which is said);
// 1 a counterexample; 2 bad usage or bad input (one line, no stack trace); 3 the time budget ran
// out before the requested runs, with --require-runs; 130 stopped by Ctrl-C with no counterexample.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { isatty } from 'node:tty';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findBug, NO_BUGS, SEEDED_BUGS, type BugName, type Bugs } from '../impl/faults.ts';
import { findRevision, REVISIONS, type RevisionRecord } from '../properties/revisions/index.ts';
import { findProperty, PROPERTIES, type Property } from '../properties/catalog.ts';
import { INVARIANTS, TERMINATION } from '../properties/invariants.ts';
import { CorpusError, corpusFiles, DEFAULT_CORPUS_DIR, entryName, makeEntry, readEntry, saveEntry, type CorpusEntry } from './corpus.ts';
import { coverageReport } from './coverage.ts';
import { writeReportAtomic } from './files.ts';
import { counterexampleHtml } from './html.ts';
import { Progress } from './progress.ts';
import { summaryBase, worst, writeSummary, type CounterexampleSummary, type PropertySummary, type Summary } from './reports.ts';
import { runScenario, type RunResult } from './run.ts';
import { MergeError, mergeShards, parseShard, plan, type ShardSpec } from './shard.ts';
import { stateObserver, type StepState } from './state_view.ts';
import { checkClaim, formatCounterexample, MODEL_CHECKS } from './timeline.ts';
import { BUDGETS, checkProperty, type Budget, type CheckOptions, type PropertyResult, type Status, type StopSignal } from './verify.ts';

export const DEFAULT_SEED = 42;

class UsageError extends Error {}
class HelpRequest extends Error {}

interface Cli {
  readonly options: CheckOptions;
  readonly properties: readonly Property[];
  readonly fault: BugName | null;
  readonly path: string | undefined;
  readonly reports: string;
  /** Where counterexamples are recorded; null with --no-corpus (they go to reports/counterexamples). */
  readonly corpus: string | null;
  readonly shard: ShardSpec | null;
  readonly replay: string | null;
  readonly merge: readonly string[] | null;
  readonly requireRuns: boolean;
  readonly progressMs: number;
  readonly list: boolean;
  /** `--faults all`: the seeded-bug table (harness/faults_table.ts). */
  readonly faults: boolean;
  /** `--kernel all`: every revision, then the revision x goal verdicts (harness/verdicts.ts). */
  readonly allKernels: boolean;
  /** Flags given on the command line that change what a replay line must repeat. */
  readonly given: { readonly kernel: boolean; readonly fault: boolean };
}

const USAGE = `usage: npm run verify -- [--seed N|random] [--budget quick|ci|deep] [--property ID[,ID]] [--cpus N]
                        [--fault NAME] [--kernel NAME] [--path P] [--replay FILE] [--shard I/N] [--merge FILE...]
                        [--reports DIR] [--corpus DIR | --no-corpus] [--require-runs] [--time-limit S]
                        [--progress S] [--faults all] [--list]`;

function intArg(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${v}'`);
  return Number(v);
}

function revisionTitle(revision: RevisionRecord): string {
  return (revision as { title?: string }).title ?? revision.name;
}

function parse(argv: string[]): Cli {
  let a, positionals: string[];
  try {
    ({ values: a, positionals } = parseArgs({
      args: argv, strict: true, allowPositionals: true,
      options: {
        seed: { type: 'string' }, budget: { type: 'string' }, property: { type: 'string' }, cpus: { type: 'string' },
        fault: { type: 'string' }, kernel: { type: 'string' }, path: { type: 'string' }, reports: { type: 'string' },
        replay: { type: 'string' }, shard: { type: 'string' }, merge: { type: 'boolean' }, corpus: { type: 'string' },
        'no-corpus': { type: 'boolean' }, 'require-runs': { type: 'boolean' }, 'time-limit': { type: 'string' },
        progress: { type: 'string' }, list: { type: 'boolean' }, help: { type: 'boolean' }, faults: { type: 'string' },
      },
    }));
  } catch (e) {
    // node's message goes on about positionals after '--'; the first sentence is what matters
    throw new UsageError((e as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '').replace(/^Unknown option/, 'unknown option'));
  }
  if (a.help) throw new HelpRequest();
  if (positionals.length && !a.merge) throw new UsageError(`unexpected argument '${positionals[0]}' (only --merge takes file names)`);
  const budget = BUDGETS[(a.budget ?? 'quick') as Budget['name']];
  if (!budget) throw new UsageError(`--budget must be quick, ci or deep, not '${a.budget}'`);
  const bug = a.fault === undefined || (a.fault === 'none' && a.replay !== undefined) ? null : findBug(a.fault);
  if (bug === undefined) throw new UsageError(`--fault: no seeded fault '${a.fault}' (see --list)`);
  // A seeded bug runs on the revision it lived in (its catalog record), unless --kernel says otherwise.
  const home = a.replay === undefined ? (bug as { kernel?: string } | null)?.kernel : undefined;
  const allKernels = a.kernel === 'all';
  const revision = findRevision(allKernels ? 'v2' : a.kernel ?? home ?? 'v2');
  if (a.kernel === 'seed') throw new UsageError("--kernel: the revision 'seed' is now called 'v2' (--kernel v2)");
  if (!revision) throw new UsageError(`--kernel must be one of ${REVISIONS.map((r) => r.name).join(', ')} or all, not '${a.kernel}'`);
  if (allKernels && (a.replay !== undefined || a.merge || a.faults !== undefined || a.path !== undefined || a.shard !== undefined || a.fault !== undefined)) {
    throw new UsageError('--kernel all runs every revision and the verdicts; it cannot be combined with --replay, --merge, --faults, --path, --shard or --fault');
  }
  const seed = a.seed === 'random' ? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0 : a.seed === undefined ? DEFAULT_SEED : intArg('seed', a.seed, 0, 0xffffffff);
  const properties = a.property === undefined ? PROPERTIES : a.property.split(',').map((id) => {
    const p = findProperty(id);
    if (!p) throw new UsageError(`--property: no property '${id}' (see --list)`);
    return p;
  });
  if (a.path !== undefined && (properties.length !== 1 || a.seed === undefined)) throw new UsageError('--path needs --seed and exactly one --property');
  const shard = a.shard === undefined ? null : parseShard(a.shard);
  if (shard === null && a.shard !== undefined) throw new UsageError(`--shard must be I/N with 1 <= I <= N <= 1024, not '${a.shard}'`);
  if (shard && a.path !== undefined) throw new UsageError('--path replays one run; it cannot be combined with --shard');
  if (a.corpus !== undefined && a['no-corpus']) throw new UsageError('--corpus and --no-corpus contradict each other');
  if (a.faults !== undefined && a.faults !== 'all') throw new UsageError(`--faults takes 'all', not '${a.faults}'`);
  const modes = [a.replay !== undefined && '--replay', a.merge && '--merge', a.list && '--list', a.faults !== undefined && '--faults', a.shard !== undefined && a.faults !== undefined && '--shard'].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`${modes.join(' and ')} cannot be combined`);
  if (a.replay !== undefined) {
    const extra = (['seed', 'budget', 'property', 'cpus', 'path', 'shard', 'time-limit', 'require-runs'] as const).find((k) => a[k] !== undefined);
    if (extra) throw new UsageError(`--replay runs one corpus entry as recorded; --${extra} does not apply (--kernel and --fault may override the entry's)`);
  }
  if (a.merge && positionals.length === 0) throw new UsageError('--merge needs the shard files, e.g. --merge reports/shards/*.json');
  const timeLimitMs = a['time-limit'] === undefined ? undefined : secondsArg('time-limit', a['time-limit']) * 1000;
  return {
    options: {
      seed, budget, revision, bugs: bug ? new Set([bug.name as BugName]) : NO_BUGS,
      cpus: a.cpus === undefined ? undefined : intArg('cpus', a.cpus, 1, 256), timeLimitMs,
    },
    properties, fault: (bug?.name as BugName | undefined) ?? null, path: a.path, reports: a.reports ?? 'reports',
    corpus: a['no-corpus'] ? null : a.corpus ?? DEFAULT_CORPUS_DIR, shard, replay: a.replay ?? null,
    merge: a.merge ? positionals : null, requireRuns: a['require-runs'] ?? false,
    progressMs: a.progress === undefined ? 30_000 : secondsArg('progress', a.progress) * 1000, list: a.list ?? false, faults: a.faults !== undefined, allKernels,
    given: { kernel: a.kernel !== undefined, fault: a.fault !== undefined },
  };
}

function secondsArg(name: string, v: string): number {
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) > 86_400) throw new UsageError(`--${name} must be a number of seconds from 0 to 86400, not '${v}'`);
  return Number(v);
}

function printList(): void {
  console.log('properties:');
  for (const p of PROPERTIES) console.log(`  ${p.id.padEnd(18)} ${p.claim}`);
  console.log('invariants (checked after every step of every property):');
  for (const i of [...INVARIANTS, TERMINATION]) console.log(`  ${i.id.padEnd(6)} ${i.claim}`);
  for (const id of MODEL_CHECKS) console.log(`  ${id}  ${checkClaim(id)}`);
  console.log('seeded faults (--fault NAME or ID; each runs on the kernel revision it lived in unless --kernel is given):');
  for (const b of SEEDED_BUGS) console.log(`  ${b.catalogId.padEnd(6)} ${b.name.padEnd(26)} ${((b as { kernel?: string }).kernel ?? 'v2').padEnd(9)} ${b.claim}`);
  console.log('kernel revisions (--kernel NAME):');
  for (const r of REVISIONS) console.log(`  ${r.name.padEnd(10)} ${revisionTitle(r)}`);
}

const HEAD = `  ${'property'.padEnd(18)} ${'status'.padEnd(12)} ${'runs'.padStart(5)} ${'commands'.padStart(9)} ${'time'.padStart(8)}  counterexample`;

function row(r: { id: string; status: Status; runs: number; commands: number; ms: number; cx: string }): string {
  return `  ${r.id.padEnd(18)} ${r.status.padEnd(12)} ${String(r.runs).padStart(5)} ${String(r.commands).padStart(9)} ${(r.ms / 1000).toFixed(1).padStart(7)}s  ${r.cx}`;
}

function mergeCoverage(maps: readonly ReadonlyMap<string, number>[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const c of maps) for (const [k, n] of c) m.set(k, (m.get(k) ?? 0) + n);
  return new Map([...m].sort(([a], [b]) => a.localeCompare(b)));
}

function exitCode(status: Status, requireRuns: boolean): number {
  switch (status) {
    case 'fails': return 1;
    case 'interrupted': return 130;
    case 'exhausted': return requireRuns ? 3 : 0;
    case 'holds': return 0;
  }
}

/** A counterexample recorded: the corpus entry written (or found there), its HTML report, the replay line. */
interface Recorded { readonly summary: CounterexampleSummary; readonly text: string }

function record(cli: Cli, property: string, revision: RevisionRecord, entry: CorpusEntry, run: RunResult, states: readonly StepState[],
  fc: { seed: number; path: string; shrinks: number; minimize: CounterexampleSummary['minimize'] } | null, title: string, stored?: string): Recorded {
  const name = entryName(entry);
  let file = stored ?? join(cli.reports, 'counterexamples', `${name}.json`), note = '';
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
  const replay = `npm run verify -- --replay ${file}`;
  const replayPath = fc
    ? `npm run verify -- --property ${property} --seed ${fc.seed} --path ${fc.path}${entry.bug ? ` --fault ${entry.bug}` : cli.fault ? ` --fault ${cli.fault}` : ''} --kernel ${revision.name}${cli.options.cpus ? ` --cpus ${cli.options.cpus}` : ''}${cli.options.budget.name !== 'quick' ? ` --budget ${cli.options.budget.name}` : ''}`
    : null;
  const html = join(cli.reports, 'counterexamples', `${name}.html`);
  writeReportAtomic(html, counterexampleHtml({ name, entry, run, states, file, replay, replayPath }));
  const v = run.violation!;
  const text = [
    ...formatCounterexample(entry.scenario, run, title),
    ...(entry.bug ? [`  needs the seeded fault ${entry.bug}: the same scenario passes without it`] : cli.fault && !stored ? [`  this counterexample does not need the seeded fault ${cli.fault}: it fails on the kernel as it is`] : []),
    ...(note ? [`  ${note}: ${file}`] : []),
    `  report: ${html}`,
    `  replay: ${replay}`,
    ...(replayPath ? [`  replay fast-check's run: ${replayPath}`] : []),
    '',
  ].join('\n');
  const summary: CounterexampleSummary = {
    property, name, violation: { id: v.id, message: v.message, step: v.step }, bug: entry.bug, length: entry.scenario.commands.length,
    seed: fc?.seed ?? null, path: fc?.path ?? null, shrinks: fc?.shrinks ?? null, minimize: fc?.minimize ?? null,
    file, html, replay, replayPath, entry,
  };
  return { summary, text };
}

function propertySummary(r: Pick<PropertyResult, 'id' | 'status' | 'runs' | 'requested' | 'commands' | 'ms' | 'firstFailure'>, seed: number, cx: CounterexampleSummary | null): PropertySummary {
  return {
    id: r.id, status: r.status, runs: r.runs, requested: r.requested, commands: r.commands, ms: r.ms, seed, firstFailure: r.firstFailure,
    counterexample: cx && {
      name: cx.name, length: cx.length, violation: { id: cx.violation.id, message: cx.violation.message },
      seed: cx.seed, path: cx.path, shrinks: cx.shrinks, file: cx.file, replay: cx.replay, scenario: cx.entry.scenario,
    },
  };
}

function header(cli: Cli): string {
  const o = cli.options;
  return `tdx-update-verify: kernel ${o.revision.name} (${revisionTitle(o.revision)}), budget ${o.budget.name}, seed ${o.seed}${cli.fault ? `, seeded fault ${cli.fault}` : ''}${o.cpus ? `, ${o.cpus} CPUs` : ''}${cli.shard ? `, shard ${cli.shard.index}/${cli.shard.count}` : ''}`;
}

/** Ctrl-C: the first one stops the run cleanly (reports are written); a second one exits at once. */
function onInterrupt(signal: StopSignal): () => void {
  const handler = () => {
    if (signal.stopped) process.exit(130);
    signal.stopped = true;
    process.stderr.write('\nverify: interrupted; finishing the current run, keeping any counterexample, writing the reports (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/** The corpus a run records into is read through the schema first: a bad entry stops the run before anything is written. */
function checkCorpus(cli: Cli): void {
  if (cli.corpus) for (const f of corpusFiles(cli.corpus)) readEntry(f);
  writable('--reports', cli.reports);
  if (cli.corpus) writable('--corpus', cli.corpus);
}

/**
 * A directory the run will write into, checked before the run: its nearest existing ancestor
 * must be a writable directory. (It is created when the first file is written.)
 */
function writable(flag: string, dir: string): void {
  let d = resolve(dir);
  while (!existsSync(d)) d = dirname(d);
  try {
    if (!statSync(d).isDirectory()) throw new UsageError(`${flag} ${dir}: ${d} is not a directory`);
    accessSync(d, constants.W_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${flag} ${dir}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A file the run could not write (a directory that refuses it): one line, exit 2, no stack trace. */
function writeFailure(e: unknown): string | null {
  const x = e as NodeJS.ErrnoException;
  return x && typeof x.code === 'string' && typeof x.syscall === 'string' ? `cannot write ${x.path ?? ''}: ${x.code} (${x.syscall})` : null;
}

async function runVerify(cli: Cli): Promise<number> {
  checkCorpus(cli);
  const o = cli.options;
  const units = plan(cli.properties, o.seed, o.budget.numRuns, cli.shard);
  const signal: StopSignal = { stopped: false };
  const release = onInterrupt(signal);
  const tty = isatty(1);
  const progress = new Progress({ total: units.reduce((n, u) => n + u.runs, 0), tty, everyMs: cli.progressMs, write: (s) => process.stdout.write(s) });
  console.log(header(cli));
  console.log(HEAD);
  const results: { r: PropertyResult; seed: number }[] = [];
  for (const u of units) {
    if (signal.stopped) break;
    progress.start(u.property.id);
    const r = await checkProperty(u.property, { ...o, seed: u.seed, numRuns: u.runs, signal, onRun: (runs, commands, failed) => progress.update(runs, commands, failed) }, cli.path);
    progress.finish(r.runs, r.commands);
    results.push({ r, seed: u.seed });
    progress.clear();
    const cx = r.counterexample;
    console.log(row({ ...r, cx: cx ? `${cx.scenario.commands.length} command${cx.scenario.commands.length === 1 ? '' : 's'}, ${cx.run.violation!.id}` : '' }));
    if (cx && cli.fault && !cli.shard) break; // the seeded fault is found: that is the answer
  }
  progress.stop();
  release();
  const runs = results.reduce((n, x) => n + x.r.runs, 0);
  const coverage = mergeCoverage(results.map((x) => x.r.coverage));
  // With a seeded fault the run stops at its counterexample: coverage of one run says nothing (it is in summary.json).
  if (!(cli.fault && results.some((x) => x.r.counterexample))) console.log(coverageReport(coverage, runs).join('\n'));
  const recorded: Recorded[] = [];
  const props: PropertySummary[] = [];
  for (const { r, seed } of results) {
    const cx = r.counterexample;
    let rec: Recorded | null = null;
    if (cx) {
      const entry = makeEntry(r.id, o.revision, cx.bug, cx.run.violation!, cx.scenario);
      const title = `counterexample for ${r.id} (fast-check shrank it ${cx.shrinks} time${cx.shrinks === 1 ? '' : 's'}; the canonical pass took ${cx.minimize.steps} step${cx.minimize.steps === 1 ? '' : 's'} in ${cx.minimize.runs} runs${cx.minimize.complete ? '' : ', stopped early'}):`;
      rec = record(cli, r.id, o.revision, entry, cx.run, cx.states, { seed: cx.seed, path: cx.path, shrinks: cx.shrinks, minimize: cx.minimize }, title);
      recorded.push(rec);
      console.log(rec.text);
    }
    props.push(propertySummary(r, seed, rec?.summary ?? null));
  }
  const status = signal.stopped && !recorded.length ? 'interrupted' : worst(results.map((x) => x.r.status));
  for (const { r } of results) {
    if (r.status === 'exhausted') console.log(`${r.id}: the time budget ran out after ${r.runs} of ${r.requested} runs; no counterexample in those${cli.requireRuns ? ' (--require-runs: exit 3)' : ' (exit 0; --require-runs makes this exit 3)'}`);
  }
  if (signal.stopped) console.log(`interrupted after ${runs} runs: ${recorded.length ? 'the counterexample found so far is above' : 'no counterexample so far'}`);
  const code = exitCode(status, cli.requireRuns);
  const summary: Summary = {
    ...summaryBase(), kernel: o.revision.name, budget: o.budget.name, seed: o.seed, fault: cli.fault, cpus: o.cpus ?? null, shard: cli.shard,
    replay: null, merged: null, status, exit: code, properties: props, counterexamples: recorded.map((x) => x.summary), coverage: Object.fromEntries(coverage),
  };
  const files = writeSummary(cli.reports, summary, new Map(recorded.map((x) => [x.summary.name, x.text])));
  console.log(`reports: ${files.join(', ')}${recorded.length ? `, ${recorded.map((x) => x.summary.html).join(', ')}` : ''}`);
  return code;
}

/** `--replay FILE`: the entry's scenario on its kernel with its seeded bug, no generation. */
function runReplay(cli: Cli, file: string): number {
  const entry = readEntry(file);
  writable('--reports', cli.reports);
  const revision = cli.given.kernel ? cli.options.revision : findRevision(entry.kernel)!;
  const bug = cli.given.fault ? cli.fault : entry.bug;
  const bugs: Bugs = bug ? new Set([bug]) : NO_BUGS;
  console.log(`tdx-update-verify: replay ${file}: property ${entry.property}, kernel ${revision.name} (${revisionTitle(revision)}), ${bug ? `seeded fault ${bug}` : 'no seeded fault'}; recorded: ${entry.expect.violation}${entry.bug ? ` with ${entry.bug}` : ''}`);
  const started = performance.now();
  const { observe, states } = stateObserver(revision.checks);
  const run = runScenario(entry.scenario, { revision, bugs, record: true, observe });
  const ms = Math.round(performance.now() - started);
  const v = run.violation;
  const status: Status = v ? 'fails' : 'holds';
  const replayed: CorpusEntry = { ...entry, kernel: revision.name, bug };
  let rec: Recorded | null = null;
  if (v) {
    rec = record({ ...cli, fault: null }, entry.property, revision, replayed, run, states, null, `counterexample for ${entry.property} (from ${file}):`, file);
    console.log(rec.text);
  }
  const same = v?.id === entry.expect.violation;
  console.log(v ? `${same ? 'reproduced' : 'fails differently'}: ${v.id}${same ? ' as recorded' : ` (recorded: ${entry.expect.violation})`}` : `passes: no violation (recorded: ${entry.expect.violation}${entry.bug && !bug ? `, which needs ${entry.bug}` : ''})`);
  const code = v ? 1 : 0;
  const summary: Summary = {
    ...summaryBase(), kernel: revision.name, budget: 'replay', seed: 0, fault: bug, cpus: null, shard: null, replay: file, merged: null, status, exit: code,
    properties: [propertySummary({ id: entry.property, status, runs: 1, requested: 1, commands: run.commandsIssued, ms, firstFailure: v ? { runs: 1, commands: run.commandsIssued } : null }, 0, rec?.summary ?? null)],
    counterexamples: rec ? [rec.summary] : [], coverage: Object.fromEntries([...run.labels].sort().map((l) => [l, 1])),
  };
  writeSummary(cli.reports, summary, new Map(rec ? [[rec.summary.name, rec.text]] : []));
  return code;
}

/** `--merge FILES`: shard summaries added up into one summary.json, junit.xml, and a report per counterexample. */
function runMerge(cli: Cli, files: readonly string[]): number {
  checkCorpus(cli);
  const { base, shards, missing } = mergeShards(files);
  if (missing.length) throw new MergeError(`shard${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of ${base.shard!.count} missing: the merged report would not cover the run`);
  console.log(`tdx-update-verify: merging ${shards.length} shard(s): kernel ${base.kernel}, budget ${base.budget}, seed ${base.seed}${base.fault ? `, seeded fault ${base.fault}` : ''}`);
  console.log(HEAD);
  const revision = findRevision(base.kernel);
  if (!revision) throw new MergeError(`${files[0]}: kernel '${base.kernel}' is not an emulated revision`);
  const ids = [...new Set(shards.flatMap((s) => s.properties.map((p) => p.id)))];
  const recorded: Recorded[] = [];
  const seen = new Set<string>();
  for (const s of shards) {
    for (const c of s.counterexamples) {
      if (seen.has(c.name)) continue;
      seen.add(c.name);
      const { observe, states } = stateObserver(revision.checks);
      const run = runScenario(c.entry.scenario, { revision, bugs: c.entry.bug ? new Set([c.entry.bug]) : NO_BUGS, record: true, observe });
      if (!run.violation) {
        console.log(`${c.name}: no longer fails on this checkout; left out`);
        continue;
      }
      const rec = record({ ...cli, fault: (base.fault as BugName | null) }, c.property, revision, c.entry, run, states,
        c.seed !== null ? { seed: c.seed, path: c.path ?? '', shrinks: c.shrinks ?? 0, minimize: c.minimize } : null,
        `counterexample for ${c.property} (shard ${s.shard!.index}/${s.shard!.count}):`);
      recorded.push(rec);
    }
  }
  const props: PropertySummary[] = ids.map((id) => {
    const parts = shards.flatMap((s) => s.properties.filter((p) => p.id === id));
    const cx = parts.find((p) => p.counterexample)?.counterexample ?? null;
    const rec = cx ? recorded.find((x) => x.summary.name === cx.name) ?? null : null;
    const sum = (k: 'runs' | 'requested' | 'commands' | 'ms') => parts.reduce((n, p) => n + p[k], 0);
    const p: PropertySummary = {
      id, status: worst(parts.map((x) => x.status)), runs: sum('runs'), requested: sum('requested'), commands: sum('commands'), ms: sum('ms'),
      seed: base.seed, firstFailure: parts.find((x) => x.firstFailure)?.firstFailure ?? null, counterexample: null,
    };
    console.log(row({ ...p, cx: cx ? `${cx.length} command${cx.length === 1 ? '' : 's'}, ${cx.violation.id}` : '' }));
    return rec ? { ...p, counterexample: propertySummary(p, base.seed, rec.summary).counterexample } : p;
  });
  const coverage = mergeCoverage(shards.map((s) => new Map(Object.entries(s.coverage))));
  const runs = props.reduce((n, p) => n + p.runs, 0);
  console.log(coverageReport(coverage, runs).join('\n'));
  for (const r of recorded) console.log(r.text);
  const status = worst(props.map((p) => p.status));
  const code = exitCode(status, cli.requireRuns);
  const summary: Summary = {
    ...summaryBase(), kernel: base.kernel, budget: base.budget, seed: base.seed, fault: base.fault, cpus: base.cpus, shard: null, replay: null,
    merged: files.map(String), status, exit: code, properties: props, counterexamples: recorded.map((x) => x.summary), coverage: Object.fromEntries(coverage),
  };
  const written = writeSummary(cli.reports, summary, new Map(recorded.map((x) => [x.summary.name, x.text])));
  console.log(`reports: ${written.join(', ')}`);
  return code;
}

/** `--faults all`: every seeded bug on the revision it lived in; how soon and how short it is caught. Exit 1 if one is missed. */
async function runFaults(cli: Cli): Promise<number> {
  const { checkAllFaults, faultsMarkdown, faultsTable } = await import('./faults_table.ts');
  const o = cli.options;
  console.log(`tdx-update-verify: every seeded bug on its own kernel revision, budget ${o.budget.name}, seed ${o.seed}`);
  const rows = await checkAllFaults(o.seed, o.budget, (r) => console.log(`  ${r.catalogId} ${r.fault}: ${r.detected ? `caught by ${r.invariant}` : 'NOT caught'}`));
  console.log(faultsTable(rows).join('\n'));
  writeReportAtomic(join(cli.reports, 'faults.json'), JSON.stringify({ ...summaryBase(), budget: o.budget.name, seed: o.seed, faults: rows }, null, 2) + '\n');
  writeReportAtomic(join(cli.reports, 'faults.md'), faultsMarkdown(rows));
  console.log(`reports: ${join(cli.reports, 'faults.json')}, ${join(cli.reports, 'faults.md')}`);
  return rows.every((r) => r.detected) ? 0 : 1;
}

/**
 * `--kernel all`: the properties on every revision (reports in reports/<kernel>/), then the
 * revision x goal verdicts against properties/verdicts.json (reports/verdicts.md and
 * reports/summary.json). Exit 1 if a property fails or a verdict is not the recorded one.
 */
async function runAllKernels(cli: Cli): Promise<number> {
  const { checkVerdicts, verdictFailed, verdictsMarkdown, oneLine } = await import('./verdicts.ts');
  const { describe } = await import('../properties/commands/index.ts');
  const o = cli.options;
  const kernels: { kernel: string; exit: number }[] = [];
  for (const revision of REVISIONS) {
    kernels.push({ kernel: revision.name, exit: await runVerify({ ...cli, options: { ...o, revision }, reports: join(cli.reports, revision.name) }) });
    console.log('');
  }
  console.log(`verdicts: every revision against every safety goal (properties/goals.ts, stack_goals.ts), seed ${o.seed}, ${o.budget.numRuns * 2} runs each`);
  const vs = checkVerdicts(REVISIONS, o.seed, o.budget.numRuns * 2);
  const goalW = Math.max(...vs.map((v) => v.goal.length));
  for (const v of vs) {
    const cx = v.counterexample ? `  ${oneLine(v.counterexample.scenario, describe)}` : '';
    console.log(`  ${v.kernel.padEnd(9)} ${v.goal.padEnd(goalW)}  ${v.verdict.padEnd(26)}${cx}`);
    if (v.verdict === 'unexpected-violation') console.log(`      ${v.violation!.id}: ${v.violation!.message}`);
  }
  writeReportAtomic(join(cli.reports, 'verdicts.md'), verdictsMarkdown(vs, REVISIONS, describe));
  const verdicts = vs.map((v) => ({ kernel: v.kernel, goal: v.goal, verdict: v.verdict, counterexampleLength: v.counterexampleLength, violation: v.violation, scenario: v.counterexample?.scenario ?? null }));
  const failed = kernels.some((k) => k.exit !== 0) || vs.some(verdictFailed);
  writeReportAtomic(join(cli.reports, 'summary.json'), JSON.stringify({ ...summaryBase(), kernel: 'all', budget: o.budget.name, seed: o.seed, kernels, verdicts, exit: failed ? 1 : 0 }, null, 2) + '\n');
  console.log(`reports: ${join(cli.reports, 'summary.json')}, ${join(cli.reports, 'verdicts.md')}, ${REVISIONS.map((r) => join(cli.reports, r.name, 'summary.json')).join(', ')}`);
  return failed ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const cli = parse(argv);
  if (cli.list) {
    printList();
    return 0;
  }
  if (cli.merge) return runMerge(cli, cli.merge);
  if (cli.faults) return runFaults(cli);
  if (cli.allKernels) return runAllKernels(cli);
  if (cli.replay !== null) return runReplay(cli, cli.replay);
  return runVerify(cli);
}

// `npm run verify | head`: a closed pipe ends the output, not the run (the reports still get written).
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof HelpRequest) {
    console.log(USAGE);
    console.log('options, exit codes, the corpus and the reports: README.md "Options and exit codes"');
    process.exitCode = 0;
  } else if (e instanceof UsageError) {
    console.error(`verify: ${e.message} (npm run verify -- --help)`);
    process.exitCode = 2;
  } else if (e instanceof CorpusError || e instanceof MergeError) {
    console.error(`verify: ${e.message}`);
    process.exitCode = 2;
  } else if (writeFailure(e)) {
    console.error(`verify: ${writeFailure(e)}`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
