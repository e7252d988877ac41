// Distinct-state coverage (issue 13, part 4): how much of the model's state space the runs
// reached, independent of how many runs there were. After every linearization point the
// model state (model/state.ts ModelState) is written one canonical way and hashed; a run
// reports the states it reached and the (state, action) pairs it took, and the harness
// counts the distinct ones over all runs. Two runs that reach the same abstract state count
// it once, so the count grows only while the search finds something new.
import { hash } from 'node:crypto';
import type { ModelState } from '../model/state.ts';

/** Values per command kind in `--explore`'s domain (harness/exhaustive.ts), unless `--values` says otherwise. */
export const DOMAIN = 2;

/**
 * One value written one way: object keys sorted, Maps and Sets as sorted entries, bigints as
 * text. Written by appending to one string, with no intermediate arrays for objects and
 * arrays: it runs at every linearization point that moves the model, about 8 us a state
 * before (npm run bench, section 2).
 */
function canonical(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
    case 'boolean':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'object':
      return v === null ? 'null' : canonicalObject(v);
    default:
      return JSON.stringify(v) ?? 'undefined';
  }
}

// The text of frozen values whose every part is frozen too (properties/images.ts moduleSpecOf):
// the model shares them between states, so each is written once. `thawed` is set when
// canonical meets a value that can change (an object not frozen, a Map, a Set, bytes).
const frozenText = new WeakMap<object, string>();
let thawed = false;

function canonicalObject(v: object): string {
  if (!Object.isFrozen(v) || v instanceof Map || v instanceof Set || ArrayBuffer.isView(v)) {
    thawed = true;
    return written(v);
  }
  const known = frozenText.get(v);
  if (known !== undefined) return known;
  const outer = thawed;
  thawed = false;
  let text = written(v);
  // A frozen value's text stands for it by its digest: a state's text stays short, and a
  // lookup of it (stateKey) hashes fewer characters. Equal values, equal digests.
  if (!thawed) frozenText.set(v, (text = `#${hash('sha1', text, 'base64').slice(0, 16)}`));
  thawed ||= outer;
  return text;
}

function written(v: object): string {
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i > 0 ? ',' : '') + canonical(v[i]);
    return `${out}]`;
  }
  if (v instanceof Map) return `M[${sortedJoin([...v].map(([k, x]) => `${canonical(k)}:${canonical(x)}`))}]`;
  if (v instanceof Set) return `S[${sortedJoin([...v].map(canonical))}]`;
  if (ArrayBuffer.isView(v)) return `B${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}`;
  const o = v as Record<string, unknown>;
  let out = '{';
  for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out += `${out.length > 1 ? ',' : ''}${k}:${canonical(o[k])}`;
  return `${out}}`;
}

function sortedJoin(parts: string[]): string {
  return parts.length < 2 ? (parts[0] ?? '') : parts.sort().join(',');
}

/** The part of a model state no action changes (the contract's parameters, the host), written and hashed once per run. */
export function fixedPart(m: ModelState): string {
  const known = fixedText.get(m.host);
  if (known?.params === m.params) return known.text;
  const text = hash('sha1', canonical({ params: m.params, host: m.host }), 'base64');
  fixedText.set(m.host, { params: m.params, text });
  return text;
}

// fixedPart by the host it was written for (harness/run.ts shares one among the runs of a scenario).
const fixedText = new WeakMap<object, { params: unknown; text: string }>();

/** The characters of a state's name (stateKey) and of a pair's (reachedKeys). */
export const KEY_LENGTH = 16;

// The names of the states met so far, by their fixed part and the text of the rest: a search
// meets the same few thousand states again and again, and a lookup costs less than a hash.
// Bounded: past NAMED_MAX it starts again, and a name is the same whether looked up or hashed.
const named = new Map<string, Map<string, string>>();
const NAMED_MAX = 1 << 16;
let namedSize = 0;

/** A short name for an abstract model state: equal states, equal names. `fixed`: fixedPart(m), if known. */
export function stateKey(m: ModelState, fixed = fixedPart(m)): string {
  const text = changingText(m);
  let k = named.get(fixed)?.get(text);
  if (k === undefined) {
    if (namedSize++ >= NAMED_MAX) {
      named.clear();
      namedSize = 1;
    }
    k = hash('sha1', fixed + text, 'base64').slice(0, KEY_LENGTH);
    let byText = named.get(fixed);
    if (!byText) named.set(fixed, (byText = new Map()));
    byText.set(text, k);
  }
  return k;
}

/** canonical(m) less the fixed part (params, host), written as canonical writes an object. */
function changingText(m: ModelState): string {
  let out = '{';
  for (const k of Object.keys(m).sort()) {
    const v = (m as unknown as Record<string, unknown>)[k];
    if (k !== 'params' && k !== 'host' && v !== undefined) out += `${out.length > 1 ? ',' : ''}${k}:${canonical(v)}`;
  }
  return `${out}}`;
}

/** What one run reached: its model states and the (state, action) pairs it took. */
export interface Reached {
  readonly states: ReadonlySet<string>;
  readonly pairs: ReadonlySet<string>;
}

/** The distinct states and pairs over many runs, and how they grew (one point per run). */
export class DistinctStates {
  readonly states = new Set<string>();
  readonly pairs = new Set<string>();
  runs = 0;
  /** After each run added: the runs so far, distinct states, distinct pairs (how the count grows). */
  readonly growth: { runs: number; states: number; pairs: number }[] = [];

  add(r: Reached): void {
    for (const s of r.states) this.states.add(s);
    for (const p of r.pairs) this.pairs.add(p);
    this.runs++;
    this.growth.push({ runs: this.runs, states: this.states.size, pairs: this.pairs.size });
  }
}

/** The coverage table's last lines: distinct abstract states and (state, action) pairs. */
export function distinctReport(states: number, pairs: number, runs: number, atLeast = false): string[] {
  const n = (x: number) => (atLeast ? `at least ${x}` : String(x));
  return [`distinct model states: ${n(states)}, distinct (state, action) pairs: ${n(pairs)}, over ${runs} runs`];
}

/** Keys a shard writes at most (2 MiB of the 4 MiB a shard summary may be); past it, none. */
export const REACHED_MAX = 1 << 17;

/** What a shard reached, for --merge: the names of its states and pairs, each KEY_LENGTH characters, sorted and joined. */
export interface ReachedKeys {
  readonly states: string;
  readonly pairs: string;
}

/**
 * The states and pairs of `d` as a shard writes them, so that --merge counts a state two
 * shards reached once (a pair is named by a digest of it); null past REACHED_MAX.
 */
export function reachedKeys(d: Pick<DistinctStates, 'states' | 'pairs'>): ReachedKeys | null {
  if (d.states.size + d.pairs.size > REACHED_MAX) return null;
  const pairKey = (p: string) => hash('sha1', p, 'base64').slice(0, KEY_LENGTH);
  return { states: [...d.states].sort().join(''), pairs: [...d.pairs].map(pairKey).sort().join('') };
}

/**
 * Names --merge collects at most, of states and pairs together: four shards' worth at
 * REACHED_MAX, some 30 MB. The shards of one run reach mostly the same states (a run's states
 * are far fewer: 1,646 at issue 13's bound on v2), so a union past this is not one a real run makes,
 * and a merge of many shards must not grow without bound: past it, the counts are a lower bound.
 */
export const UNION_MAX = 4 * REACHED_MAX;

/**
 * The distinct states and pairs of the shards together, counted from their names (`reached`)
 * one shard at a time, so that no shard's names need be kept. Exact while every shard wrote its
 * names and the union stays within UNION_MAX; otherwise `at least` the larger of the union
 * collected so far and the most any one shard counted.
 */
export class ReachedUnion {
  private readonly states = new Set<string>();
  private readonly pairs = new Set<string>();
  private most = { states: 0, pairs: 0 };
  private exact = true;

  /** One shard: its names (null: it wrote none) and the counts it wrote. */
  add(r: ReachedKeys | null, counted: { readonly distinctStates: number; readonly distinctPairs: number }): void {
    this.most = { states: Math.max(this.most.states, counted.distinctStates), pairs: Math.max(this.most.pairs, counted.distinctPairs) };
    if (r === null) this.exact = false;
    else this.split(r.states, this.states) && this.split(r.pairs, this.pairs);
  }

  /** Adds the names of `text` to `into` until the union is full; false once it is. */
  private split(text: string, into: Set<string>): boolean {
    // Each name a string of its own: a slice of `text` would keep all of the shard's text alive.
    const bytes = Buffer.from(text, 'latin1');
    for (let i = 0; i < bytes.length; i += KEY_LENGTH) {
      const k = bytes.toString('latin1', i, i + KEY_LENGTH);
      if (into.has(k)) continue;
      if (this.states.size + this.pairs.size >= UNION_MAX) return (this.exact = false);
      into.add(k);
    }
    return true;
  }

  counts(): { states: number; pairs: number; exact: boolean } {
    if (this.exact) return { states: this.states.size, pairs: this.pairs.size, exact: true };
    return { states: Math.max(this.states.size, this.most.states), pairs: Math.max(this.pairs.size, this.most.pairs), exact: false };
  }
}

/** summary.json `exploration`: what was searched and how much of the model it reached. */
export interface Exploration {
  readonly scheduler: string;
  readonly pctDepth: number | null;
  readonly scenarios: number;
  readonly executions: number;
  /** Executions skipped as reorderings of independent steps (exhaustive only; 0 otherwise). */
  readonly pruned: number;
  readonly distinctStates: number;
  readonly distinctPairs: number;
  /** True only when every schedule within the bound was run: a sample never is. */
  readonly complete: boolean;
  /** Exhaustive: scenarios whose schedules the cap on executions, or on drawn scenarios the time limit, left unfinished. */
  readonly capped: number;
  /** `--explore`: scenarios counted for a property though an earlier one of the run had explored them (harness/verify.ts ExploredScenarios). */
  readonly reused: number;
  /** `--explore`: scenarios not run, each the scenario without an inert command (harness/exhaustive.ts firstInert). */
  readonly inert: number;
  /** `--explore`: each property's enumerated command values (not in a shard's file: --merge derives them). */
  readonly domain?: Readonly<Record<string, readonly string[]>>;
  /** `values`: of each command kind, in enumerated scenarios (null: drawn). */
  readonly bound: { readonly cpus: number | null; readonly commands: number | null; readonly preemptions: number | null; readonly values: number | null };
}

/** The exploration of a sampling run (random or pct): every run one scenario and one execution. */
export function sampled(scheduler: string, pctDepth: number | null, runs: number, d: DistinctStates, cpus: number | null): Exploration {
  return {
    scheduler,
    pctDepth,
    scenarios: runs,
    executions: runs,
    pruned: 0,
    distinctStates: d.states.size,
    distinctPairs: d.pairs.size,
    complete: false,
    capped: 0,
    reused: 0,
    inert: 0,
    bound: { cpus, commands: null, preemptions: null, values: null },
  };
}

/** The exploration of an exhaustive run: every schedule within the bound of each scenario run. */
export function exhaustive(
  o: { preemptions?: number; exploreCommands?: number; exploreValues?: number; cpus?: number },
  results: readonly { runs: number; executions: number; complete: boolean; capped: number; reused: number; inert: number }[],
  d: DistinctStates,
): Exploration {
  return {
    scheduler: 'exhaustive',
    pctDepth: null,
    scenarios: results.reduce((n, r) => n + r.runs, 0),
    executions: results.reduce((n, r) => n + r.executions, 0),
    pruned: 0,
    distinctStates: d.states.size,
    distinctPairs: d.pairs.size,
    complete: o.exploreCommands !== undefined && results.length > 0 && results.every((r) => r.complete),
    capped: results.reduce((n, r) => n + r.capped, 0),
    reused: results.reduce((n, r) => n + r.reused, 0),
    inert: results.reduce((n, r) => n + r.inert, 0),
    bound: {
      cpus: o.cpus ?? null,
      commands: o.exploreCommands ?? null,
      preemptions: o.preemptions ?? null,
      values: o.exploreCommands === undefined ? null : (o.exploreValues ?? DOMAIN),
    },
  };
}

/**
 * What an exhaustive run may claim, in one line: a proof within the bound only when it was
 * complete, followed then by the values it covers, a line per property (`domain`).
 */
export function boundReport(e: Exploration): string {
  const b = e.bound;
  const schedules = `every schedule within ${b.preemptions} preemption${b.preemptions === 1 ? '' : 's'} (departures from round-robin)`;
  if (e.complete) {
    const values = Object.entries(e.domain ?? {}).map(([id, v]) => `\n  ${id}: ${v.join(' | ')}`);
    const reused = e.reused ? ` (${e.reused} of the scenarios were another property's too, explored once)` : '';
    const inert = e.inert
      ? ` (${e.inert} not run: each has a TD command before any td_create, which finds no TD and does nothing, so it is the scenario without that command)`
      : '';
    return `proved within the bound: every scenario of 1 to ${b.commands} commands over ${b.values} value${b.values === 1 ? '' : 's'} of each command kind (harness/exhaustive.ts), on ${b.cpus} CPUs, ${schedules}: ${e.scenarios} scenarios${inert}, ${e.executions} executions${reused}${values.join('')}`;
  }
  const capped = e.capped ? `, except ${e.capped} stopped at the cap on executions or the time limit` : '';
  return `${schedules} of each of ${e.scenarios} scenarios${capped}: ${e.executions} executions; not a proof (the scenarios ${b.commands === null ? 'were drawn, not enumerated' : 'were not all explored'})`;
}
