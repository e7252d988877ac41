// The command line of `npm run verify`: node's parseArgs splits it, a zod schema per flag
// checks each value, and the combinations are checked last. Every problem is a UsageError
// whose one line names the flag, the value and what is allowed. Names are looked up in
// lists and Maps, never as a property of a plain object (`--budget constructor`).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { findBug, NO_BUGS, type BugName } from '../../impl/faults.ts';
import { findRevision, REVISIONS } from '../../properties/revisions/index.ts';
import { findProperty, PROPERTIES, type Property } from '../../properties/catalog.ts';
import { DEFAULT_CORPUS_DIR } from '../corpus.ts';
import { argvError, LIMITS, show } from '../schema.ts';
import { parseShard, type ShardSpec } from '../shard.ts';
import { SCHEDULERS } from '../schedulers.ts';
import { DOMAIN } from '../explore.ts';
import { BUDGETS, EXPLORE_COMMANDS, PCT_DEPTH, PREEMPTIONS, type Budget, type CheckOptions } from '../verify.ts';

export const DEFAULT_SEED = 42;

export class UsageError extends Error {}
export class HelpRequest extends Error {}

export interface Cli {
  readonly options: CheckOptions;
  readonly properties: readonly Property[];
  readonly fault: BugName | null;
  readonly path: string | undefined;
  readonly reports: string;
  /** Where counterexamples are recorded; null with --no-corpus (they go to reports/counterexamples). */
  readonly corpus: string | null;
  readonly shard: ShardSpec | null;
  /** `--jobs N`: the run as N shards side by side, then merged (harness/cli/jobs.ts); 1: in this process. */
  readonly jobs: number;
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
  /** `--blobs DIR`: a checkout of intel/tdx-module-binaries whose blobs the runs use. */
  readonly blobs: string | null;
  /** How many blobs `--blobs` loaded (set once they are read). */
  readonly blobFiles?: number;
}

const OPTIONS = {
  seed: { type: 'string' },
  budget: { type: 'string' },
  property: { type: 'string' },
  cpus: { type: 'string' },
  fault: { type: 'string' },
  kernel: { type: 'string' },
  path: { type: 'string' },
  reports: { type: 'string' },
  replay: { type: 'string' },
  shard: { type: 'string' },
  jobs: { type: 'string' },
  merge: { type: 'boolean' },
  corpus: { type: 'string' },
  'no-corpus': { type: 'boolean' },
  'require-runs': { type: 'boolean' },
  'time-limit': { type: 'string' },
  progress: { type: 'string' },
  list: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  faults: { type: 'string' },
  blobs: { type: 'string' },
  scheduler: { type: 'string' },
  'pct-depth': { type: 'string' },
  preemptions: { type: 'string' },
  explore: { type: 'boolean' },
  commands: { type: 'string' },
  values: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

export const HELP = `usage: npm run verify -- [options]
  --seed N|random     fast-check seed, 0 to ${0xffffffff} (default ${DEFAULT_SEED})
  --budget NAME       quick (100 runs a property), ci (300) or deep (3000); default quick
  --property ID[,ID]  only these properties (see --list)
  --cpus N            every scenario on N CPUs, 1 to ${LIMITS.cpus}
  --fault NAME|ID     turn on one seeded bug (see --list); runs on the revision it lived in
  --kernel NAME|all   kernel revision (see --list); all: every revision, then the verdicts
  --path P            with --seed and one --property: replay fast-check's run P (digits and ':')
  --replay FILE       run one corpus entry as recorded (--kernel and --fault may override it)
  --shard I/N         run shard I of N (1 <= I <= N <= 1024) into reports/shards/
  --merge FILE...     add shard summaries up into one report
  --jobs N            run as N shards side by side (child processes), then merge them, N from 1 to 64
  --reports DIR       where reports go (default reports)
  --corpus DIR        where counterexamples are recorded (default ${DEFAULT_CORPUS_DIR})
  --no-corpus         record counterexamples under reports/counterexamples only
  --require-runs      exit 3 when the time budget runs out before the requested runs
  --time-limit S      seconds per property's search, 0 to 86400 (overrides the budget's)
  --progress S        seconds between progress lines when not on a terminal (0: none)
  --scheduler NAME    who picks the next task: random (uniform choices, default), pct, or
                      exhaustive (every schedule of each scenario within --preemptions)
  --pct-depth D       with --scheduler pct: the bug depth PCT aims at, 1 to 10 (default ${PCT_DEPTH})
  --preemptions K     with --scheduler exhaustive: departures from round-robin, 0 to 4 (default ${PREEMPTIONS})
  --explore           with --scheduler exhaustive and --cpus: enumerate the scenarios too (--shard I/N: those whose hash is I)
  --commands L        with --explore: command sequences of 1 to L commands, L from 1 to 4 (default ${EXPLORE_COMMANDS})
  --values V          with --explore: V values of each command kind, 1 to 16 (default ${DOMAIN})
  --faults all        every seeded bug on its own revision: how soon and how short it is caught
  --blobs DIR         also use Intel's module blobs from DIR (a checkout of intel/tdx-module-binaries)
  --list              properties, invariants, seeded faults and kernel revisions
  -h, --help          this text
limits, exit codes, signals, the corpus and the reports: README.md "Options and exit codes"`;

/** `--seed -1`: parseArgs takes "-1" for an option; joined to its flag it is a value to judge. */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = /^--([a-z-]+)$/.exec(argv[i]!)?.[1];
    const takesValue = flag !== undefined && Object.hasOwn(OPTIONS, flag) && OPTIONS[flag as keyof typeof OPTIONS].type === 'string';
    if (takesValue && /^-[\d.]/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]!);
  }
  return out;
}

function split(argv: readonly string[]): { a: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(argv), strict: true, allowPositionals: true, options: OPTIONS });
    return { a: values, positionals };
  } catch (e) {
    throw new UsageError(argvError(e));
  }
}

/** One flag's value through its schema; the message names the flag, the value and what is allowed. */
function flag<T>(name: string, schema: z.ZodType<T>, v: string): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new UsageError(`--${name} ${r.error.issues[0]!.message}, not ${show(v)}`);
  return r.data;
}

function whole(min: number, max: number, or = ''): z.ZodType<number, string> {
  const range = `must be ${or}a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d{1,10}$/, range)
    .transform(Number)
    .pipe(z.number().min(min, range).max(max, range));
}
const seconds = z
  .string()
  .regex(/^\d{1,6}(\.\d{1,3})?$/, 'must be a number of seconds from 0 to 86400')
  .transform(Number)
  .pipe(z.number().max(86_400, 'must be a number of seconds from 0 to 86400'));
const budget = z.enum(['quick', 'ci', 'deep'], 'must be quick, ci or deep');
const directory = z.string().min(1, 'needs a directory name').max(4096, 'is longer than 4096 characters');
const file = z.string().min(1, 'needs a file name').max(4096, 'is longer than 4096 characters');
const shardSpec = z
  .string()
  .refine((v) => parseShard(v) !== null, 'must be I/N with 1 <= I <= N <= 1024')
  .transform((v) => parseShard(v)!);
const scheduler = z.enum(SCHEDULERS, `must be ${SCHEDULERS.join(' or ')}`);
const faultsAll = z.literal('all', "takes 'all' (every seeded bug)");
const fcPath = z.string().regex(/^\d{1,9}(:\d{1,9}){0,9999}$/, "must be fast-check's path: whole numbers joined by ':' (from its replay line)");

function seedOf(a: Values): number {
  if (a.seed === 'random') return (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
  return a.seed === undefined ? DEFAULT_SEED : flag('seed', whole(0, 0xffffffff, "'random' or "), a.seed);
}

function propertiesOf(a: Values): readonly Property[] {
  if (a.property === undefined) return PROPERTIES;
  const named = a.property.split(',').map((id) => {
    const p = findProperty(id);
    if (!p) throw new UsageError(`--property: no property ${show(id)} (one of ${PROPERTIES.map((x) => x.id).join(', ')}; see --list)`);
    return p;
  });
  // twice would run it twice and write two rows of one name, which --merge refuses
  const twice = named.find((p, i) => named.indexOf(p) !== i);
  if (twice) throw new UsageError(`--property: ${twice.id} is named twice`);
  return named;
}

/** The flags that mean nothing in a mode, given: a usage error naming the first. */
function refuse(a: Values, mode: string, why: string, keys: readonly (keyof Values)[]): void {
  const extra = keys.find((k) => a[k] !== undefined);
  if (extra) throw new UsageError(`${mode} ${why}; --${extra} does not apply`);
}

/** The flags that choose how schedules are searched: they mean nothing to --replay, --merge or --faults all. */
const SCHEDULING = ['scheduler', 'pct-depth', 'preemptions', 'explore', 'commands', 'values'] as const;

function checkModes(a: Values, positionals: readonly string[]): void {
  if (positionals.length && !a.merge) throw new UsageError(`unexpected argument ${show(positionals[0])} (only --merge takes file names)`);
  if (a.kernel === 'all') refuse(a, '--kernel all', 'runs every revision and the verdicts', ['replay', 'merge', 'faults', 'path', 'shard', 'fault', 'jobs']);
  if (a.jobs !== undefined) refuse(a, '--jobs', 'splits the run into shards itself', ['shard', 'path', 'list']);
  const modes = [a.replay !== undefined && '--replay', a.merge && '--merge', a.list && '--list', a.faults !== undefined && '--faults'].filter(Boolean);
  if (modes.length > 1) throw new UsageError(`${modes.join(' and ')} cannot be combined`);
  if (a.replay !== undefined)
    refuse(a, '--replay', "runs one corpus entry as recorded (--kernel and --fault may override the entry's)", [
      'seed',
      'budget',
      'property',
      'cpus',
      'path',
      'shard',
      'jobs',
      'time-limit',
      'require-runs',
      'progress',
      ...SCHEDULING,
    ]);
  if (a.merge)
    refuse(a, '--merge', 'adds up shard summaries as they were run', [
      'blobs',
      'seed',
      'budget',
      'property',
      'cpus',
      'fault',
      'kernel',
      'path',
      'shard',
      'jobs',
      'time-limit',
      'progress',
      ...SCHEDULING,
    ]);
  if (a.faults !== undefined)
    refuse(a, '--faults all', 'runs every seeded bug on its own revision', [
      'property',
      'cpus',
      'fault',
      'kernel',
      'path',
      'shard',
      'jobs',
      'replay',
      'blobs',
      ...SCHEDULING,
    ]);
  if (a.merge && positionals.length === 0) throw new UsageError('--merge needs the shard files, e.g. --merge reports/shards/*.json');
  if (a.corpus !== undefined && a['no-corpus']) throw new UsageError('--corpus and --no-corpus contradict each other');
  if (a.faults !== undefined) flag('faults', faultsAll, a.faults);
  if (a['pct-depth'] !== undefined && a.scheduler !== 'pct') throw new UsageError('--pct-depth needs --scheduler pct');
  if (a.preemptions !== undefined && a.scheduler !== 'exhaustive') throw new UsageError('--preemptions needs --scheduler exhaustive');
  if (a.explore && a.scheduler !== 'exhaustive') throw new UsageError('--explore needs --scheduler exhaustive');
  if (a.explore && a.cpus === undefined) throw new UsageError('--explore needs --cpus N (the bound on CPUs)');
  if (a.explore && a.path !== undefined) throw new UsageError('--explore enumerates every scenario; it cannot be combined with --path');
  if (a.commands !== undefined && !a.explore) throw new UsageError('--commands needs --explore');
  if (a.values !== undefined && !a.explore) throw new UsageError('--values needs --explore');
}

function bugOf(a: Values): ReturnType<typeof findBug> | null {
  if (a.fault === undefined || (a.fault === 'none' && a.replay !== undefined)) return null;
  const bug = findBug(a.fault);
  if (!bug) throw new UsageError(`--fault: no seeded fault ${show(a.fault)} (a name or ID from --list${a.replay !== undefined ? ', or none' : ''})`);
  return bug;
}

function revisionOf(a: Values, bug: ReturnType<typeof findBug> | null) {
  if (a.kernel === 'seed') throw new UsageError("--kernel: the revision 'seed' is now called 'v2' (--kernel v2)");
  // A seeded bug runs on the revision it lived in (its catalog record), unless --kernel says otherwise.
  const home = a.replay === undefined ? (bug as { kernel?: string } | null)?.kernel : undefined;
  const revision = findRevision(a.kernel === 'all' ? 'v2' : (a.kernel ?? home ?? 'v2'));
  if (!revision) throw new UsageError(`--kernel must be one of ${REVISIONS.map((r) => r.name).join(', ')} or all, not ${show(a.kernel)}`);
  return revision;
}

/** Reports and the corpus in one directory would mix summary.json with corpus entries. */
function checkDirs(reports: string, corpus: string | null): void {
  for (const c of [corpus, DEFAULT_CORPUS_DIR]) {
    if (c !== null && resolve(reports) === resolve(c))
      throw new UsageError(`--reports ${reports} is a corpus directory: summary.json would be read as a corpus entry`);
  }
}

/**
 * fast-check's path: the run, then the shrinks. The run comes first because fast-check reaches
 * run N by generating the N before it, in one synchronous loop that neither the time limit nor
 * a signal can end: a run past the budget's was never printed by it, and is refused.
 */
function pathOf(a: Values, properties: readonly Property[], shard: ShardSpec | null, budget: Budget): string | undefined {
  if (a.path === undefined) return undefined;
  const p = flag('path', fcPath, a.path);
  if (properties.length !== 1 || a.seed === undefined) throw new UsageError('--path needs --seed and exactly one --property');
  if (shard) throw new UsageError('--path replays one run; it cannot be combined with --shard');
  const run = Number(p.split(':')[0]);
  if (run >= budget.numRuns)
    throw new UsageError(`--path: run ${run} is past the ${budget.numRuns} runs of the ${budget.name} budget (give the --budget the path was printed with)`);
  return p;
}

export function parse(argv: readonly string[]): Cli {
  const { a, positionals } = split(argv);
  if (a.help) throw new HelpRequest();
  checkModes(a, positionals);
  const budgetName = flag('budget', budget, a.budget ?? 'quick');
  const bug = bugOf(a);
  const revision = revisionOf(a, bug);
  const seed = seedOf(a);
  const properties = propertiesOf(a);
  const shard = a.shard === undefined ? null : flag('shard', shardSpec, a.shard);
  const path = pathOf(a, properties, shard, BUDGETS[budgetName]);
  const reports = a.reports === undefined ? 'reports' : flag('reports', directory, a.reports);
  const corpus = a['no-corpus'] ? null : a.corpus === undefined ? DEFAULT_CORPUS_DIR : flag('corpus', directory, a.corpus);
  checkDirs(reports, corpus);
  return {
    options: {
      seed,
      budget: BUDGETS[budgetName],
      revision,
      bugs: bug ? new Set([bug.name as BugName]) : NO_BUGS,
      cpus: a.cpus === undefined ? undefined : flag('cpus', whole(1, LIMITS.cpus), a.cpus),
      timeLimitMs: a['time-limit'] === undefined ? undefined : flag('time-limit', seconds, a['time-limit']) * 1000,
      scheduler: a.scheduler === undefined ? 'random' : flag('scheduler', scheduler, a.scheduler),
      pctDepth: a['pct-depth'] === undefined ? PCT_DEPTH : flag('pct-depth', whole(1, 10), a['pct-depth']),
      preemptions: a.preemptions === undefined ? PREEMPTIONS : flag('preemptions', whole(0, 4), a.preemptions),
      exploreCommands: a.explore ? (a.commands === undefined ? EXPLORE_COMMANDS : flag('commands', whole(1, 4), a.commands)) : undefined,
      exploreValues: a.explore ? (a.values === undefined ? DOMAIN : flag('values', whole(1, 16), a.values)) : undefined,
    },
    properties,
    fault: (bug?.name as BugName | undefined) ?? null,
    path,
    reports,
    corpus,
    shard,
    jobs: a.jobs === undefined ? 1 : flag('jobs', whole(1, 64), a.jobs),
    replay: a.replay === undefined ? null : flag('replay', file, a.replay),
    merge: a.merge ? positionals.map((f) => flag('merge', file, f)) : null,
    requireRuns: a['require-runs'] ?? false,
    progressMs: a.progress === undefined ? 30_000 : flag('progress', seconds, a.progress) * 1000,
    list: a.list ?? false,
    faults: a.faults !== undefined,
    allKernels: a.kernel === 'all',
    given: { kernel: a.kernel !== undefined, fault: a.fault !== undefined },
    blobs: a.blobs === undefined ? null : flag('blobs', directory, a.blobs),
  };
}
