// `npm run canonical`: how canonical are our counterexamples? For each seeded bug, run the
// verifier as `npm run verify -- --fault BUG --seed S` does, for seeds 1..N, and count the
// distinct minimal counterexamples (scenario + violation). The goal is 1 per bug. Each bug runs
// on the kernel revision its catalog record names (impl/faults.ts), or on --kernel for all; a
// bug no seed finds is one that revision cannot show.
//
//   npm run canonical -- [--seeds 20] [--bug B2,B5] [--kernel NAME] [--jobs 2] [--json FILE] [--strict]
//
// Writes reports/canonical.json. Exit 0, or 1 with --strict when a bug has more than one
// counterexample; 2 on bad usage.
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { findBug, SEEDED_BUGS, type BugName } from '../impl/faults.ts';
import { findRevision, REVISIONS, type RevisionRecord } from '../properties/revisions/index.ts';
import { PROPERTIES } from '../properties/catalog.ts';
import { contentHash } from './corpus.ts';
import { writeReportAtomic } from './files.ts';
import { argvError } from './schema.ts';
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

function usage(msg: string): never {
  console.error(`canonical: ${msg}`);
  console.error('usage: npm run canonical -- [--seeds N] [--bug ID[,ID]] [--kernel NAME] [--jobs N] [--json FILE] [--strict]');
  process.exit(2);
}

async function main(): Promise<number> {
  let a;
  try {
    a = parseArgs({
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
      },
    }).values;
  } catch (e) {
    return usage(argvError(e));
  }
  if (a.worker) {
    await worker();
    return -1;
  }
  const seeds = Number(a.seeds ?? 20);
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 1000) usage(`--seeds must be a whole number from 1 to 1000, not '${a.seeds}'`);
  const forced = a.kernel === undefined ? null : (findRevision(a.kernel) ?? usage(`--kernel must be one of ${REVISIONS.map((r) => r.name).join(', ')}`));
  /** The revision a bug is shown on: --kernel, else the one its record names, else the seed. */
  const kernelOf = (bug: BugName): RevisionRecord => forced ?? findRevision((findBug(bug) as { kernel?: string }).kernel ?? 'v2') ?? findRevision('v2')!;
  const bugs =
    a.bug === undefined
      ? SEEDED_BUGS.map((b) => b.name as BugName)
      : a.bug.split(',').map((id) => (findBug(id)?.name as BugName | undefined) ?? usage(`--bug: no seeded bug '${id}'`));
  const jobs = Math.max(1, Math.min(Number(a.jobs ?? availableParallelism()), 8));
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
          const child = fork(new URL(import.meta.url).pathname, ['--worker'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
  writeReportAtomic(a.json ?? 'reports/canonical.json', JSON.stringify({ kernel: forced?.name ?? null, seeds, bugs: rows }, null, 2) + '\n');
  return a.strict && rows.some((r) => r.distinct > 1) ? 1 : 0;
}

const code = await main();
if (code >= 0) process.exitCode = code;
