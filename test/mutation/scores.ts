// Reads Stryker's JSON report (reports/mutation/mutation.json) and writes the mutation score per
// file and per folder, and every surviving or uncovered mutant, to reports/mutation/scores.md.
// Run by `npm run mutation` after Stryker; on its own: `npx tsx test/mutation/scores.ts`.
// `--properties-only` (run by `npm run mutation:properties`): reports/mutation-properties, the
// property catalog alone. Other report directories may be named instead, several of them to add
// up runs of one file each (`stryker run ... --mutate FILE`); scores.md goes into the first.
// `--partial`: a run stopped before its end, from the mutants its event recorder wrote as they
// were tested (DIR/events, stryker.properties-only.config.mjs), each file's source read from
// disk, so score it before the code changes; it says how many of each file's mutants were tested
// and gates nothing.
// Exit 1 if a gated folder scores below its target (the issue's goal), or if a report is missing.
import { readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { writeReportAtomic } from '../../harness/files.ts';

const MODES = {
  all: {
    dir: 'reports/mutation',
    cmd: 'npm run mutation',
    run: 'Stryker, vitest.mutation.config.ts, unit suites and the property catalog at budget quick, seed 42',
    gates: { 'impl/kernel': 80, 'impl/firmware': 80 } as Record<string, number>,
  },
  // Issue 14: what the properties alone catch on the kernel update path.
  propertiesOnly: {
    dir: 'reports/mutation-properties',
    cmd: 'npm run mutation:properties',
    run: 'Stryker, vitest.properties-only.config.ts, the property catalog alone on every revision at budget quick, seed 42',
    gates: { 'impl/kernel': 85 } as Record<string, number>,
  },
};

const args = parseArgs({
  options: { 'properties-only': { type: 'boolean', default: false }, partial: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const PARTIAL = args.values.partial;
const MODE = args.values['properties-only'] ? MODES.propertiesOnly : MODES.all;
const DIRS = args.positionals.length ? args.positionals : [MODE.dir];
const OUT = `${DIRS[0]}/scores.md`;

type Status = 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'CompileError' | 'RuntimeError' | 'Ignored' | 'Pending';
interface Pos {
  line: number;
  column: number;
}
interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: Status;
  static?: boolean;
  location: { start: Pos; end: Pos };
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

interface Tally {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  errors: number;
  ignored: number;
}
const empty = (): Tally => ({ killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0, ignored: 0 });

function add(t: Tally, m: Mutant): void {
  switch (m.status) {
    case 'Killed':
      t.killed++;
      break;
    case 'Timeout':
      t.timeout++;
      break;
    case 'Survived':
      t.survived++;
      break;
    case 'NoCoverage':
      t.noCoverage++;
      break;
    case 'CompileError':
    case 'RuntimeError':
      t.errors++;
      break;
    default:
      t.ignored++;
  }
}

/** Stryker's definitions: score = detected / valid; covered = detected / (detected + survived). */
function score(t: Tally): { total: number; score: number; covered: number } {
  const detected = t.killed + t.timeout,
    valid = detected + t.survived + t.noCoverage;
  return { total: valid, score: valid ? (100 * detected) / valid : 100, covered: detected + t.survived ? (100 * detected) / (detected + t.survived) : 100 };
}

const pct = (x: number) => x.toFixed(2);
const row = (name: string, t: Tally) => {
  const s = score(t);
  return `| ${name} | ${pct(s.score)} | ${pct(s.covered)} | ${t.killed} | ${t.timeout} | ${t.survived} | ${t.noCoverage} | ${t.errors} | ${t.ignored} |`;
};
const HEAD = '| | score % | covered % | killed | timeout | survived | no cov | errors | ignored |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|';

/** The mutated text, one line, shortened. */
function original(source: string, m: Mutant): string {
  const lines = source.split('\n');
  const { start, end } = m.location;
  const text =
    start.line === end.line
      ? lines[start.line - 1]!.slice(start.column - 1, end.column - 1)
      : [lines[start.line - 1]!.slice(start.column - 1), ...lines.slice(start.line, end.line - 1), lines[end.line - 1]!.slice(0, end.column - 1)].join(' ');
  return short(text);
}
function short(s: string | undefined): string {
  const one = (s ?? '').replace(/\s+/g, ' ').trim();
  return (one.length > 70 ? one.slice(0, 67) + '...' : one).replace(/\|/g, '\\|').replace(/`/g, "'");
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    console.error(`mutation scores: cannot read ${path} (${(e as Error).message}); run \`${MODE.cmd}\` first`);
    process.exit(1);
  }
}

/** One Stryker run: its report, or with --partial what its event recorder wrote, and how many mutants each file had. */
function readRun(dir: string): { files: Report['files']; planned: Map<string, number> } {
  const planned = new Map<string, number>();
  if (!PARTIAL) {
    const files = readJson<Report>(`${dir}/mutation.json`).files;
    for (const [f, v] of Object.entries(files)) planned.set(f, v.mutants.length);
    return { files, planned };
  }
  const events = `${dir}/events`;
  let names: string[];
  try {
    names = readdirSync(events).sort();
  } catch (e) {
    console.error(`mutation scores: cannot read ${events} (${(e as Error).message}); run \`${MODE.cmd}\` first`);
    process.exit(1);
  }
  const rel = (fileName: string) => relative(process.cwd(), fileName).replace(/\\/g, '/');
  const files: Report['files'] = {};
  for (const n of names) {
    if (n.endsWith('-onMutationTestingPlanReady.json')) {
      const plan = readJson<{ mutantPlans: { mutant: { fileName: string } }[] }>(`${events}/${n}`);
      for (const { mutant } of plan.mutantPlans) planned.set(rel(mutant.fileName), (planned.get(rel(mutant.fileName)) ?? 0) + 1);
    } else if (n.endsWith('-onMutantTested.json')) {
      const m = readJson<Mutant & { fileName: string }>(`${events}/${n}`);
      const f = rel(m.fileName);
      files[f] ??= { source: readFileSync(f, 'utf8'), mutants: [] };
      files[f].mutants.push(m);
    }
  }
  return { files, planned };
}

/** The runs' files together; a file mutated in two of them would be counted twice. */
function readReports(dirs: readonly string[]): Report & { planned: Map<string, number> } {
  const merged: Report = { files: {} },
    planned = new Map<string, number>();
  for (const dir of dirs) {
    const r = readRun(dir);
    for (const [f, v] of Object.entries(r.files)) {
      if (merged.files[f]) {
        console.error(`mutation scores: ${f} is in two of the reports (${dirs.join(', ')})`);
        process.exit(1);
      }
      merged.files[f] = v;
      planned.set(f, r.planned.get(f) ?? v.mutants.length);
    }
  }
  return { ...merged, planned };
}
const report = readReports(DIRS);

const files = Object.keys(report.files).sort();
const perFile = new Map<string, Tally>(),
  perFolder = new Map<string, Tally>(),
  all = empty();
for (const f of files) {
  const folder = f.split('/').slice(0, 2).join('/');
  const t = empty(),
    ft = perFolder.get(folder) ?? empty();
  for (const m of report.files[f]!.mutants) {
    add(t, m);
    add(ft, m);
    add(all, m);
  }
  perFile.set(f, t);
  perFolder.set(folder, ft);
}

const out: string[] = [];
out.push('# Mutation score', '');
const source = PARTIAL ? 'events' : 'mutation.json';
out.push(`From ${DIRS.map((d) => `\`${d}/${source}\``).join(', ')} (\`${MODE.cmd}\`: ${MODE.run}).`);
if (PARTIAL) {
  out.push('', 'A run stopped early: of each file, only the mutants tested before it stopped.', '');
  for (const f of files) out.push(`- ${f}: ${report.files[f]!.mutants.length} of ${report.planned.get(f)} mutants`);
  out.push('');
}
out.push('Score = (killed + timeout) / (killed + timeout + survived + no coverage); "covered" leaves out mutants no test reaches.', '');
out.push('## Per folder', '', HEAD);
for (const [k, t] of [...perFolder].sort()) out.push(row(k, t));
out.push(row('**all**', all), '');
out.push('## Per file', '', HEAD);
for (const f of files) out.push(row(f, perFile.get(f)!));
out.push('');
out.push('## Surviving and uncovered mutants', '');
for (const f of files) {
  const { source, mutants } = report.files[f]!;
  const left = mutants
    .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
    .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column);
  if (!left.length) continue;
  out.push(`### ${f} (${left.length})`, '', '| line | status | mutator | original | replacement |', '|---:|---|---|---|---|');
  for (const m of left) {
    out.push(
      `| ${m.location.start.line}:${m.location.start.column} | ${m.status === 'NoCoverage' ? 'no coverage' : 'survived'}${m.static ? ' (static)' : ''} | ${m.mutatorName} | \`${original(source, m)}\` | \`${short(m.replacement)}\` |`,
    );
  }
  out.push('');
}
writeReportAtomic(OUT, out.join('\n') + '\n');

console.log(`mutation score per folder (${OUT} has every file and every surviving mutant):`);
let failed = false;
for (const [k, t] of [...perFolder].sort()) {
  const s = score(t),
    target = PARTIAL ? undefined : MODE.gates[k];
  const gate = target === undefined ? '' : s.score >= target ? `  >= ${target}% ok` : `  < ${target}% TARGET MISSED`;
  if (target !== undefined && s.score < target) failed = true;
  console.log(`  ${k.padEnd(16)} ${pct(s.score).padStart(6)}%  of ${String(s.total).padStart(5)} mutants${gate}`);
}
console.log(`  ${'all'.padEnd(16)} ${pct(score(all).score).padStart(6)}%  of ${String(score(all).total).padStart(5)} mutants`);
if (PARTIAL) {
  const tested = files.reduce((n, f) => n + report.files[f]!.mutants.length, 0),
    planned = files.reduce((n, f) => n + report.planned.get(f)!, 0);
  console.log(`partial: ${tested} of ${planned} mutants of these files tested; no gate`);
}
process.exit(failed ? 1 : 0);
