// Splitting one verify run over n machines, and adding the parts up again.
//
// Every property's runs are cut into n chunks; chunk k runs with seed (seed + k) and gets
// runs/n of the runs (the first runs%n chunks one more). Shard i (1-based) runs, of property
// number p, the chunk k = (i - 1 - p) mod n: each shard gets one chunk of every property, and
// different shards start different properties on different seeds, so the work is even and the
// split depends only on (seed, budget, n). With n = 1 a shard is exactly the unsharded run.
import { readFileSync } from 'node:fs';
import type { Property } from '../properties/catalog.ts';
import { parseEntry } from './corpus.ts';
import { array, int, nullable, object, oneOf, SchemaError, str, type Schema } from './schema.ts';
import type { Summary } from './reports.ts';

export interface ShardSpec { readonly index: number; readonly count: number }

export interface Unit {
  readonly property: Property;
  readonly chunk: number;
  readonly seed: number;
  readonly runs: number;
}

export function parseShard(v: string): ShardSpec | null {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m) return null;
  const index = Number(m[1]), count = Number(m[2]);
  return count >= 1 && count <= 1024 && index >= 1 && index <= count ? { index, count } : null;
}

export function plan(properties: readonly Property[], seed: number, numRuns: number, shard: ShardSpec | null): Unit[] {
  if (!shard) return properties.map((property) => ({ property, chunk: 0, seed, runs: numRuns }));
  const n = shard.count;
  return properties.map((property, p) => {
    const k = (((shard.index - 1 - p) % n) + n) % n;
    return { property, chunk: k, seed: (seed + k) >>> 0, runs: Math.floor(numRuns / n) + (k < numRuns % n ? 1 : 0) };
  }).filter((u) => u.runs > 0);
}

// ---- merging ----

export class MergeError extends Error {}

const status = oneOf(['holds', 'fails', 'exhausted', 'interrupted']);
const U = int(0, Number.MAX_SAFE_INTEGER);

/** What --merge reads of a shard summary; the rest (counterexample entries) is checked by the corpus schema. */
const shardSchema = object({
  tool: str, version: str, kernel: str, budget: str, seed: U, fault: nullable(str), cpus: nullable(U),
  shard: object({ index: int(1, 1024), count: int(1, 1024) }),
  replay: nullable(str), merged: nullable(array(str)), status, exit: int(0, 255),
  properties: array(object({
    id: str, status, runs: U, requested: U, commands: U, ms: U, seed: U,
    firstFailure: nullable(object({ runs: U, commands: U })),
    counterexample: nullable(object({
      name: str, length: U, violation: object({ id: str, message: str }), seed: nullable(U), path: nullable(str),
      shrinks: nullable(U), file: str, replay: str, scenario: { expected: 'a scenario', parse: (v) => v },
    })),
  })),
  counterexamples: array(object({
    property: str, name: str, violation: object({ id: str, message: str, step: U }), bug: nullable(str), length: U,
    seed: nullable(U), path: nullable(str), shrinks: nullable(U),
    minimize: nullable(object({ runs: U, steps: U, complete: { expected: 'true or false', parse: (v, f) => (typeof v === 'boolean' ? v : (() => { throw new SchemaError(f, 'expected true or false'); })()) } })),
    file: str, html: str, replay: str, replayPath: nullable(str), entry: { expected: 'a corpus entry', parse: (v) => v },
  })),
  coverage: { expected: 'counts by label', parse: (v, f) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(f, 'expected an object of counts');
    for (const [k, n] of Object.entries(v)) U.parse(n, `${f}.${k}`);
    return v as Record<string, number>;
  } },
}) as unknown as Schema<Summary>;

export function readShard(file: string): Summary {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MergeError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code})`}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new MergeError(`${file}: (whole file): not JSON or truncated (${(e as Error).message.split('\n')[0]})`);
  }
  try {
    const s = shardSchema.parse(json, '');
    s.counterexamples.forEach((c, i) => {
      try {
        parseEntry(JSON.stringify(c.entry), '');
      } catch (e) {
        throw new SchemaError(`counterexamples[${i}].entry`, (e as Error).message.replace(/^: /, ''));
      }
    });
    return s;
  } catch (e) {
    if (e instanceof SchemaError) throw new MergeError(`${file}: ${e.message}`);
    throw e;
  }
}

/** The shards' properties added up, per property; the shards must be one split of one run. */
export function mergeShards(files: readonly string[]): { base: Summary; shards: Summary[]; missing: number[] } {
  if (files.length === 0) throw new MergeError('--merge needs the shard files (reports/shards/*.json)');
  const shards = files.map(readShard);
  const first = shards[0]!;
  for (const [i, s] of shards.entries()) {
    for (const k of ['kernel', 'budget', 'seed', 'fault', 'cpus'] as const) {
      if (s[k] !== first[k]) throw new MergeError(`${files[i]}: ${k} is ${JSON.stringify(s[k])} but ${files[0]} has ${JSON.stringify(first[k])}: not shards of one run`);
    }
    if (s.shard!.count !== first.shard!.count) throw new MergeError(`${files[i]}: shard.count is ${s.shard!.count} but ${files[0]} has ${first.shard!.count}`);
    const dup = shards.findIndex((x) => x.shard!.index === s.shard!.index);
    if (dup !== i) throw new MergeError(`${files[i]}: shard ${s.shard!.index} is also ${files[dup]}`);
  }
  const have = new Set(shards.map((s) => s.shard!.index));
  const missing = Array.from({ length: first.shard!.count }, (_, i) => i + 1).filter((i) => !have.has(i));
  shards.sort((a, b) => a.shard!.index - b.shard!.index);
  return { base: first, shards, missing };
}
