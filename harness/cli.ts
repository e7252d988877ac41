// `npm run verify`: checks every property (or the named ones) against the emulated kernel,
// prints a summary table, writes reports/summary.json, exits 0 (all hold), 1 (counterexample),
// 2 (bad usage), 3 (the time budget ran out before the requested runs).
import { parseArgs } from 'node:util';
import { findBug, NO_BUGS, SEEDED_BUGS, type BugName } from '../impl/faults.ts';
import { findRevision, REVISIONS } from '../impl/kernel/revision.ts';
import { PROPERTIES, findProperty, type Property } from '../properties/catalog.ts';
import { INVARIANTS, TERMINATION } from '../properties/invariants.ts';
import { coverageReport } from './coverage.ts';
import { writeReportAtomic } from './files.ts';
import { formatCounterexample } from './timeline.ts';
import { BUDGETS, checkProperty, type Budget, type CheckOptions, type PropertyResult } from './verify.ts';

export const DEFAULT_SEED = 42;

class UsageError extends Error {}

interface Cli {
  readonly options: CheckOptions;
  readonly properties: readonly Property[];
  readonly fault: string | null;
  readonly path: string | undefined;
  readonly reports: string;
  readonly list: boolean;
}

const USAGE = `usage: npm run verify -- [--seed N|random] [--budget quick|ci|deep] [--property ID[,ID]] [--cpus N]
                        [--fault NAME] [--kernel seed] [--path P] [--reports DIR] [--list]`;

function intArg(name: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${v}'`);
  return Number(v);
}

function parse(argv: string[]): Cli {
  let a;
  try {
    a = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        seed: { type: 'string' }, budget: { type: 'string' }, property: { type: 'string' }, cpus: { type: 'string' },
        fault: { type: 'string' }, kernel: { type: 'string' }, path: { type: 'string' }, reports: { type: 'string' },
        list: { type: 'boolean' }, help: { type: 'boolean' },
      },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!);
  }
  if (a.help) throw new UsageError('');
  const budget = BUDGETS[(a.budget ?? 'quick') as Budget['name']];
  if (!budget) throw new UsageError(`--budget must be quick, ci or deep, not '${a.budget}'`);
  const rev = findRevision(a.kernel ?? 'seed');
  if (!rev) throw new UsageError(`--kernel must be one of ${REVISIONS.map((r) => r.name).join(', ')}, not '${a.kernel}'`);
  const seed = a.seed === 'random' ? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0 : a.seed === undefined ? DEFAULT_SEED : intArg('seed', a.seed, 0, 0xffffffff);
  const properties = a.property === undefined ? PROPERTIES : a.property.split(',').map((id) => {
    const p = findProperty(id);
    if (!p) throw new UsageError(`--property: no property '${id}' (see --list)`);
    return p;
  });
  const bug = a.fault === undefined ? null : findBug(a.fault);
  if (bug === undefined) throw new UsageError(`--fault: no seeded fault '${a.fault}' (see --list)`);
  if (a.path !== undefined && (properties.length !== 1 || a.seed === undefined)) throw new UsageError('--path needs --seed and exactly one --property');
  return {
    options: {
      seed, budget, rev, bugs: bug ? new Set([bug.name as BugName]) : NO_BUGS,
      cpus: a.cpus === undefined ? undefined : intArg('cpus', a.cpus, 1, 256),
    },
    properties, fault: bug?.name ?? null, path: a.path, reports: a.reports ?? 'reports', list: a.list ?? false,
  };
}

function printList(): void {
  console.log('properties:');
  for (const p of PROPERTIES) console.log(`  ${p.id.padEnd(18)} ${p.claim}`);
  console.log('invariants (checked after every step of every property):');
  for (const i of [...INVARIANTS, TERMINATION]) console.log(`  ${i.id.padEnd(6)} ${i.claim}`);
  console.log('  result  every observable result (errno, sysfs read, SEAMCALL outcome) equals the model\'s prediction');
  console.log('  refinement  abstract(impl) equals the model state at every linearization point');
  console.log('seeded faults (--fault NAME or ID):');
  for (const b of SEEDED_BUGS) console.log(`  ${b.catalogId.padEnd(6)} ${b.name.padEnd(26)} ${b.claim}`);
}

function row(r: PropertyResult): string {
  const cx = r.counterexample ? `${r.counterexample.scenario.commands.length} commands, ${r.counterexample.run.violation!.id}` : '';
  return `  ${r.id.padEnd(18)} ${r.status.padEnd(12)} ${String(r.runs).padStart(5)} ${String(r.commands).padStart(9)} ${(r.ms / 1000).toFixed(1).padStart(7)}s  ${cx}`;
}

function summaryJson(cli: Cli, results: readonly PropertyResult[]): unknown {
  const o = cli.options;
  return {
    tool: 'tdx-update-verify', kernel: o.rev.name, budget: o.budget.name, seed: o.seed, fault: cli.fault, cpus: o.cpus ?? null,
    properties: results.map((r) => ({
      id: r.id, status: r.status, runs: r.runs, commands: r.commands, ms: r.ms,
      firstFailure: r.firstFailure,
      counterexample: r.counterexample && {
        length: r.counterexample.scenario.commands.length, violation: { id: r.counterexample.run.violation!.id, message: r.counterexample.run.violation!.message },
        seed: r.counterexample.seed, path: r.counterexample.path, shrinks: r.counterexample.shrinks, scenario: r.counterexample.scenario,
      },
    })),
    coverage: Object.fromEntries([...mergeCoverage(results)].sort(([a], [b]) => a.localeCompare(b))),
  };
}

function mergeCoverage(results: readonly PropertyResult[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of results) for (const [k, n] of r.coverage) m.set(k, (m.get(k) ?? 0) + n);
  return m;
}

function main(argv: string[]): number {
  const cli = parse(argv);
  if (cli.list) {
    printList();
    return 0;
  }
  const o = cli.options;
  console.log(`tdx-update-verify: kernel ${o.rev.name} (v2, 2025-09-30), budget ${o.budget.name}, seed ${o.seed}${cli.fault ? `, seeded fault ${cli.fault}` : ''}${o.cpus ? `, ${o.cpus} CPUs` : ''}`);
  console.log(`  ${'property'.padEnd(18)} ${'status'.padEnd(12)} ${'runs'.padStart(5)} ${'commands'.padStart(9)} ${'time'.padStart(8)}  counterexample`);
  const results: PropertyResult[] = [];
  for (const p of cli.properties) {
    const r = checkProperty(p, o, cli.path);
    results.push(r);
    console.log(row(r));
    if (r.counterexample && cli.fault) break; // the seeded fault is found: that is the answer
  }
  const runs = results.reduce((n, r) => n + r.runs, 0);
  console.log(...coverageReport(mergeCoverage(results), runs).map((l) => l + '\n'));
  for (const r of results) {
    const cx = r.counterexample;
    if (!cx) continue;
    console.log(formatCounterexample(cx.scenario, cx.run, `counterexample for ${r.id} (shrunk ${cx.shrinks} times):`).join('\n'));
    console.log(`  replay: npm run verify -- --property ${r.id} --seed ${cx.seed} --path ${cx.path}${cli.fault ? ` --fault ${cli.fault}` : ''}${o.cpus ? ` --cpus ${o.cpus}` : ''}${o.budget.name !== 'quick' ? ` --budget ${o.budget.name}` : ''}\n`);
  }
  writeReportAtomic(`${cli.reports}/summary.json`, JSON.stringify(summaryJson(cli, results), null, 2) + '\n');
  if (results.some((r) => r.status === 'fails')) return 1;
  return results.some((r) => r.status === 'interrupted') ? 3 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  if (e.message) console.error(`verify: ${e.message}`);
  console.error(USAGE);
  process.exitCode = 2;
}
