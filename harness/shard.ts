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
import { entrySchema, scenarioSchema } from './corpus.ts';
import { worst, type Summary } from './reports.ts';
import { KEY_LENGTH, REACHED_MAX } from './explore.ts';
import { SCHEDULERS } from './schedulers.ts';
import { InputError, intIn, LIMITS, parseJsonText, parseWith, readLimited, show } from './schema.ts';
import { BUDGETS, exploreShare, type Budget, type CheckOptions } from './verify.ts';
import { TOOL } from './version.ts';

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
const U = intIn(0, Number.MAX_SAFE_INTEGER);
const name = z.string().max(200);
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
  coverage: z.record(name, U),
  exploration: explorationSchema,
  reached: z.strictObject({ states: keys, pairs: keys }).nullable(),
});

export type ShardSummary = z.infer<typeof shardSchema> & Summary;

export function readShard(file: string): ShardSummary {
  try {
    return parseWith(shardSchema, parseJsonText(readLimited(file, 'a shard summary'), file), file) as ShardSummary;
  } catch (e) {
    if (e instanceof InputError && !(e instanceof MergeError)) throw new MergeError(e.message);
    throw e;
  }
}

const fail = (file: string, field: string, problem: string): never => {
  throw new MergeError(`${file}: ${field}: ${problem}`);
};

/** What the shard's own fields say of the run: known names, and the plan it must have followed. */
function checkRun(file: string, s: ShardSummary): void {
  if (s.tool !== TOOL) fail(file, 'tool', `${show(s.tool)} is not ${TOOL}`);
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
export function exploring(s: ShardSummary): boolean {
  return s.exploration.bound.commands !== null;
}

/** The options an exploring shard ran with, as far as its enumeration goes (the domain, the share). */
export function exploreOptionsOf(s: ShardSummary): CheckOptions {
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

/** The runs a unit requests: the budget's share, or when exploring, its share of the property's scenarios. */
function requestedOf(s: ShardSummary, u: Unit): number {
  if (!exploring(s)) return u.runs;
  return exploreShare(u.property, exploreOptionsOf(s), s.exploration.bound.commands!, s.shard);
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
  if (b.cpus !== s.cpus) fail(file, 'exploration.bound.cpus', `${b.cpus}, but cpus is ${show(s.cpus)}`);
  const runs = s.properties.reduce((n, p) => n + p.runs, 0);
  if (e.scenarios !== runs) fail(file, 'exploration.scenarios', `${e.scenarios}, but its properties ran ${runs}`);
  if (e.complete && s.properties.some((p) => p.status !== 'holds')) fail(file, 'exploration.complete', 'true, but a property did not hold');
  const r = s.reached;
  if (r && r.states.length !== e.distinctStates * KEY_LENGTH)
    fail(file, 'reached.states', `${r.states.length / KEY_LENGTH} names, but exploration.distinctStates is ${e.distinctStates}`);
  if (r && r.pairs.length !== e.distinctPairs * KEY_LENGTH)
    fail(file, 'reached.pairs', `${r.pairs.length / KEY_LENGTH} names, but exploration.distinctPairs is ${e.distinctPairs}`);
}

/** Each property as the plan says (same order, seed, requested runs), its status matching what it found. */
function checkProperties(file: string, s: ShardSummary): void {
  const props = s.propertySet.map((id) => findProperty(id)!);
  const units = plan(props, s.seed, BUDGETS[s.budget as Budget['name']].numRuns, s.shard, exploring(s));
  if (s.properties.length !== units.length) fail(file, 'properties', `${s.properties.length} entries, but this shard of the property set runs ${units.length}`);
  s.properties.forEach((p, i) => {
    const u = units[i]!,
      f = `properties[${i}]`;
    if (p.id !== u.property.id) fail(file, `${f}.id`, `${show(p.id)}, but the plan has ${u.property.id} here`);
    if (p.seed !== u.seed) fail(file, `${f}.seed`, `${p.seed}, but the plan gives ${u.seed}`);
    const requested = requestedOf(s, u);
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

/** The fields every shard of one run shares. */
const SAME = ['tool', 'version', 'kernel', 'budget', 'seed', 'fault', 'cpus'] as const;

function checkSameRun(files: readonly string[], shards: readonly ShardSummary[]): void {
  const first = shards[0]!;
  shards.forEach((s, i) => {
    for (const k of SAME) {
      if (s[k] !== first[k]) fail(files[i]!, k, `${show(s[k])}, but ${files[0]} has ${show(first[k])}: not shards of one run`);
    }
    if (s.propertySet.join(',') !== first.propertySet.join(','))
      fail(files[i]!, 'propertySet', `${s.propertySet.join(',')}, but ${files[0]} has ${first.propertySet.join(',')}`);
    if (s.shard.count !== first.shard.count) fail(files[i]!, 'shard.count', `${s.shard.count}, but ${files[0]} has ${first.shard.count}`);
    const how = (x: ShardSummary) => JSON.stringify({ scheduler: x.exploration.scheduler, pctDepth: x.exploration.pctDepth, bound: x.exploration.bound });
    if (how(s) !== how(first)) fail(files[i]!, 'exploration', `${how(s)}, but ${files[0]} has ${how(first)}: not shards of one run`);
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

/** The shards, checked to be one split of one run (each 1..N once), sorted by index. */
export function mergeShards(files: readonly string[]): { base: ShardSummary; shards: ShardSummary[] } {
  if (files.length === 0) throw new MergeError('--merge needs the shard files (reports/shards/*.json)');
  if (files.length > LIMITS.shards) throw new MergeError(`--merge: ${files.length} files, more than the ${LIMITS.shards} shards a run can have`);
  const shards = files.map((f) => {
    const s = readShard(f);
    checkRun(f, s);
    checkProperties(f, s);
    checkExploration(f, s);
    checkOutcome(f, s);
    return s;
  });
  checkSameRun(files, shards);
  return { base: shards[0]!, shards: [...shards].sort((a, b) => a.shard.index - b.shard.index) };
}
