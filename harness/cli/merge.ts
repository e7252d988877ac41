// `--merge FILES`: shard summaries, checked to be one split of one run (shard.ts
// mergeShards), added up into one summary.json and junit.xml, with a report per
// counterexample, each replayed on this checkout first.
import { findRevision, type RevisionRecord } from '../../properties/revisions/index.ts';
import { NO_BUGS, type BugName } from '../../impl/faults.ts';
import { coverageReport } from '../coverage.ts';
import { findProperty } from '../../properties/catalog.ts';
import { BlobsError, loadBlobs } from '../blobs.ts';
import { boundReport, distinctReport, type Exploration } from '../explore.ts';
import { summaryBase, worst, writeSummary, type BlobsSummary, type PropertySummary, type Summary } from '../reports.ts';
import { runScenario } from '../run.ts';
import { printable } from '../schema.ts';
import { realReleasesOf } from '../../properties/images.ts';
import { exploreOptionsOf, exploring, MergeError, mergeShards, type MergedShard } from '../shard.ts';
import { exploreDomain } from '../verify.ts';
import { stateObserver } from '../state_view.ts';
import type { Cli } from './args.ts';
import { checkCorpus, exitCode, HEAD, mergeCoverage, propertySummary, record, row, type Recorded } from './record.ts';

/**
 * The run's blobs, when a counterexample to replay uses them: `--jobs` loaded them; a `--merge`
 * of `--blobs` shards loads the DIR they name (mergeShards checked they name one), and only
 * then, so that shards merged where the blobs are not, with no counterexample on them, merge.
 */
function loadRunBlobs(cli: Cli, base: MergedShard, shards: readonly MergedShard[]): void {
  if (cli.blobs !== null || !shards.some((s) => s.counterexamples.some((c) => realReleasesOf(c.entry.scenario).length > 0))) return;
  const b = base.blobs!; // mergeShards refused a counterexample on blobs from a shard without them
  const refuse = (problem: string): never => {
    throw new MergeError(printable(`--merge: the shards' blobs, to replay a counterexample on them: ${problem}`));
  };
  let n = 0;
  try {
    n = loadBlobs(b.dir).blobs.length;
  } catch (e) {
    if (e instanceof BlobsError) refuse(e.message);
    throw e;
  }
  if (n !== b.files) refuse(`${b.dir} holds ${n} blobs now, but the shards' run loaded ${b.files}`);
}

/** Each counterexample once, replayed here; one that no longer fails is left out (and said). */
function replayed(cli: Cli, revision: RevisionRecord, base: MergedShard, shards: readonly MergedShard[]): Recorded[] {
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
      const fc = c.seed !== null ? { seed: c.seed, path: c.path ?? '', shrinks: c.shrinks ?? 0, minimize: c.minimize } : null;
      recorded.push(
        record(
          { ...cli, fault: base.fault as BugName | null },
          c.property,
          revision,
          c.entry,
          run,
          states,
          fc,
          `counterexample for ${c.property} (shard ${s.shard.index}/${s.shard.count}):`,
        ),
      );
    }
  }
  return recorded;
}

/**
 * The shards' `exploration` added up: complete only when every shard's is. A state two shards
 * reached counts once: `reached` are the counts of the union of their names (explore.ts
 * ReachedUnion), a lower bound when a shard past REACHED_MAX wrote none.
 */
function mergedExploration(shards: readonly MergedShard[], reached: { states: number; pairs: number }): Exploration {
  const parts = shards.map((s) => s.exploration);
  const first = shards[0]!;
  const properties = first.propertySet.map((id) => findProperty(id)!); // mergeShards checked them
  const sum = (k: 'scenarios' | 'executions' | 'pruned' | 'capped' | 'reused' | 'inert') => parts.reduce((n, e) => n + e[k], 0);
  return {
    ...parts[0]!,
    scenarios: sum('scenarios'),
    executions: sum('executions'),
    pruned: sum('pruned'),
    capped: sum('capped'),
    reused: sum('reused'),
    inert: sum('inert'),
    distinctStates: reached.states,
    distinctPairs: reached.pairs,
    complete: parts.every((e) => e.complete),
    ...(exploring(first) ? { domain: exploreDomain(properties, exploreOptionsOf(first)) } : {}),
  };
}

/** The shards' `blobs` added up: they agree on the DIR and its blobs (mergeShards checked). */
function mergedBlobs(shards: readonly MergedShard[]): { blobs?: BlobsSummary } {
  const first = shards[0]!.blobs;
  if (!first) return {};
  const sum = (k: 'uploads' | 'applied' | 'refused' | 'lost') => shards.reduce((n, s) => n + s.blobs![k], 0);
  return { blobs: { dir: first.dir, files: first.files, uploads: sum('uploads'), applied: sum('applied'), refused: sum('refused'), lost: sum('lost') } };
}

/** Per property of the run, its parts added up; a row of the table each ("proved" when every shard explored all of its share). */
function merged(base: MergedShard, shards: readonly MergedShard[], recorded: readonly Recorded[], proved: boolean): PropertySummary[] {
  return base.propertySet.map((id) => {
    const parts = shards.flatMap((s) => s.properties.filter((p) => p.id === id));
    const cx = parts.find((p) => p.counterexample)?.counterexample ?? null;
    const rec = cx ? (recorded.find((x) => x.summary.name === cx.name) ?? null) : null;
    const sum = (k: 'runs' | 'requested' | 'commands' | 'ms') => parts.reduce((n, p) => n + p[k], 0);
    const p: PropertySummary = {
      id,
      status: worst(parts.map((x) => x.status)),
      runs: sum('runs'),
      requested: sum('requested'),
      commands: sum('commands'),
      ms: sum('ms'),
      seed: base.seed,
      firstFailure: parts.find((x) => x.firstFailure)?.firstFailure ?? null,
      counterexample: null,
    };
    const shown = proved && p.status === 'holds' ? 'proved' : p.status;
    console.log(row({ ...p, status: shown, cx: cx ? `${cx.length} command${cx.length === 1 ? '' : 's'}, ${cx.violation.id}` : '' }));
    return rec ? { ...p, counterexample: propertySummary(p, base.seed, rec.summary).counterexample } : p;
  });
}

export function runMerge(cli: Cli, files: readonly string[]): number {
  // the inputs first: checkCorpus makes the directories the merge writes into
  const { base, shards, reached } = mergeShards(files);
  loadRunBlobs(cli, base, shards);
  checkCorpus(cli);
  const revision = findRevision(base.kernel)!; // mergeShards checked it
  const fault = base.fault ? `, seeded fault ${base.fault}` : '';
  console.log(`tdx-update-verify: merging ${shards.length} shard(s): kernel ${base.kernel}, budget ${base.budget}, seed ${base.seed}${fault}`);
  console.log(HEAD);
  const recorded = replayed(cli, revision, base, shards);
  const exploration = mergedExploration(shards, reached);
  const props = merged(base, shards, recorded, exploration.complete);
  const coverage = mergeCoverage(shards.map((s) => new Map(Object.entries(s.coverage))));
  const runs = props.reduce((n, p) => n + p.runs, 0);
  console.log([...coverageReport(coverage, runs), ...distinctReport(reached.states, reached.pairs, runs, !reached.exact)].join('\n'));
  for (const r of recorded) console.log(r.text);
  const status = worst(props.map((p) => p.status));
  if (exploration.scheduler === 'exhaustive' && status === 'holds') console.log(boundReport(exploration));
  const code = exitCode(status, cli.requireRuns, null);
  const summary: Summary & { exploration: Exploration } = {
    ...summaryBase(),
    kernel: base.kernel,
    budget: base.budget,
    seed: base.seed,
    fault: base.fault,
    cpus: base.cpus,
    shard: null,
    propertySet: base.propertySet,
    replay: null,
    merged: [...files],
    status,
    exit: code,
    properties: props,
    counterexamples: recorded.map((x) => x.summary),
    coverage: Object.fromEntries(coverage),
    ...mergedBlobs(shards),
    exploration,
  };
  const written = writeSummary(cli.reports, summary, new Map(recorded.map((x) => [x.summary.name, x.text])));
  console.log(`reports: ${written.join(', ')}`);
  return code;
}
