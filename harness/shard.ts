// Splitting one verify run over n machines, and adding the parts up again.
//
// Every property's runs are cut into n chunks; chunk k runs with seed (seed + k) and gets
// runs/n of the runs (the first runs%n chunks one more). Shard i (1-based) runs, of property
// number p, the chunk k = (i - 1 - p) mod n: each shard gets one chunk of every property, and
// different shards start different properties on different seeds, so the work is even and the
// split depends only on (seed, budget, n). With n = 1 a shard is exactly the unsharded run.
import { z } from 'zod';
import { NO_BUGS, SEEDED_BUGS } from '../impl/faults.ts';
import { findRevision, REVISIONS } from '../properties/revisions/index.ts';
import { findProperty, PROPERTIES, type Property } from '../properties/catalog.ts';
import { MAX_BLOBS } from './blobs.ts';
import { realReleasesOf } from '../properties/images.ts';
import { entrySchema, scenarioSchema } from './corpus.ts';
import { enumerateScenarios, scenarioKey, shardOfKey } from './exhaustive.ts';
import { KEY_LENGTH, REACHED_MAX, ReachedUnion } from './explore.ts';
import { worst, type Summary } from './reports.ts';
import { SCHEDULERS } from './schedulers.ts';
import { InputError, intIn, LIMITS, parseJsonText, parseWith, printable, readLimited, show } from './schema.ts';
import { BUDGETS, exploreShare, genConfig, type Budget, type CheckOptions } from './verify.ts';
import { TOOL, TOOL_VERSION } from './version.ts';

export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

export interface Unit {
  readonly property: Property;
  readonly chunk: number;
  readonly seed: number;
  readonly runs: number;
}

export function parseShard(v: string): ShardSpec | null {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m) return null;
  const index = Number(m[1]),
    count = Number(m[2]);
  return count >= 1 && count <= 1024 && index >= 1 && index <= count ? { index, count } : null;
}

/**
 * The units of a run. With `explore` (`--explore`, whose scenarios are enumerated, not drawn)
 * every shard gets every property on the run's seed, and explores the scenarios whose key hashes to it
 * (verify.ts exploreProperty).
 */
export function plan(properties: readonly Property[], seed: number, numRuns: number, shard: ShardSpec | null, explore = false): Unit[] {
  if (!shard) return properties.map((property) => ({ property, chunk: 0, seed, runs: numRuns }));
  if (explore) return properties.map((property) => ({ property, chunk: shard.index - 1, seed, runs: numRuns }));
  const n = shard.count;
  return properties
    .map((property, p) => {
      const k = (((shard.index - 1 - p) % n) + n) % n;
      return { property, chunk: k, seed: (seed + k) >>> 0, runs: Math.floor(numRuns / n) + (k < numRuns % n ? 1 : 0) };
    })
    .filter((u) => u.runs > 0);
}

// ---- merging ----

/** A shard set that is not one split of one run: the message names the file and the field. */
export class MergeError extends InputError {}

const status = z.enum(['holds', 'fails', 'exhausted', 'interrupted']);
/**
 * A count: small enough that the merge's sums (over at most LIMITS.shards shards, then over the
 * properties) stay exact integers. Its 1.7e12 runs, commands or milliseconds (55 years) are past any run.
 */
const U = intIn(0, Math.floor(Number.MAX_SAFE_INTEGER / (LIMITS.shards * PROPERTIES.length)));
const name = z.string().max(200);
/** A coverage label, which the merge prints in its table: printable ASCII, as every label the properties make is. */
const label = name.regex(/^[\x20-\x7e]*$/);
const LABEL = 'expected a label of printable ASCII, not __proto__';
/** Coverage labels a shard may have: a default run makes 114 (commands, faults, outcomes with their reasons), the merge prints each. */
const COVERAGE_MAX = 4096;
const violation = z.strictObject({ id: name, message: z.string() });

const propertySchema = z.strictObject({
  id: name,
  status,
  runs: U,
  requested: U,
  commands: U,
  ms: U,
  seed: intIn(0, 0xffffffff),
  firstFailure: z.strictObject({ runs: U, commands: U }).nullable(),
  counterexample: z
    .strictObject({
      name,
      length: U,
      violation,
      seed: U.nullable(),
      path: z.string().nullable(),
      shrinks: U.nullable(),
      file: z.string(),
      replay: z.string(),
      scenario: scenarioSchema,
    })
    .nullable(),
});

const counterexampleSchema = z.strictObject({
  property: name,
  name,
  violation: violation.extend({ step: U }),
  bug: name.nullable(),
  length: U,
  seed: U.nullable(),
  path: z.string().nullable(),
  shrinks: U.nullable(),
  minimize: z.strictObject({ runs: U, steps: U, complete: z.boolean() }).nullable(),
  file: z.string(),
  html: z.string(),
  replay: z.string(),
  replayPath: z.string().nullable(),
  entry: entrySchema,
});

/**
 * A shard's `exploration`: what --merge adds up into the run's (with `--explore`, the proof's
 * statement). Sampled (random, pct): one execution a scenario, never complete.
 */
const explorationSchema = z.strictObject({
  scheduler: z.enum(SCHEDULERS),
  pctDepth: intIn(1, 10).nullable(),
  scenarios: U,
  executions: U,
  pruned: U,
  distinctStates: U,
  distinctPairs: U,
  complete: z.boolean(),
  capped: U,
  reused: U,
  inert: U,
  bound: z.strictObject({
    cpus: intIn(1, LIMITS.cpus).nullable(),
    commands: intIn(1, 4).nullable(),
    preemptions: intIn(0, 4).nullable(),
    values: intIn(1, 16).nullable(),
  }),
});

/**
 * reports.ts BlobsSummary, with `--blobs DIR`: the blobs loaded (at most MAX_BLOBS),
 * and the runs that uploaded one and how they ended (coverage labels, checkBlobs).
 */
const blobsSchema = z.strictObject({ dir: z.string().min(1).max(4096), files: intIn(1, MAX_BLOBS), uploads: U, applied: U, refused: U, lost: U });

/** explore.ts ReachedKeys: names of KEY_LENGTH base64 characters, joined. */
const keys = z
  .string()
  .max(REACHED_MAX * KEY_LENGTH)
  .regex(/^[A-Za-z0-9+/]*$/, 'expected names of base64 characters, joined');

/** A shard summary as runVerify writes it (reports.ts Summary with its shard and property set). */
const shardSchema = z.strictObject({
  tool: z.string(),
  version: z.string(),
  kernel: name,
  budget: name,
  seed: intIn(0, 0xffffffff),
  fault: name.nullable(),
  cpus: intIn(1, LIMITS.cpus).nullable(),
  shard: z.strictObject({ index: intIn(1, 1024), count: intIn(1, 1024) }),
  propertySet: z.array(name).min(1).max(PROPERTIES.length),
  replay: z.null(),
  merged: z.null(),
  status,
  exit: intIn(0, 255),
  properties: z.array(propertySchema).max(PROPERTIES.length),
  counterexamples: z.array(counterexampleSchema).max(PROPERTIES.length),
  coverage: z.record(label, U, { error: (i) => (i.code === 'invalid_key' ? LABEL : undefined) }),
  exploration: explorationSchema,
  reached: z.strictObject({ states: keys, pairs: keys }).nullable(),
  blobs: blobsSchema.optional(),
});

export type ShardSummary = z.infer<typeof shardSchema> & Summary;
/** A shard as mergeShards returns it: its names of states and pairs counted (ReachedUnion) and dropped. */
export type MergedShard = Omit<ShardSummary, 'reached'>;

export function readShard(file: string): ShardSummary {
  try {
    const json = parseJsonText(readLimited(file, 'a shard summary'), file);
    // zod leaves a record's `__proto__` out of what it returns, without a word: that label would go uncounted
    const coverage = (json as { coverage?: unknown } | null)?.coverage;
    if (typeof coverage === 'object' && coverage !== null) {
      if (Object.hasOwn(coverage, '__proto__')) fail(file, 'coverage.__proto__', LABEL);
      const n = Object.keys(coverage).length;
      if (n > COVERAGE_MAX) fail(file, 'coverage', `${n} labels, more than the ${COVERAGE_MAX} a run makes`);
    }
    return parseWith(shardSchema, json, file) as ShardSummary;
  } catch (e) {
    // zod names a field by its key, which may be any characters of the file's
    if (e instanceof InputError && !(e instanceof MergeError)) throw new MergeError(printable(e.message));
    throw e;
  }
}

const fail = (file: string, field: string, problem: string): never => {
  throw new MergeError(printable(`${file}: ${field}: ${problem}`));
};

/** What the shard's own fields say of the run: known names, and the plan it must have followed. */
function checkRun(file: string, s: ShardSummary): void {
  if (s.tool !== TOOL) fail(file, 'tool', `${show(s.tool)} is not ${TOOL}`);
  // Another version may plan, count or check differently: only this one's shards are checked as it would run them.
  if (s.version !== TOOL_VERSION) fail(file, 'version', `${show(s.version)}, but this is ${TOOL} ${TOOL_VERSION}: merge shards with the version that ran them`);
  if (!findRevision(s.kernel)) fail(file, 'kernel', `${show(s.kernel)} is not an emulated revision (${REVISIONS.map((r) => r.name).join(', ')})`);
  if (!Object.hasOwn(BUDGETS, s.budget)) fail(file, 'budget', `${show(s.budget)} is not quick, ci or deep`);
  if (s.fault !== null && !SEEDED_BUGS.some((b) => b.name === s.fault)) fail(file, 'fault', `${show(s.fault)} is not a seeded fault (see --list)`);
  if (s.shard.index > s.shard.count) fail(file, 'shard.index', `${s.shard.index} is more than shard.count ${s.shard.count}`);
  s.propertySet.forEach((id, i) => {
    if (!findProperty(id)) fail(file, `propertySet[${i}]`, `${show(id)} is not a property (see --list)`);
    if (s.propertySet.indexOf(id) !== i) fail(file, `propertySet[${i}]`, `${id} is there twice`);
  });
}

/** Whether the shard enumerated its scenarios (`--explore`) rather than drawing them. */
export function exploring(s: MergedShard): boolean {
  return s.exploration.bound.commands !== null;
}

/** The options an exploring shard ran with, as far as its enumeration goes (the domain, the share). */
export function exploreOptionsOf(s: MergedShard): CheckOptions {
  const b = s.exploration.bound;
  return {
    seed: s.seed,
    budget: BUDGETS[s.budget as Budget['name']],
    revision: findRevision(s.kernel)!,
    bugs: NO_BUGS,
    cpus: b.cpus ?? undefined,
    scheduler: 'exhaustive',
    exploreCommands: b.commands ?? undefined,
    exploreValues: b.values ?? undefined,
  };
}

/**
 * Scenarios of one property past which an exploring shard is refused before any is enumerated.
 * A run explores about 130 ms a scenario at the default 2 preemptions (issue 13's bound,
 * `--commands 3`: 14,424 scenarios of update-contract in 32 minutes), so a million is a day and
 * more of one property's search; and the run and the merge both count a shard's share by
 * enumerating all of them, about 8 us each. `--commands 4 --values 16` is 182 million scenarios
 * of update-contract: counting alone would take the merge half an hour a property.
 */
export const SCENARIOS_MAX = 1_000_000;

/** How many scenarios `--explore --commands L` makes of `p`, when that is past SCENARIOS_MAX (counted, not enumerated); else null. */
export function tooManyScenarios(p: Property, o: CheckOptions, commands: number): number | null {
  const n = exploreShare(p, o, commands, null);
  return n > SCENARIOS_MAX ? n : null;
}

/** The shard's bound enumerates few enough scenarios of each property for the merge to count them. */
function checkBound(file: string, s: ShardSummary): void {
  if (!exploring(s)) return;
  const o = exploreOptionsOf(s);
  for (const id of s.propertySet) {
    const n = tooManyScenarios(findProperty(id)!, o, s.exploration.bound.commands!);
    if (n !== null)
      fail(
        file,
        'exploration.bound',
        `${JSON.stringify(s.exploration.bound)} makes ${n} scenarios of ${id}, more than the ${SCENARIOS_MAX} a run could explore`,
      );
  }
}

/**
 * Each shard's share of a property's scenarios (as verify.ts exploreShare counts one), by the
 * run they are shares of: counted in one pass for all N shards, which a merge of N shards would
 * otherwise enumerate N times.
 */
type Shares = Map<string, number[]>;

/** The runs a unit requests: the budget's share, or when exploring, its share of the property's scenarios. */
function requestedOf(s: ShardSummary, u: Unit, shares: Shares): number {
  if (!exploring(s)) return u.runs;
  const n = s.shard.count;
  const run = JSON.stringify([u.property.id, s.seed, s.budget, s.kernel, s.exploration.bound, n]);
  let counts = shares.get(run);
  if (!counts) {
    const o = exploreOptionsOf(s);
    counts = new Array<number>(n + 1).fill(0);
    for (const x of enumerateScenarios(genConfig(u.property, o), o.seed, s.exploration.bound.commands!, o.exploreValues))
      counts[shardOfKey(scenarioKey(x), n)]!++;
    shares.set(run, counts);
  }
  return counts[s.shard.index]!;
}

/** The position of the first name in `text` (KEY_LENGTH characters each) not after the one before it, or -1. */
function firstUnsorted(text: string): number {
  for (let i = KEY_LENGTH; i < text.length; i += KEY_LENGTH) if (text.slice(i - KEY_LENGTH, i) >= text.slice(i, i + KEY_LENGTH)) return i / KEY_LENGTH;
  return -1;
}

/** The shard's exploration is one its scheduler makes, on its bound, and its totals are its properties'. */
function checkExploration(file: string, s: ShardSummary): void {
  const e = s.exploration,
    b = e.bound;
  const at = (field: string, problem: string) => fail(file, `exploration.${field}`, problem);
  if ((e.scheduler === 'pct') !== (e.pctDepth !== null)) at('pctDepth', `${e.pctDepth}, with scheduler ${e.scheduler}`);
  if ((e.scheduler === 'exhaustive') !== (b.preemptions !== null)) at('bound.preemptions', `${b.preemptions}, with scheduler ${e.scheduler}`);
  if ((b.commands === null) !== (b.values === null)) at('bound.values', `${b.values}, with commands ${b.commands}: the two go together`);
  if (b.commands !== null && (e.scheduler !== 'exhaustive' || b.cpus === null))
    at('bound.commands', `${b.commands}: only the exhaustive scheduler on --cpus N enumerates`);
  if (e.scheduler !== 'exhaustive' && (e.executions !== e.scenarios || e.complete))
    at('executions', `${e.executions} of ${e.scenarios} scenarios${e.complete ? ', complete' : ''}: a sample runs each once and is never complete`);
  // A sample runs each drawn scenario once, whole (explore.ts sampled): it prunes and cuts nothing.
  for (const k of ['pruned', 'capped'] as const)
    if (e.scheduler !== 'exhaustive' && e[k] !== 0) at(k, `${e[k]}, with scheduler ${e.scheduler}: a sample has none`);
  // Only enumerated scenarios are taken from another property or left out as inert (verify.ts exploreProperty).
  for (const k of ['reused', 'inert'] as const) if (b.commands === null && e[k] !== 0) at(k, `${e[k]}, but no scenario was enumerated`);
  // Of its scenarios some were not run (inert) or were another property's; each of the others ran at least once.
  if (e.inert + e.reused > e.scenarios) at('inert', `${e.inert} inert and ${e.reused} reused, more than its ${e.scenarios} scenarios`);
  if (e.capped > e.scenarios) at('capped', `${e.capped}, more than its ${e.scenarios} scenarios`);
  const ran = e.scenarios - e.inert - e.reused;
  if (e.complete && e.executions < ran) at('executions', `${e.executions}, fewer than the ${ran} scenarios it ran, each at least once`);
  if (b.cpus !== s.cpus) fail(file, 'exploration.bound.cpus', `${b.cpus}, but cpus is ${show(s.cpus)}`);
  const runs = s.properties.reduce((n, p) => n + p.runs, 0);
  if (e.scenarios !== runs) fail(file, 'exploration.scenarios', `${e.scenarios}, but its properties ran ${runs}`);
  if (e.complete && s.properties.some((p) => p.status !== 'holds')) fail(file, 'exploration.complete', 'true, but a property did not hold');
  const r = s.reached;
  // A run writes no names only past REACHED_MAX (explore.ts reachedKeys); below it the merge counts them.
  if (r === null && e.distinctStates + e.distinctPairs <= REACHED_MAX)
    fail(file, 'reached', `null, but ${e.distinctStates + e.distinctPairs} states and pairs are within the ${REACHED_MAX} a shard names`);
  if (r && r.states.length !== e.distinctStates * KEY_LENGTH)
    fail(file, 'reached.states', `${r.states.length / KEY_LENGTH} names, but exploration.distinctStates is ${e.distinctStates}`);
  if (r && r.pairs.length !== e.distinctPairs * KEY_LENGTH)
    fail(file, 'reached.pairs', `${r.pairs.length / KEY_LENGTH} names, but exploration.distinctPairs is ${e.distinctPairs}`);
  // Written sorted (explore.ts reachedKeys), so a name twice is next to itself: the counts above are of distinct names.
  for (const k of ['states', 'pairs'] as const) {
    const i = r ? firstUnsorted(r[k]) : -1;
    if (i > 0) fail(file, `reached.${k}`, `name ${i} is not after name ${i - 1}: the names are written sorted, each once`);
  }
}

/** Each property as the plan says (same order, seed, requested runs), its status matching what it found. */
function checkProperties(file: string, s: ShardSummary, shares: Shares): void {
  const props = s.propertySet.map((id) => findProperty(id)!);
  const units = plan(props, s.seed, BUDGETS[s.budget as Budget['name']].numRuns, s.shard, exploring(s));
  if (s.properties.length !== units.length) fail(file, 'properties', `${s.properties.length} entries, but this shard of the property set runs ${units.length}`);
  s.properties.forEach((p, i) => {
    const u = units[i]!,
      f = `properties[${i}]`;
    if (p.id !== u.property.id) fail(file, `${f}.id`, `${show(p.id)}, but the plan has ${u.property.id} here`);
    if (p.seed !== u.seed) fail(file, `${f}.seed`, `${p.seed}, but the plan gives ${u.seed}`);
    const requested = requestedOf(s, u, shares);
    if (p.requested !== requested) fail(file, `${f}.requested`, `${p.requested}, but the plan gives ${requested}`);
    if (p.runs > p.requested) fail(file, `${f}.runs`, `${p.runs} is more than requested (${p.requested})`);
    if ((p.status === 'fails') !== (p.counterexample !== null))
      fail(file, `${f}.status`, `${p.status} ${p.counterexample ? 'with' : 'without'} a counterexample`);
    if (p.status === 'holds' && p.runs !== p.requested) fail(file, `${f}.status`, `holds after ${p.runs} of ${p.requested} runs`);
  });
}

const EXITS: ReadonlyMap<string, readonly number[]> = new Map([
  ['holds', [0]],
  ['fails', [1]],
  ['exhausted', [0, 3]],
  ['interrupted', [130, 143]],
]);

/** The shard's status and exit code follow from its properties, and its counterexamples are theirs. */
function checkOutcome(file: string, s: ShardSummary): void {
  const expected = s.status === 'interrupted' && !s.properties.some((p) => p.status === 'fails') ? 'interrupted' : worst(s.properties.map((p) => p.status));
  if (s.status !== expected) fail(file, 'status', `${s.status}, but its properties make it ${expected}`);
  if (!EXITS.get(s.status)!.includes(s.exit)) fail(file, 'exit', `${s.exit} does not go with status ${s.status} (${EXITS.get(s.status)!.join(' or ')})`);
  const named = s.properties.flatMap((p) => (p.counterexample ? [p.counterexample.name] : []));
  s.counterexamples.forEach((c, i) => {
    if (!named.includes(c.name)) fail(file, `counterexamples[${i}].name`, `${c.name} is no property's counterexample`);
  });
  if (named.length !== s.counterexamples.length) fail(file, 'counterexamples', `${s.counterexamples.length} listed, but ${named.length} properties have one`);
}

/** The coverage labels of runs that uploaded an Intel blob (cli/run.ts blobsSummary), by the `blobs` field that counts them. */
const BLOB_LABELS = [
  ['uploads', 'real upload'],
  ['applied', 'real upload applied'],
  ['refused', 'real upload refused'],
  ['lost', 'real upload lost'],
] as const;

/** A `--blobs` shard counts its real uploads as its coverage does; only such a shard has a counterexample on Intel's blobs. */
function checkBlobs(file: string, s: ShardSummary): void {
  const b = s.blobs;
  for (const [k, l] of b ? BLOB_LABELS : []) {
    const n = Object.hasOwn(s.coverage, l) ? s.coverage[l]! : 0;
    if (b![k] !== n) fail(file, `blobs.${k}`, `${b![k]}, but coverage counts ${n} runs as ${show(l)}`);
  }
  s.counterexamples.forEach((c, i) => {
    if (!b && realReleasesOf(c.entry.scenario).length > 0)
      fail(file, `counterexamples[${i}].entry`, "uses Intel's module blobs, but the shard has no blobs (it ran without --blobs)");
  });
}

/** The fields every shard of one run shares (its tool and version: checkRun holds each shard to this tool's). */
const SAME = ['kernel', 'budget', 'seed', 'fault', 'cpus'] as const;

function checkSameRun(files: readonly string[], shards: readonly MergedShard[]): void {
  const first = shards[0]!;
  shards.forEach((s, i) => {
    for (const k of SAME) {
      if (s[k] !== first[k]) fail(files[i]!, k, `${show(s[k])}, but ${files[0]} has ${show(first[k])}: not shards of one run`);
    }
    if (s.propertySet.join(',') !== first.propertySet.join(','))
      fail(files[i]!, 'propertySet', `${s.propertySet.join(',')}, but ${files[0]} has ${first.propertySet.join(',')}`);
    if (s.shard.count !== first.shard.count) fail(files[i]!, 'shard.count', `${s.shard.count}, but ${files[0]} has ${first.shard.count}`);
    const how = (x: MergedShard) => JSON.stringify({ scheduler: x.exploration.scheduler, pctDepth: x.exploration.pctDepth, bound: x.exploration.bound });
    if (how(s) !== how(first)) fail(files[i]!, 'exploration', `${how(s)}, but ${files[0]} has ${how(first)}: not shards of one run`);
    const blobs = (x: MergedShard) => (x.blobs ? JSON.stringify({ dir: x.blobs.dir, files: x.blobs.files }) : 'none');
    if (blobs(s) !== blobs(first)) fail(files[i]!, 'blobs', `${blobs(s)}, but ${files[0]} has ${blobs(first)}: not shards of one run`);
    const dup = shards.findIndex((x) => x.shard.index === s.shard.index);
    if (dup !== i) fail(files[i]!, 'shard.index', `${s.shard.index} is also ${files[dup]}'s`);
  });
  const have = new Set(shards.map((s) => s.shard.index));
  const missing = Array.from({ length: first.shard.count }, (_, i) => i + 1).filter((i) => !have.has(i));
  if (missing.length)
    throw new MergeError(
      `shard${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of ${first.shard.count} missing: the merged report would not cover the run`,
    );
}

/**
 * The shards, checked to be one split of one run (each 1..N once), sorted by index, and the
 * distinct states and pairs they reached together (counted as each is read, so that memory
 * holds no more than one shard's names and the bounded union).
 */
export function mergeShards(files: readonly string[]): {
  base: MergedShard;
  shards: MergedShard[];
  reached: ReturnType<ReachedUnion['counts']>;
} {
  if (files.length === 0) throw new MergeError('--merge needs the shard files (reports/shards/*.json)');
  if (files.length > LIMITS.shards) throw new MergeError(`--merge: ${files.length} files, more than the ${LIMITS.shards} shards a run can have`);
  const shares: Shares = new Map();
  const union = new ReachedUnion();
  const shards = files.map((f): MergedShard => {
    const s = readShard(f);
    checkRun(f, s);
    checkBound(f, s);
    checkProperties(f, s, shares);
    checkExploration(f, s);
    checkOutcome(f, s);
    checkBlobs(f, s);
    union.add(s.reached, s.exploration);
    const { reached: _counted, ...rest } = s;
    return rest;
  });
  checkSameRun(files, shards);
  return { base: shards[0]!, shards: [...shards].sort((a, b) => a.shard.index - b.shard.index), reached: union.counts() };
}
