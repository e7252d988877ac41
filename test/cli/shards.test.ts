// Shard sets that are not one split of one run, made from two real shards: a field changed
// (tool, version, kernel, budget, seed, fault, CPUs, index, count, property set, runs,
// statuses, exit codes, scheduler, the states reached, prototype names), a key added, a type broken, a file truncated or
// nested deep, a shard missing or given twice. --merge refuses each: one line naming the
// file and the field, exit 2, nothing written.
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../harness/schema.ts';
import { cli, expectRefused, paths, sandbox, setAt, withKey, wrongType, type Json, type Sandbox } from './helpers.ts';

/** Per field, values that make the shard set wrong, and the field the message must name. */
const EDITS: readonly [string, readonly (string | number)[], Json[]][] = [
  ['tool', ['tool'], ['other-tool', 'constructor']],
  ['version', ['version'], ['9.9.9']],
  ['kernel', ['kernel'], ['toString', 'compat', '__proto__']],
  ['budget', ['budget'], ['__proto__', 'constructor', 'ci', 'huge']],
  ['seed', ['seed'], [10, 0]],
  ['fault', ['fault'], ['toString', 'ack-before-fail']],
  ['cpus', ['cpus'], [3]],
  ['shard.index', ['shard', 'index'], [3]],
  ['shard.count', ['shard', 'count'], [3, 1]],
  ['propertySet', ['propertySet'], [['corrupt-images', 'corrupt-images'], ['nope'], ['__proto__'], ['concurrency'], []]],
  ['properties[0].runs', ['properties', 0, 'runs'], [51, 1000]],
  ['properties[0].status', ['properties', 0, 'status'], ['fails']],
  ['properties[0].id', ['properties', 0, 'id'], ['nope', 'toString']],
  ['properties[0].requested', ['properties', 0, 'requested'], [49, 100]],
  ['status', ['status'], ['fails', 'interrupted']],
  ['exit', ['exit'], [1, 3, 130, 7]],
  ['properties', ['properties'], [[]]],
  ['exploration', ['exploration', 'scheduler'], ['pct', 'exhaustive', 'toString']],
  ['exploration.pctDepth', ['exploration', 'pctDepth'], [3]],
  ['exploration.executions', ['exploration', 'executions'], [51, 0]],
  ['reached.states', ['reached', 'states'], ['', 'AAAAAAAAAAAAAAAA', 'not base64!']],
];

describe('malformed shard sets', () => {
  let box: Sandbox;
  let shards: [string, string];
  beforeAll(async () => {
    box = sandbox('shards');
    const run = join(box.inputs, 'run');
    for (const i of [1, 2]) {
      const r = await cli(['--property', 'corrupt-images', '--seed', '9', '--shard', `${i}/2`, '--reports', run, '--corpus', join(box.inputs, 'c')]);
      expect(r.code).toBe(0);
    }
    shards = [1, 2].map((i) => readFileSync(join(run, 'shards', `shard-${i}-of-2.json`), 'utf8')) as [string, string];
  }, 120_000);
  afterAll(() => box.done());

  /** The two shard files, the first (or second) replaced by `text`. */
  const files = (which: 0 | 1, text: string) =>
    shards.map((t, i) => {
      const f = join(box.inputs, `shard-${i + 1}.json`);
      writeFileSync(f, i === which ? text : t);
      return f;
    });

  it('the real shards merge (the edits start from a valid set)', async () => {
    const r = await cli(['--merge', ...files(0, shards[0]), '--reports', join(box.inputs, 'merged'), '--corpus', join(box.inputs, 'c')]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('a field edited: exit 2, one line naming the file and the field', async () => {
    const edit = fc
      .constantFrom(...EDITS)
      .chain(([field, at, values]) =>
        fc.record({ field: fc.constant(field), at: fc.constant(at), value: fc.constantFrom(...values), which: fc.constantFrom(0 as const, 1 as const) }),
      );
    await fc.assert(
      fc.asyncProperty(edit, async ({ field, at, value, which }) => {
        const f = files(which, JSON.stringify(setAt(JSON.parse(shards[which]) as Json, at, value)));
        const r = await cli(['--merge', ...f]);
        expectRefused(r, box.work);
        expect(r.err[0]).toMatch(new RegExp(`${f[0]}|${f[1]}|shard \\d missing`));
        if (!r.err[0]!.includes('missing')) expect(r.err[0]).toMatch(new RegExp(`: (${field.replace(/[.[\]]/g, '\\$&')}|\\S+): `));
      }),
      { numRuns: 150, seed: 15 },
    );
  });

  it('a key added, a type broken, truncated, nested deep: exit 2, one line naming the file', async () => {
    const text = shards[1];
    const json = JSON.parse(text) as Json;
    const all = paths(json);
    const objects = all.filter(([, v]) => v !== null && typeof v === 'object' && !Array.isArray(v) && !('label' in v));
    const broken = fc.oneof(
      fc.integer({ min: 2, max: text.length }).map((k) => text.slice(0, text.length - k)),
      fc
        .constantFrom(...all.slice(1).filter(([at]) => at[0] !== 'coverage'))
        .chain(([at, v]) => fc.constantFrom(...wrongType(v)).map((w) => JSON.stringify(setAt(json, at, w)))),
      fc
        .tuple(fc.constantFrom(...objects), fc.constantFrom('__proto__', 'constructor', 'toString', 'extra'))
        .filter(([[at, o], k]) => !Object.hasOwn(o as object, k) && at[0] !== 'coverage')
        .map(([[at, o], k]) => JSON.stringify(setAt(json, at, withKey(o, k, 1)))),
      fc.integer({ min: LIMITS.depth + 1, max: 50_000 }).map((d) => text.replace('"coverage": {', `"coverage": ${'['.repeat(d)}${']'.repeat(d)}, "x": {`)),
    );
    await fc.assert(
      fc.asyncProperty(broken, async (t) => {
        const f = files(1, t);
        expectRefused(await cli(['--merge', ...f]), box.work, f[1]);
      }),
      { numRuns: 150, seed: 16 },
    );
  });

  it('counts the states of the shards together, or, when a shard wrote no names, at least the most one reached', async () => {
    const merge = async (f: string[]) =>
      (await cli(['--merge', ...f, '--reports', join(box.inputs, 'counted'), '--corpus', join(box.inputs, 'c')])).out.join('\n');
    const [one, two] = shards.map((t) => JSON.parse(t) as { exploration: { distinctStates: number }; reached: { states: string } });
    const union = new Set([one, two].flatMap((x) => x.reached.states.match(/.{16}/g)!)).size;
    expect(await merge(files(0, shards[0]))).toMatch(
      new RegExp(`^distinct model states: ${union}, distinct \\(state, action\\) pairs: \\d+, over 100 runs$`, 'm'),
    );
    const most = Math.max(one.exploration.distinctStates, two.exploration.distinctStates);
    const unnamed = JSON.stringify({ ...JSON.parse(shards[0]), reached: null });
    expect(await merge(files(0, unnamed))).toMatch(new RegExp(`^distinct model states: at least ${most}, `, 'm'));
  });

  it.each([
    ['a shard missing', (f: string[]) => [f[0]!], 'shard 2 of 2 missing'],
    ['a shard twice', (f: string[]) => [f[0]!, f[1]!, f[0]!], 'shard.index: 1 is also'],
    ['no such file', (f: string[]) => [f[0]!, join(box.inputs, 'nope.json')], 'no such file'],
    ['a directory', () => [box.inputs], 'is a directory'],
  ])('%s', async (_, pick, message) => {
    expectRefused(await cli(['--merge', ...pick(files(0, shards[0]))]), box.work, message);
  });
});

describe('exploring shards (--explore --shard I/N)', () => {
  let box: Sandbox;
  let shards: [string, string];
  let whole: { exploration: Record<string, unknown> };
  const EXPLORE = ['--property', 'update-contract', '--scheduler', 'exhaustive', '--explore', '--cpus', '2', '--commands', '1'];
  beforeAll(async () => {
    box = sandbox('explore-shards');
    const run = join(box.inputs, 'run');
    for (const i of [1, 2]) expect((await cli([...EXPLORE, '--shard', `${i}/2`, '--reports', run, '--no-corpus'])).code).toBe(0);
    shards = [1, 2].map((i) => readFileSync(join(run, 'shards', `shard-${i}-of-2.json`), 'utf8')) as [string, string];
    expect((await cli([...EXPLORE, '--reports', join(box.inputs, 'whole'), '--no-corpus'])).code).toBe(0);
    whole = JSON.parse(readFileSync(join(box.inputs, 'whole', 'summary.json'), 'utf8'));
  }, 120_000);
  afterAll(() => box.done());

  const files = (edit: (j: Json) => Json = (j) => j) =>
    shards.map((t, i) => {
      const f = join(box.inputs, `shard-${i + 1}.json`);
      writeFileSync(f, i === 1 ? JSON.stringify(edit(JSON.parse(t) as Json)) : t);
      return f;
    });

  it('each explores its share of the scenarios; merged, they make the unsharded proof', async () => {
    const parts = shards.map((t) => (JSON.parse(t) as typeof whole).exploration.scenarios as number);
    expect(Math.min(...parts)).toBeGreaterThan(0);
    expect(parts[0]! + parts[1]!).toBe(whole.exploration.scenarios);
    const r = await cli(['--merge', ...files(), '--reports', join(box.inputs, 'merged'), '--no-corpus']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/update-contract\s+proved/);
    expect(r.out.join('\n')).toContain('proved within the bound: every scenario of 1 to 1 commands');
    const merged = JSON.parse(readFileSync(join(box.inputs, 'merged', 'summary.json'), 'utf8')) as typeof whole;
    expect(merged.exploration).toEqual({ ...whole.exploration, complete: true });
    // both shards explore on one host: many states are both's, and count once
    const counts = shards.map((t) => (JSON.parse(t) as typeof whole).exploration.distinctStates as number);
    expect(counts[0]! + counts[1]!).toBeGreaterThan(whole.exploration.distinctStates as number);
    const distinct = `distinct model states: ${whole.exploration.distinctStates}, distinct (state, action) pairs: ${whole.exploration.distinctPairs}`;
    expect(r.out.join('\n')).toContain(distinct);
  });

  it.each([
    ["a bound that is not the run's", (j: Json) => setAt(j, ['exploration', 'bound', 'commands'], 2)],
    [
      'scenarios its properties did not run',
      (j: Json) => setAt(j, ['exploration', 'scenarios'], (j as { exploration: { scenarios: number } }).exploration.scenarios + 1),
    ],
    ['complete with a property that failed', (j: Json) => setAt(j, ['properties', 0, 'status'], 'fails')],
    [
      "a share of the scenarios not the plan's",
      (j: Json) => setAt(j, ['properties', 0, 'requested'], (j as { properties: { requested: number }[] }).properties[0]!.requested - 1),
    ],
    ['no exploration beside one that explored', (j: Json) => withKey(j, 'exploration', undefined as unknown as Json)],
    ['a sample beside one that explored', (j: Json) => setAt(j, ['exploration', 'scheduler'], 'random')],
    ['fewer names of pairs than it counts', (j: Json) => setAt(j, ['reached', 'pairs'], '')],
  ])('%s: refused, exit 2, naming the file', async (_, edit) => {
    const f = files(edit);
    expectRefused(await cli(['--merge', ...f]), box.work, f[1]);
  });
});
