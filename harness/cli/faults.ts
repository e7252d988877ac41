// `--list`, `--faults all` (every seeded bug on its own revision) and `--kernel all` (every
// revision, then the revision x goal verdicts).
import { join } from 'node:path';
import { SEEDED_BUGS } from '../../impl/faults.ts';
import { REVISIONS } from '../../properties/revisions/index.ts';
import { PROPERTIES } from '../../properties/catalog.ts';
import { INVARIANTS, TERMINATION } from '../../properties/invariants.ts';
import { writeReportAtomic } from '../files.ts';
import { summaryBase } from '../reports.ts';
import { INJECTED_FAULTS } from '../../properties/faults.ts';
import { checkClaim, MODEL_CHECKS } from '../timeline.ts';
import type { Cli } from './args.ts';
import { revisionTitle, writable } from './record.ts';
import { runVerify } from './run.ts';
import type { Stop } from './stop.ts';

export function printList(): void {
  console.log('properties:');
  for (const p of PROPERTIES) console.log(`  ${p.id.padEnd(18)} ${p.claim}`);
  console.log('invariants (checked after every step of every property):');
  for (const i of [...INVARIANTS, TERMINATION]) console.log(`  ${i.id.padEnd(6)} ${i.claim}`);
  for (const id of MODEL_CHECKS) console.log(`  ${id}  ${checkClaim(id)}`);
  console.log(`and the model's own type invariant after every model step (typeOk: ${checkClaim('typeOk')}; a model bug, never the implementation's)`);
  console.log('seeded faults (--fault NAME or ID; each runs on the kernel revision it lived in unless --kernel is given):');
  for (const b of SEEDED_BUGS)
    console.log(`  ${b.catalogId.padEnd(6)} ${b.name.padEnd(26)} ${((b as { kernel?: string }).kernel ?? 'v2').padEnd(9)} ${b.claim}`);
  console.log('injected firmware faults (drawn on uploads and TD commands; the coverage table shows each as `fault NAME`):');
  for (const f of INJECTED_FAULTS) console.log(`  ${f.name.padEnd(17)} ${f.call}: ${f.outcome}`);
  console.log('kernel revisions (--kernel NAME):');
  for (const r of REVISIONS) console.log(`  ${r.name.padEnd(10)} ${revisionTitle(r)}`);
}

/** `--faults all`: every seeded bug on the revision it lived in; how soon and how short it is caught. Exit 1 if one is missed. */
export async function runFaults(cli: Cli): Promise<number> {
  const { checkAllFaults, faultsMarkdown, faultsTable } = await import('../faults_table.ts');
  const o = cli.options;
  writable('--reports', cli.reports, ['faults.json', 'faults.md']);
  console.log(`tdx-update-verify: every seeded bug on its own kernel revision, budget ${o.budget.name}, seed ${o.seed}`);
  const rows = await checkAllFaults(o.seed, o.budget, (r) =>
    console.log(`  ${r.catalogId} ${r.fault}: ${r.detected ? `caught by ${r.invariant}` : 'NOT caught'}`),
  );
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
export async function runAllKernels(cli: Cli, stop: Stop): Promise<number> {
  const { checkVerdicts, verdictFailed, verdictsMarkdown, oneLine } = await import('../verdicts.ts');
  const { describe } = await import('../../properties/commands/index.ts');
  const o = cli.options;
  writable('--reports', cli.reports, ['summary.json', 'verdicts.md']);
  const kernels: { kernel: string; exit: number }[] = [];
  for (const revision of REVISIONS) {
    kernels.push({ kernel: revision.name, exit: await runVerify({ ...cli, options: { ...o, revision }, reports: join(cli.reports, revision.name) }, stop) });
    console.log('');
  }
  console.log(`verdicts: every revision against every safety goal (properties/goals.ts), seed ${o.seed}, ${o.budget.numRuns * 2} runs each`);
  const vs = checkVerdicts(REVISIONS, o.seed, o.budget.numRuns * 2);
  const goalW = Math.max(...vs.map((v) => v.goal.length));
  for (const v of vs) {
    const cx = v.counterexample ? `  ${oneLine(v.counterexample.scenario, describe)}` : '';
    console.log(`  ${v.kernel.padEnd(9)} ${v.goal.padEnd(goalW)}  ${v.verdict.padEnd(26)}${cx}`);
    if (v.verdict === 'unexpected-violation') console.log(`      ${v.violation!.id}: ${v.violation!.message}`);
  }
  writeReportAtomic(join(cli.reports, 'verdicts.md'), verdictsMarkdown(vs, REVISIONS, describe));
  const verdicts = vs.map((v) => ({
    kernel: v.kernel,
    goal: v.goal,
    verdict: v.verdict,
    counterexampleLength: v.counterexampleLength,
    violation: v.violation,
    scenario: v.counterexample?.scenario ?? null,
  }));
  const failed = kernels.some((k) => k.exit !== 0) || vs.some(verdictFailed);
  writeReportAtomic(
    join(cli.reports, 'summary.json'),
    JSON.stringify({ ...summaryBase(), kernel: 'all', budget: o.budget.name, seed: o.seed, kernels, verdicts, exit: failed ? 1 : 0 }, null, 2) + '\n',
  );
  const each = REVISIONS.map((r) => join(cli.reports, r.name, 'summary.json'));
  console.log(`reports: ${[join(cli.reports, 'summary.json'), join(cli.reports, 'verdicts.md'), ...each].join(', ')}`);
  return failed ? 1 : 0;
}
