// `npm run canonical`: how canonical are our counterexamples? For each seeded bug, run the
// verifier as `npm run verify -- --fault BUG --seed S` does, for seeds 1..N, and count the
// distinct minimal counterexamples (scenario + violation). The goal is 1 per bug. Each bug runs
// on the kernel revision its catalog record names (impl/faults.ts), or on --kernel for all; a
// bug no seed finds is one that revision cannot show.
//
//   npm run canonical -- [--seeds 20] [--bug B2,B5] [--kernel NAME] [--jobs 2] [--json FILE] [--strict]
//
// Writes reports/canonical.json. Exit 0, or 1 with --strict when a bug has more than one
// counterexample; 2 on bad usage or a report it cannot write (one line on stderr), every flag
// checked before the minutes of search start.
import { fork } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findBug, SEEDED_BUGS, type BugName } from '../impl/faults.ts';
import { findRevision, REVISIONS, type RevisionRecord } from '../properties/revisions/index.ts';
import { PROPERTIES } from '../properties/catalog.ts';
import { HelpRequest, UsageError } from './cli/args.ts';
import { writable } from './cli/record.ts';
import { runTool } from './cli/tool.ts';
import { contentHash } from './corpus.ts';
import { writeReportAtomic } from './files.ts';
import { argvError, show, wholeNumber } from './schema.ts';
import { BUDGETS, checkProperty } from './verify.ts';

interface Sample {
  readonly bug: BugName;
  readonly seed: number;
  readonly property: string | null;
  readonly violation: string | null;
  readonly hash: string | null;
  readonly commands: number;
  readonly tagged: boolean;
  readonly ms: number;
  readonly scenario: unknown;
}

/** One seed of one bug, exactly as the CLI runs `--fault BUG --seed S`: properties in order, first counterexample. */
async function sample(bug: BugName, seed: number, revision: RevisionRecord): Promise<Sample> {
  const t = performance.now();
  for (const p of PROPERTIES) {
    const r = await checkProperty(p, { seed, budget: BUDGETS.quick, revision, bugs: new Set([bug]) });
    const cx = r.counterexample;
    if (!cx) continue;
    const v = cx.run.violation!;
    const hash = contentHash({ kernel: revision.name, bug: cx.bug, expect: { violation: v.id }, scenario: cx.scenario });
    return {
      bug,
      seed,
      property: p.id,
      violation: v.id,
      hash,
      commands: cx.scenario.commands.length,
      tagged: cx.bug !== null,
      ms: Math.round(performance.now() - t),
      scenario: cx.scenario,
    };
  }
  return { bug, seed, property: null, violation: null, hash: null, commands: 0, tagged: false, ms: Math.round(performance.now() - t), scenario: null };
}

async function worker(): Promise<void> {
  process.on('message', async (m: { bug: BugName; seed: number; kernel: string } | 'done') => {
    if (m === 'done') process.exit(0);
    process.send!(await sample(m.bug, m.seed, findRevision(m.kernel)!));
  });
  process.send!('ready');
}

export const USAGE = 'usage: npm run canonical -- [--seeds N] [--bug ID[,ID]] [--kernel NAME] [--jobs N] [--json FILE] [--strict]';

/** More children than this only queue for the same cores and memory. */
const MAX_JOBS = 8;

export interface Options {
  readonly seeds: number;
  readonly bugs: readonly BugName[];
  /** --kernel: every bug on this revision; null: each on its catalog record's. */
  readonly forced: RevisionRecord | null;
  readonly jobs: number;
  readonly json: string;
  readonly strict: boolean;
}

const whole = (flag: string, v: string, min: number, max: number): number => wholeNumber(flag, v, min, max, (m) => new UsageError(m));

/**
 * Where the report goes, checked now rather than after the search: a regular file's name (a
 * rename cannot replace a directory, and must not replace a device such as /dev/null) in a
 * directory that takes files.
 */
function reportPath(file: string): string {
  if (file === '' || file.endsWith('/') || basename(file) === '.' || basename(file) === '..')
    throw new UsageError(`--json needs a file name, not ${show(file)}`);
  if (existsSync(file) && !statSync(file).isFile()) throw new UsageError(`--json ${show(file)} exists and is not a regular file`);
  writable('--json', dirname(file), [], show(file));
  return file;
}

/**
 * The command line; 'worker' in a child this script forked (`ipc`: it has the channel to its
 * parent). A user's --worker has no parent to take tasks from, so without the channel it is
 * refused. Throws UsageError, or HelpRequest for --help.
 */
export function parse(argv: readonly string[], ipc: boolean): Options | 'worker' {
  let a;
  try {
    a = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        seeds: { type: 'string' },
        bug: { type: 'string' },
        kernel: { type: 'string' },
        jobs: { type: 'string' },
        json: { type: 'string' },
        strict: { type: 'boolean' },
        worker: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    throw new UsageError(argvError(e));
  }
  if (a.help) throw new HelpRequest();
  if (a.worker) {
    if (!ipc) throw new UsageError('--worker is for the child processes canonical starts itself');
    return 'worker';
  }
  const forced = a.kernel === undefined ? null : findRevision(a.kernel);
  if (forced === undefined) throw new UsageError(`--kernel must be one of ${REVISIONS.map((r) => r.name).join(', ')}, not ${show(a.kernel)}`);
  return {
    seeds: a.seeds === undefined ? 20 : whole('seeds', a.seeds, 1, 1000),
    bugs: a.bug === undefined ? SEEDED_BUGS.map((b) => b.name as BugName) : [...new Set(a.bug.split(',').map(bugOf))],
    forced,
    jobs: a.jobs === undefined ? Math.min(availableParallelism(), MAX_JOBS) : whole('jobs', a.jobs, 1, MAX_JOBS),
    json: reportPath(a.json ?? 'reports/canonical.json'),
    strict: a.strict ?? false,
  };
}

function bugOf(id: string): BugName {
  const bug = findBug(id);
  if (!bug) throw new UsageError(`--bug: no seeded bug ${show(id)} (one of ${SEEDED_BUGS.map((b) => b.catalogId).join(', ')})`);
  return bug.name as BugName;
}

async function main(argv: readonly string[]): Promise<number> {
  const o = parse(argv, process.send !== undefined);
  if (o === 'worker') {
    await worker();
    return -1;
  }
  const { seeds, bugs, forced, jobs } = o;
  /** The revision a bug is shown on: --kernel, else the one its record names, else the seed. */
  const kernelOf = (bug: BugName): RevisionRecord => forced ?? findRevision((findBug(bug) as { kernel?: string }).kernel ?? 'v2') ?? findRevision('v2')!;
  const tasks = bugs.flatMap((bug) => Array.from({ length: seeds }, (_, i) => ({ bug, seed: i + 1, kernel: kernelOf(bug).name })));
  const results: Sample[] = [];
  const started = performance.now();
  console.log(
    `canonical counterexamples: ${forced ? `kernel ${forced.name}` : "each bug on its catalog record's kernel"}, ${seeds} seeds per bug (1..${seeds}), ${jobs} job(s)`,
  );
  await Promise.all(
    Array.from(
      { length: Math.min(jobs, tasks.length) },
      () =>
        new Promise<void>((resolve, reject) => {
          const child = fork(import.meta.filename, ['--worker'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          child.on('message', (m: Sample | 'ready') => {
            if (m !== 'ready') {
              results.push(m);
              const mine = results.filter((r) => r.bug === m.bug);
              if (mine.length === seeds)
                console.log(
                  `  ${m.bug}: ${mine.filter((r) => r.hash).length}/${seeds} seeds found it, ${new Set(mine.flatMap((r) => (r.hash ? [r.hash] : []))).size} distinct (${((performance.now() - started) / 1000).toFixed(0)}s)`,
                );
            }
            const next = tasks.shift();
            if (next) child.send(next);
            else child.send('done');
          });
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
        }),
    ),
  );
  const rows = bugs.map((bug) => {
    const mine = results.filter((r) => r.bug === bug).sort((x, y) => x.seed - y.seed);
    const found = mine.filter((r) => r.hash !== null);
    const distinct = new Map<string, number>();
    for (const r of found) distinct.set(r.hash!, (distinct.get(r.hash!) ?? 0) + 1);
    const b = findBug(bug)!;
    return {
      bug,
      id: b.catalogId,
      kernel: kernelOf(bug).name,
      seeds,
      found: found.length,
      distinct: distinct.size,
      counterexamples: [...distinct.entries()].map(([hash, n]) => {
        const r = found.find((x) => x.hash === hash)!;
        const at = found.filter((x) => x.hash === hash);
        return {
          hash,
          seeds: n,
          violation: r.violation,
          commands: r.commands,
          tagged: r.tagged,
          properties: [...new Set(at.map((x) => x.property))],
          atSeeds: at.map((x) => x.seed),
          scenario: r.scenario,
        };
      }),
      msMedian: mine.map((r) => r.ms).sort((x, y) => x - y)[Math.floor(mine.length / 2)] ?? 0,
    };
  });
  console.log(`  ${'bug'.padEnd(8)} ${'name'.padEnd(26)} ${'kernel'.padEnd(9)} found  distinct  counterexample(s)`);
  for (const r of rows) {
    const cx = r.counterexamples
      .map((c) => `${c.violation} ${c.commands} cmd${c.commands === 1 ? '' : 's'} x${c.seeds}${c.tagged ? '' : ' (fails without the bug)'}`)
      .join('; ');
    console.log(
      `  ${r.id.padEnd(8)} ${r.bug.padEnd(26)} ${r.kernel.padEnd(9)} ${`${r.found}/${r.seeds}`.padStart(5)}  ${String(r.found ? r.distinct : '-').padStart(8)}  ${r.found ? cx : 'not shown by this kernel'}`,
    );
  }
  console.log(`  (${((performance.now() - started) / 1000).toFixed(0)}s)`);
  writeReportAtomic(o.json, JSON.stringify({ kernel: forced?.name ?? null, seeds, bugs: rows }, null, 2) + '\n');
  return o.strict && rows.some((r) => r.distinct > 1) ? 1 : 0;
}

if (resolve(process.argv[1] ?? '') === import.meta.filename) await runTool('canonical', USAGE, () => main(process.argv.slice(2)));
