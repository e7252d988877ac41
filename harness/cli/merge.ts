// `--merge FILES`: shard summaries, checked to be one split of one run (shard.ts
// mergeShards), added up into one summary.json and junit.xml, with a report per
// counterexample, each replayed on this checkout first.
import { findRevision, type RevisionRecord } from '../../properties/revisions/index.ts';
import { NO_BUGS, type BugName } from '../../impl/faults.ts';
import { coverageReport } from '../coverage.ts';
import { findProperty } from '../../properties/catalog.ts';
import { boundReport, distinctReport, unionReached, type Exploration } from '../explore.ts';
import { summaryBase, worst, writeSummary, type PropertySummary, type Summary } from '../reports.ts';
import { runScenario } from '../run.ts';
import { exploreOptionsOf, exploring, mergeShards, type ShardSummary } from '../shard.ts';
import { exploreDomain } from '../verify.ts';
import { stateObserver } from '../state_view.ts';
import type { Cli } from './args.ts';
import { checkCorpus, exitCode, HEAD, mergeCoverage, propertySummary, record, row, type Recorded } from './record.ts';

/** Each counterexample once, replayed here; one that no longer fails is left out (and said). */
function replayed(cli: Cli, revision: RevisionRecord, base: ShardSummary, shards: readonly ShardSummary[]): Recorded[] {
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
 * reached counts once: the counts are those of the union of their names (`reached`). A shard
 * past REACHED_MAX wrote none; then they are the most any shard reached, a lower bound.
 */
function mergedExploration(shards: readonly ShardSummary[]): { exploration: Exploration; exact: boolean } {
  const parts = shards.map((s) => s.exploration);
  const first = shards[0]!;
  const properties = first.propertySet.map((id) => findProperty(id)!); // mergeShards checked them
  const sum = (k: 'scenarios' | 'executions' | 'pruned' | 'capped' | 'reused' | 'inert') => parts.reduce((n, e) => n + e[k], 0);
  const most = (k: 'distinctStates' | 'distinctPairs') => Math.max(...parts.map((e) => e[k]));
  const names = shards.every((s) => s.reached !== null) ? unionReached(shards.map((s) => s.reached!)) : null;
  const exploration = {
    ...parts[0]!,
    scenarios: sum('scenarios'),
    executions: sum('executions'),
    pruned: sum('pruned'),
    capped: sum('capped'),
    reused: sum('reused'),
    inert: sum('inert'),
    distinctStates: names ? names.states.size : most('distinctStates'),
    distinctPairs: names ? names.pairs.size : most('distinctPairs'),
    complete: parts.every((e) => e.complete),
    ...(exploring(first) ? { domain: exploreDomain(properties, exploreOptionsOf(first)) } : {}),
  };
  return { exploration, exact: names !== null };
}

/** Per property of the run, its parts added up; a row of the table each ("proved" when every shard explored all of its share). */
function merged(base: ShardSummary, shards: readonly ShardSummary[], recorded: readonly Recorded[], proved: boolean): PropertySummary[] {
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
  checkCorpus(cli);
  const { base, shards } = mergeShards(files);
  const revision = findRevision(base.kernel)!; // mergeShards checked it
  const fault = base.fault ? `, seeded fault ${base.fault}` : '';
  console.log(`tdx-update-verify: merging ${shards.length} shard(s): kernel ${base.kernel}, budget ${base.budget}, seed ${base.seed}${fault}`);
  console.log(HEAD);
  const recorded = replayed(cli, revision, base, shards);
  const { exploration, exact } = mergedExploration(shards);
  const props = merged(base, shards, recorded, exploration.complete);
  const coverage = mergeCoverage(shards.map((s) => new Map(Object.entries(s.coverage))));
  const runs = props.reduce((n, p) => n + p.runs, 0);
  console.log([...coverageReport(coverage, runs), ...distinctReport(exploration.distinctStates, exploration.distinctPairs, runs, !exact)].join('\n'));
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
    exploration,
  };
  const written = writeSummary(cli.reports, summary, new Map(recorded.map((x) => [x.summary.name, x.text])));
  console.log(`reports: ${written.join(', ')}`);
  return code;
}
