// The main run: every property (or the named ones, or a shard's share) checked with
// fast-check, the table, each counterexample recorded, and the reports. A stop (SIGINT or
// SIGTERM, stop.ts) at any moment still writes the reports of what ran, even of nothing.
import { isatty } from 'node:tty';
import { coverageReport } from '../coverage.ts';
import { makeEntry } from '../corpus.ts';
import { boundReport, DistinctStates, distinctReport, exhaustive, reachedKeys, sampled, type Exploration, type ReachedKeys } from '../explore.ts';
import { Progress } from '../progress.ts';
import { show } from '../schema.ts';
import { worst, writeSummary, summaryBase, type BlobsSummary, type PropertySummary, type Summary } from '../reports.ts';
import { plan, SCENARIOS_MAX, tooManyScenarios, type Unit } from '../shard.ts';
import { checkProperty, exploreDomain, exploreShare, ExploredScenarios, type PropertyResult, type Status } from '../verify.ts';
import { UsageError, type Cli } from './args.ts';
import { checkCorpus, exitCode, HEAD, header, mergeCoverage, propertySummary, record, row, type Recorded } from './record.ts';
import type { Stop } from './stop.ts';

interface Ran {
  readonly r: PropertyResult;
  readonly seed: number;
}

const plural = (n: number, s: string) => `${n} ${s}${n === 1 ? '' : 's'}`;

/** `--path` replays one failing run: a path that fails nothing is not a path of this seed. */
async function check(cli: Cli, u: Unit, o: Parameters<typeof checkProperty>[1]): Promise<PropertyResult> {
  if (cli.path === undefined) return checkProperty(u.property, o);
  let r: PropertyResult;
  try {
    r = await checkProperty(u.property, o, cli.path);
  } catch (e) {
    throw new UsageError(`--path ${show(cli.path)}: fast-check cannot replay it (${(e as Error).message.split('\n')[0]!.replace(/=[\d:]+/, '')})`);
  }
  if (!r.counterexample && !o.signal?.stopped)
    throw new UsageError(
      `--path ${show(cli.path)}: replays no failing run of ${u.property.id} with seed ${o.seed} (copy it from a "replay fast-check's run" line)`,
    );
  return r;
}

/** The runs a unit will make: its share, or with --explore the scenarios it enumerates. */
function runsOf(cli: Cli, u: Unit): number {
  const o = cli.options;
  return o.exploreCommands === undefined ? u.runs : exploreShare(u.property, { ...o, seed: u.seed }, o.exploreCommands, cli.shard);
}

/** The search, property by property, until done or stopped; a row of the table for each. */
async function search(cli: Cli, units: readonly Unit[], stop: Stop): Promise<Ran[]> {
  const o = cli.options;
  const progress = new Progress({
    total: units.reduce((n, u) => n + runsOf(cli, u), 0),
    tty: isatty(1),
    everyMs: cli.progressMs,
    write: (s) => process.stdout.write(s),
  });
  const ran: Ran[] = [];
  // One run, one kernel, one bound: a scenario two properties enumerate is explored once.
  const explored = o.exploreCommands !== undefined ? new ExploredScenarios() : undefined;
  try {
    for (const u of units) {
      if (stop.stopped) break;
      progress.start(u.property.id);
      const r = await check(cli, u, {
        ...o,
        seed: u.seed,
        numRuns: u.runs,
        ...(cli.shard && o.exploreCommands !== undefined ? { exploreShard: cli.shard } : {}),
        explored,
        signal: stop,
        onRun: (runs, commands, failed) => progress.update(runs, commands, failed),
      });
      progress.finish(r.runs, r.commands);
      ran.push({ r, seed: u.seed });
      progress.clear();
      const cx = r.counterexample;
      // a property proved within the bound says so, never just "holds"
      console.log(
        row({ ...r, status: r.complete ? 'proved' : r.status, cx: cx ? `${plural(cx.scenario.commands.length, 'command')}, ${cx.run.violation!.id}` : '' }),
      );
      if (cx && cli.fault && !cli.shard) break; // the seeded fault is found: that is the answer
    }
  } finally {
    progress.stop();
  }
  return ran;
}

/** Each counterexample recorded (corpus, HTML) and printed; each property's summary. */
function recordAll(cli: Cli, ran: readonly Ran[]): { recorded: Recorded[]; props: PropertySummary[] } {
  const o = cli.options;
  const recorded: Recorded[] = [],
    props: PropertySummary[] = [];
  for (const { r, seed } of ran) {
    const cx = r.counterexample;
    let rec: Recorded | null = null;
    if (cx) {
      const entry = makeEntry(r.id, o.revision, cx.bug, cx.run.violation!, cx.scenario);
      const m = cx.minimize;
      const pass = `the canonical pass took ${plural(m.steps, 'step')} in ${m.runs} runs${m.complete ? '' : ', stopped early'}`;
      const title = `counterexample for ${r.id} (fast-check shrank it ${plural(cx.shrinks, 'time')}; ${pass}):`;
      rec = record(cli, r.id, o.revision, entry, cx.run, cx.states, { seed: cx.seed, path: cx.path, shrinks: cx.shrinks, minimize: m }, title);
      recorded.push(rec);
      console.log(rec.text);
    }
    props.push(propertySummary(r, seed, rec?.summary ?? null));
  }
  return { recorded, props };
}

/** The properties a stop left unstarted: in the summary with no runs, so it says what did not run. */
function notStarted(units: readonly Unit[], ran: readonly Ran[]): PropertySummary[] {
  return units.slice(ran.length).map((u) => ({
    id: u.property.id,
    status: 'interrupted',
    runs: 0,
    requested: u.runs,
    commands: 0,
    ms: 0,
    seed: u.seed,
    firstFailure: null,
    counterexample: null,
  }));
}

/** What the run ends with on stdout, besides the table: budgets that ran out, a stop. */
function epilogue(cli: Cli, ran: readonly Ran[], recorded: readonly Recorded[], stop: Stop): void {
  for (const { r } of ran) {
    if (r.status !== 'exhausted') continue;
    const exit = cli.requireRuns ? ' (--require-runs: exit 3)' : ' (exit 0; --require-runs makes this exit 3)';
    console.log(`${r.id}: the time budget ran out after ${r.runs} of ${r.requested} runs; no counterexample in those${exit}`);
  }
  if (!stop.stopped) return;
  const runs = ran.reduce((n, x) => n + x.r.runs, 0);
  if (ran.length === 0) console.log(`stopped by ${stop.by} before any run: nothing ran; the summary says so`);
  else
    console.log(
      `stopped by ${stop.by} after ${plural(runs, 'run')}: ${recorded.length ? 'the counterexample found so far is above' : 'no counterexample so far'}`,
    );
}

/** An --explore bound of more scenarios than a run can explore (which --merge refuses) is refused before the run, not after days of it. */
function checkExploreBound(cli: Cli, units: readonly Unit[]): void {
  const o = cli.options;
  if (o.exploreCommands === undefined) return;
  for (const u of units) {
    const n = tooManyScenarios(u.property, { ...o, seed: u.seed }, o.exploreCommands);
    if (n !== null)
      throw new UsageError(
        `--explore --commands ${o.exploreCommands} --values ${o.exploreValues}: ${n} scenarios of ${u.property.id}, more than the ${SCENARIOS_MAX} a run can explore`,
      );
  }
}

export async function runVerify(cli: Cli, stop: Stop): Promise<number> {
  checkCorpus(cli);
  const o = cli.options;
  const units = plan(cli.properties, o.seed, o.budget.numRuns, cli.shard, o.exploreCommands !== undefined);
  checkExploreBound(cli, units);
  console.log(header(cli));
  console.log(HEAD);
  const ran = await search(cli, units, stop);
  const coverage = mergeCoverage(ran.map((x) => x.r.coverage));
  const runs = ran.reduce((n, x) => n + x.r.runs, 0);
  // With a seeded fault the run stops at its counterexample: coverage of one run says nothing (it is in summary.json).
  const distinct = new DistinctStates();
  for (const x of ran) distinct.add(x.r.distinct);
  if (!(cli.fault && ran.some((x) => x.r.counterexample)))
    console.log([...coverageReport(coverage, runs), ...distinctReport(distinct.states.size, distinct.pairs.size, runs)].join('\n'));
  const { recorded, props } = recordAll(cli, ran);
  const statuses: Status[] = ran.map((x) => x.r.status);
  const status = stop.stopped && !recorded.length ? 'interrupted' : worst(statuses);
  epilogue(cli, ran, recorded, stop);
  const code = exitCode(status, cli.requireRuns, stop);
  const scheduler = o.scheduler ?? 'random';
  const searched =
    scheduler === 'exhaustive'
      ? exhaustive(
          o,
          ran.map((x) => x.r),
          distinct,
        )
      : sampled(scheduler, scheduler === 'pct' ? (o.pctDepth ?? null) : null, runs, distinct, o.cpus ?? null);
  // A shard's file leaves the domain out: --merge derives it from the bound, as the run did.
  const exploration = o.exploreCommands !== undefined && !cli.shard ? { ...searched, domain: exploreDomain(cli.properties, o) } : searched;
  if (scheduler === 'exhaustive' && status === 'holds') console.log(boundReport(exploration));
  const summary: Summary & { exploration: Exploration; reached?: ReachedKeys | null } = {
    ...summaryBase(),
    kernel: o.revision.name,
    budget: o.budget.name,
    seed: o.seed,
    fault: cli.fault,
    cpus: o.cpus ?? null,
    shard: cli.shard,
    propertySet: cli.properties.map((p) => p.id),
    replay: null,
    merged: null,
    status,
    exit: code,
    properties: [...props, ...(stop.stopped ? notStarted(units, ran) : [])],
    counterexamples: recorded.map((x) => x.summary),
    coverage: Object.fromEntries(coverage),
    exploration,
    // --merge counts a state that two shards reached once: it needs their names, not their counts.
    ...(cli.shard ? { reached: reachedKeys(distinct) } : {}),
    ...(cli.blobs === null ? {} : { blobs: blobsSummary(cli.blobs, cli.blobFiles ?? 0, coverage) }),
  };
  const files = writeSummary(cli.reports, summary, new Map(recorded.map((x) => [x.summary.name, x.text])));
  console.log(`reports: ${files.join(', ')}${recorded.length ? `, ${recorded.map((x) => x.summary.html).join(', ')}` : ''}`);
  return code;
}

/** summary.json `blobs`: runs (the coverage table's unit) that uploaded an Intel blob, and how those updates ended. */
function blobsSummary(dir: string, files: number, coverage: ReadonlyMap<string, number>): BlobsSummary {
  const n = (label: string) => coverage.get(label) ?? 0;
  return { dir, files, uploads: n('real upload'), applied: n('real upload applied'), refused: n('real upload refused'), lost: n('real upload lost') };
}
