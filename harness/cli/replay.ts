// `--replay FILE`: one corpus entry's scenario on its kernel with its seeded bug (or those
// --kernel and --fault give), no generation; the same reports as a run.
import { findRevision } from '../../properties/revisions/index.ts';
import { NO_BUGS, type Bugs } from '../../impl/faults.ts';
import { readEntry, type CorpusEntry } from '../corpus.ts';
import { realReleasesOf } from '../../properties/images.ts';
import { summaryBase, writeSummary, type Summary } from '../reports.ts';
import { runScenario } from '../run.ts';
import { stateObserver } from '../state_view.ts';
import type { Status } from '../verify.ts';
import { UsageError, type Cli } from './args.ts';
import { propertySummary, record, revisionTitle, SUMMARY_FILES, writable, type Recorded } from './record.ts';

/** `--replay FILE`: the entry's scenario on its kernel with its seeded bug, no generation. */
export function runReplay(cli: Cli, file: string): number {
  const entry = readEntry(file);
  if (cli.blobs === null && realReleasesOf(entry.scenario).length > 0)
    throw new UsageError(`--replay ${file}: the entry uses Intel's module blobs; give --blobs DIR (a checkout of intel/tdx-module-binaries)`);
  writable('--reports', cli.reports, SUMMARY_FILES);
  const revision = cli.given.kernel ? cli.options.revision : findRevision(entry.kernel)!;
  const bug = cli.given.fault ? cli.fault : entry.bug;
  const bugs: Bugs = bug ? new Set([bug]) : NO_BUGS;
  const recorded = `${entry.expect.violation}${entry.bug ? ` with ${entry.bug}` : ''}`;
  const fault = bug ? `seeded fault ${bug}` : 'no seeded fault';
  console.log(
    `tdx-update-verify: replay ${file}: property ${entry.property}, kernel ${revision.name} (${revisionTitle(revision)}), ${fault}; recorded: ${recorded}`,
  );
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
  console.log(
    v
      ? `${same ? 'reproduced' : 'fails differently'}: ${v.id}${same ? ' as recorded' : ` (recorded: ${entry.expect.violation})`}`
      : `passes: no violation (recorded: ${entry.expect.violation}${entry.bug && !bug ? `, which needs ${entry.bug}` : ''})`,
  );
  const code = v ? 1 : 0;
  const summary: Summary = {
    ...summaryBase(),
    kernel: revision.name,
    budget: 'replay',
    seed: 0,
    fault: bug,
    cpus: null,
    shard: null,
    propertySet: [entry.property],
    replay: file,
    merged: null,
    status,
    exit: code,
    properties: [
      propertySummary(
        {
          id: entry.property,
          status,
          runs: 1,
          requested: 1,
          commands: run.commandsIssued,
          ms,
          firstFailure: v ? { runs: 1, commands: run.commandsIssued } : null,
        },
        0,
        rec?.summary ?? null,
      ),
    ],
    counterexamples: rec ? [rec.summary] : [],
    coverage: Object.fromEntries([...run.labels].sort().map((l) => [l, 1])),
  };
  writeSummary(cli.reports, summary, new Map(rec ? [[rec.summary.name, rec.text]] : []));
  return code;
}
