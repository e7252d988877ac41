// `npm run corpus:migrate [-- --corpus DIR] [--max-schedules N]`: re-derive every corpus entry after a change that
// moves what a recorded schedule means (the runner's yield points, its order of options). Each
// entry is replayed; one that still shows what it recorded is kept. For one that does not, the
// schedules of its scenario are searched with the fewest departures from round-robin first
// (harness/exhaustive.ts, 0 to MAX_PREEMPTIONS), for one that shows the recorded violation with
// its seeded bug and passes without it; that is made canonical (minimize.ts) and written in
// place of the old entry (the new file first, then the old one removed). An entry no search
// reproduces is lost: it stays as it is, and the command exits 1. Exit 2 on bad input, with one
// line on stderr whose every character outside printable ASCII is escaped.
//
// The search of one entry runs at most MAX_EXECUTIONS schedules over all its preemption bounds
// (or --max-schedules), a few seconds; one that has not found the violation by then is lost, with
// the bound it finished and the one it was cut short in. Before it starts, a line says which entry it is
// searching, so a run over many entries shows it working.
import { statSync, unlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NO_BUGS, type BugName } from '../impl/faults.ts';
import { findRevision, type RevisionRecord } from '../properties/revisions/index.ts';
import type { Scenario } from '../properties/scenario.ts';
import type { ScheduledScenario } from './schedulers.ts';
import {
  CORPUS_FORMAT,
  corpusFiles,
  DEFAULT_CORPUS_DIR,
  entryName,
  formatEntry,
  makeEntry,
  MIGRATABLE_FORMATS,
  parseEntry,
  readEntry,
  type CorpusEntry,
} from './corpus.ts';
import { exploreSchedules } from './exhaustive.ts';
import { writeReportAtomic } from './files.ts';
import { minimize } from './minimize.ts';
import { runScenario, type RunResult } from './run.ts';
import { argvError, clipped, InputError, printable, wholeNumber } from './schema.ts';

const MAX_PREEMPTIONS = 3;
/**
 * Schedules one entry's search may run, all bounds together. Measured: 1 to 2 ms each for 12
 * commands on 4 CPUs, so 2,000 is a few seconds; each entry of test/corpus, its schedule
 * emptied, is found again within 15.
 */
const MAX_EXECUTIONS = 2_000;
/** --max-schedules at most: at 1 to 2 ms a schedule, half an hour an entry. */
const MAX_SCHEDULES_LIMIT = 1_000_000;
const USAGE = 'usage: npm run corpus:migrate -- [--corpus DIR] [--max-schedules N]';

type Outcome = { kind: 'kept' } | { kind: 'migrated'; file: string; how: string } | { kind: 'lost'; why: string };

/** Whether `s` shows what `e` recorded: its violation with its bug on, and (with a bug) none with it off. */
function shows(e: CorpusEntry, revision: RevisionRecord, s: Scenario): boolean {
  if (e.bug === null) return runScenario(s, { revision, bugs: NO_BUGS }).violation === null;
  if (runScenario(s, { revision, bugs: new Set([e.bug]) }).violation?.id !== e.expect.violation) return false;
  return runScenario(s, { revision, bugs: NO_BUGS }).violation === null;
}

/**
 * `s` (which shows what `e` recorded) written as a current-format entry, under its content's
 * name even where the old file has it; the old file then goes.
 */
function rewrite(dir: string, file: string, e: CorpusEntry, revision: RevisionRecord, s: Scenario): string {
  const bugs = e.bug ? new Set([e.bug]) : NO_BUGS;
  const v = runScenario(s, { revision, bugs }).violation!;
  const next = makeEntry(e.property, revision, e.bug, v, s);
  const text = formatEntry(next);
  const to = join(dir, `${entryName(next)}.json`);
  parseEntry(text, to);
  writeReportAtomic(to, text);
  if (to !== file) unlinkSync(file);
  return to;
}

/** A path as a message or line shows it: clipped, only printable ASCII. */
const shown = (path: string): string => printable(clipped(path));

/** Not found: why, and whether the cap cut the search (a larger --max-schedules might find it). */
export type Search = { found: ScheduledScenario; preemptions: number } | { found: null; why: string; cut: boolean };

/**
 * A schedule of `e`'s scenario that shows what `e` recorded with `bug` on, with the fewest
 * preemptions, among at most `maxExecutions` runs; or why there is none.
 */
export function search(e: CorpusEntry, bug: BugName, revision: RevisionRecord, maxExecutions = MAX_EXECUTIONS): Search {
  const o = { revision, bugs: new Set([bug]) };
  const fails = (r: RunResult, s: Scenario) => r.violation?.id === e.expect.violation && shows(e, revision, s);
  const { picks: _picks, ...rest } = e.scenario;
  const roundRobin: Scenario = { ...rest, schedule: [] };
  const run = runScenario(roundRobin, o);
  if (fails(run, roundRobin)) return { found: roundRobin, preemptions: 0 };
  // more schedules one preemption from round-robin than the cap: not even that bound can finish,
  // and each of such a scenario's runs is long (64 uploads on 256 CPUs: 133,118 of them)
  const oneAway = run.decisions.reduce((n, options) => n + options - 1, 0);
  if (oneAway > maxExecutions)
    return { found: null, why: `${oneAway} schedules are one preemption from round-robin, more than the ${maxExecutions} the search may run`, cut: true };
  const what = `shows ${e.expect.violation} with ${bug} and passes without it`;
  let left = maxExecutions - 1;
  for (let k = 1; k <= MAX_PREEMPTIONS; k++) {
    const r = exploreSchedules(roundRobin, o, { preemptions: k, maxExecutions: left }, undefined, undefined, fails);
    if (r.failing) return { found: r.failing, preemptions: k };
    left -= r.executions;
    if (!r.complete)
      return {
        found: null,
        why: `no schedule of the ${maxExecutions} the search may run (every one within ${k - 1} preemptions, not every one within ${k}) ${what}`,
        cut: true,
      };
  }
  return { found: null, why: `no schedule within ${MAX_PREEMPTIONS} preemptions ${what}`, cut: false };
}

/** One entry: kept, migrated (to `file`), or lost. */
function migrateEntry(dir: string, file: string, maxSchedules: number): Outcome {
  const e = readEntry(file, MIGRATABLE_FORMATS);
  const revision = findRevision(e.kernel)!;
  if (shows(e, revision, e.scenario)) {
    if (e.format === CORPUS_FORMAT) return { kind: 'kept' };
    return { kind: 'migrated', file: rewrite(dir, file, e, revision, e.scenario), how: `format ${e.format} -> ${CORPUS_FORMAT}, the schedule by name` };
  }
  // A fixed real counterexample that fails again is a regression, not a schedule to re-derive.
  if (e.bug === null) return { kind: 'lost', why: `a real counterexample (${e.expect.violation}) that fails again` };
  console.log(`searching ${shown(basename(file))}: its schedule no longer shows ${e.expect.violation}; at most ${maxSchedules} schedules`);
  const s = search(e, e.bug, revision, maxSchedules);
  if (s.found === null) return { kind: 'lost', why: s.cut ? `${s.why}; --max-schedules searches further` : s.why };
  const m = minimize(s.found, (x) => shows(e, revision, x), { revision, cpus: e.scenario.host.nrCpus });
  return { kind: 'migrated', file: rewrite(dir, file, e, revision, m.scenario), how: `a new schedule, found within ${s.preemptions} preemptions` };
}

/** The corpus files of `dir`: a path that is missing or not a directory is bad input. */
function entriesOf(dir: string): string[] {
  const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? 'unknown error';
  try {
    if (!statSync(dir).isDirectory()) throw new InputError(`${shown(dir)}: not a directory`);
    return corpusFiles(dir);
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (code(e) === 'ENOENT') throw new InputError(`no corpus directory ${shown(dir)}`);
    throw new InputError(`${shown(dir)}: cannot read (${code(e)})`);
  }
}

function main(argv: string[]): number {
  let dir: string, max: string | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { corpus: { type: 'string' }, 'max-schedules': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    dir = values.corpus ?? DEFAULT_CORPUS_DIR;
    max = values['max-schedules'];
  } catch (e) {
    throw new InputError(`${shown(argvError(e))} (${USAGE})`);
  }
  const maxSchedules = max === undefined ? MAX_EXECUTIONS : wholeNumber('max-schedules', max, 1, MAX_SCHEDULES_LIMIT, (m) => new InputError(`${m} (${USAGE})`));
  const files = entriesOf(dir);
  for (const f of files) readEntry(f, MIGRATABLE_FORMATS); // every entry readable before any is rewritten
  const n = { kept: 0, migrated: 0, lost: 0 };
  for (const f of files) {
    const o = migrateEntry(dir, f, maxSchedules);
    n[o.kind]++;
    const name = shown(basename(f));
    if (o.kind === 'kept') console.log(`kept      ${name}`);
    if (o.kind === 'migrated') console.log(`migrated  ${name} -> ${shown(basename(o.file))} (${o.how})`);
    if (o.kind === 'lost') console.log(`lost      ${name}: ${o.why}`);
  }
  console.log(`${n.kept} kept, ${n.migrated} migrated, ${n.lost} lost, of ${files.length} entries in ${shown(dir)}`);
  return n.lost ? 1 : 0;
}

if (resolve(process.argv[1] ?? '') === import.meta.filename) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    // an entry's message names its file, and may quote what is in it
    console.error(`corpus:migrate: ${printable(e.message)}`);
    process.exitCode = 2;
  }
}
