// `npm run corpus:migrate [-- --corpus DIR]`: re-derive every corpus entry after a change that
// moves what a recorded schedule means (the runner's yield points, its order of options). Each
// entry is replayed; one that still shows what it recorded is kept. For one that does not, the
// schedules of its scenario are searched with the fewest departures from round-robin first
// (harness/exhaustive.ts, 0 to MAX_PREEMPTIONS), for one that shows the recorded violation with
// its seeded bug and passes without it; that is made canonical (minimize.ts) and written in
// place of the old entry (the new file first, then the old one removed). An entry no search
// reproduces is lost: it stays as it is, and the command exits 1. Exit 2 on bad input.
import { existsSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { NO_BUGS } from '../impl/faults.ts';
import { findRevision, type RevisionRecord } from '../properties/revisions/index.ts';
import type { Scenario } from '../properties/scenario.ts';
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
import { runScenario } from './run.ts';
import { argvError, InputError } from './schema.ts';

const MAX_PREEMPTIONS = 3;
const MAX_EXECUTIONS = 200_000;

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

/** One entry: kept, migrated (to `file`), or lost. */
function migrateEntry(dir: string, file: string): Outcome {
  const e = readEntry(file, MIGRATABLE_FORMATS);
  const revision = findRevision(e.kernel)!;
  if (shows(e, revision, e.scenario)) {
    if (e.format === CORPUS_FORMAT) return { kind: 'kept' };
    return { kind: 'migrated', file: rewrite(dir, file, e, revision, e.scenario), how: `format ${e.format} -> ${CORPUS_FORMAT}, the schedule by name` };
  }
  // A fixed real counterexample that fails again is a regression, not a schedule to re-derive.
  if (e.bug === null) return { kind: 'lost', why: `a real counterexample (${e.expect.violation}) that fails again` };
  const bugs = new Set([e.bug]);
  const fails = (s: Scenario) => shows(e, revision, s);
  for (let k = 0; k <= MAX_PREEMPTIONS; k++) {
    const found = exploreSchedules(
      { ...e.scenario, schedule: [] },
      { revision, bugs },
      { preemptions: k, maxExecutions: MAX_EXECUTIONS },
      undefined,
      undefined,
      (r, s) => r.violation?.id === e.expect.violation && fails(s),
    ).failing;
    if (!found) continue;
    const m = minimize(found, fails, { revision, cpus: e.scenario.host.nrCpus });
    return { kind: 'migrated', file: rewrite(dir, file, e, revision, m.scenario), how: `a new schedule, found within ${k} preemptions` };
  }
  return { kind: 'lost', why: `no schedule within ${MAX_PREEMPTIONS} preemptions shows ${e.expect.violation} with ${e.bug} and passes without it` };
}

function main(argv: string[]): number {
  let dir: string;
  try {
    const { values } = parseArgs({ args: argv, options: { corpus: { type: 'string' } }, strict: true, allowPositionals: false });
    dir = values.corpus ?? DEFAULT_CORPUS_DIR;
  } catch (e) {
    console.error(`corpus:migrate: ${argvError(e)} (usage: npm run corpus:migrate -- [--corpus DIR])`);
    return 2;
  }
  if (!existsSync(dir)) {
    console.error(`corpus:migrate: no corpus directory ${dir}`);
    return 2;
  }
  const files = corpusFiles(dir);
  for (const f of files) readEntry(f, MIGRATABLE_FORMATS); // every entry readable before any is rewritten
  const n = { kept: 0, migrated: 0, lost: 0 };
  for (const f of files) {
    const o = migrateEntry(dir, f);
    n[o.kind]++;
    if (o.kind === 'kept') console.log(`kept      ${basename(f)}`);
    if (o.kind === 'migrated') console.log(`migrated  ${basename(f)} -> ${basename(o.file)} (${o.how})`);
    if (o.kind === 'lost') console.log(`lost      ${basename(f)}: ${o.why}`);
  }
  console.log(`${n.kept} kept, ${n.migrated} migrated, ${n.lost} lost, of ${files.length} entries in ${dir}`);
  return n.lost ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof InputError)) throw e;
  console.error(`corpus:migrate: ${e.message}`);
  process.exitCode = 2;
}
