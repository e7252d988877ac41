// Shard sets that are not one split of one run, made from two real shards: a field changed
// (tool, version, kernel, budget, seed, fault, CPUs, index, count, property set, runs,
// statuses, exit codes, scheduler, the states reached, prototype names), a key added, a type broken, a file truncated or
// nested deep, a shard missing or given twice. --merge refuses each: one line naming the
// file and the field, exit 2, nothing written.
import fc from 'fast-check';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REACHED_MAX } from '../../harness/explore.ts';
import { LIMITS } from '../../harness/schema.ts';
import { TOOL_VERSION } from '../../harness/version.ts';
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
  // a sample prunes, caps, reuses and leaves out nothing
  ['exploration.pruned', ['exploration', 'pruned'], [1]],
  ['exploration.capped', ['exploration', 'capped'], [1]],
  ['exploration.reused', ['exploration', 'reused'], [1]],
  ['exploration.inert', ['exploration', 'inert'], [1]],
  // counts whose sum over shards and properties would not be an exact integer
  ['properties[0].commands', ['properties', 0, 'commands'], [2 ** 52, Number.MAX_SAFE_INTEGER]],
  ['exploration.pruned', ['exploration', 'pruned'], [2 ** 52]],
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
    // A run writes no names only past REACHED_MAX states and pairs.
    const j = JSON.parse(shards[0]);
    const unnamed = JSON.stringify({ ...j, reached: null, exploration: { ...j.exploration, distinctStates: REACHED_MAX + 1 } });
    expect(await merge(files(0, unnamed))).toMatch(new RegExp(`^distinct model states: at least ${REACHED_MAX + 1}, `, 'm'));
  });

  /** The two shard files, each edited by `edit`. */
  const both = (edit: (j: Json, i: number) => Json) =>
    shards.map((t, i) => {
      const f = join(box.inputs, `shard-${i + 1}.json`);
      writeFileSync(f, JSON.stringify(edit(JSON.parse(t) as Json, i)));
      return f;
    });

  it("names the shard another version wrote, and refuses shards that agree on a version not this tool's", async () => {
    const f = files(0, JSON.stringify(setAt(JSON.parse(shards[0]) as Json, ['version'], '9.9.9')));
    expectRefused(await cli(['--merge', ...f]), box.work, `${f[0]}: version: "9.9.9", but this is tdx-update-verify ${TOOL_VERSION}`);
    const older = both((j) => setAt(j, ['version'], '0.0.1'));
    expectRefused(await cli(['--merge', ...older]), box.work, `${older[0]}: version: "0.0.1", but this is`);
  });

  it('refuses a count large enough that the sums would not be exact', async () => {
    const f = both((j) => setAt(j, ['coverage', 'command cancel'], Number.MAX_SAFE_INTEGER - 1));
    expectRefused(await cli(['--merge', ...f]), box.work, `${f[0]}: coverage.command cancel: expected a whole number from 0 to `);
  });

  it('refuses more coverage labels than a run makes (the merge prints each)', async () => {
    const many = Object.fromEntries(Array.from({ length: 4097 }, (_, i) => [`label ${i}`, 1]));
    const f = both((j, i) => (i === 1 ? setAt(j, ['coverage'], many) : j));
    expectRefused(await cli(['--merge', ...f]), box.work, `${f[1]}: coverage: 4097 labels, more than the 4096 a run makes`);
  });

  it('refuses names of states reached that repeat a name (they are written sorted, each once)', async () => {
    const f = both((j, i) => {
      const states = (j as { reached: { states: string } }).reached.states;
      return i === 1 ? setAt(j, ['reached', 'states'], states.slice(0, 16) + states.slice(0, -16)) : j;
    });
    expectRefused(await cli(['--merge', ...f]), box.work, `${f[1]}: reached.states: name 1 is not after name 0`);
  });

  it.each([
    ['__proto__', 'coverage.__proto__'],
    ['\u001b]0;pwned\u0007', 'coverage.\\u001b]0;pwned\\u0007'],
  ])('refuses the coverage label %j, naming it in printable characters', async (key, field) => {
    const f = both((j, i) => (i === 1 ? setAt(j, ['coverage'], withKey((j as { coverage: Json }).coverage, key, 1)) : j));
    const r = await cli(['--merge', ...f]);
    expectRefused(r, box.work, `${f[1]}: ${field}: expected a label of printable ASCII`);
    expect(r.err[0]).toMatch(/^[\x20-\x7e]*$/);
  });

  it('merges shards run with --blobs: they agree on the blobs, and their counts of real uploads add up', async () => {
    const blobs = (j: Json, dir: string) => {
      const real = (l: string) => (j as { coverage: Record<string, number> }).coverage[l] ?? 0;
      return {
        dir,
        files: 3,
        uploads: real('real upload'),
        applied: real('real upload applied'),
        refused: real('real upload refused'),
        lost: real('real upload lost'),
      };
    };
    const out = join(box.inputs, 'blobs');
    const r = await cli(['--merge', ...both((j) => withKey(j, 'blobs', blobs(j, 'intel'))), '--reports', out, '--corpus', join(box.inputs, 'c')]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).blobs).toEqual({ dir: 'intel', files: 3, uploads: 0, applied: 0, refused: 0, lost: 0 });
    const other = both((j, i) => withKey(j, 'blobs', blobs(j, i === 0 ? 'intel' : 'elsewhere')));
    expectRefused(
      await cli(['--merge', ...other]),
      box.work,
      `${other[1]}: blobs: {"dir":"elsewhere","files":3}, but ${other[0]} has {"dir":"intel","files":3}`,
    );
    const one = both((j, i) => (i === 0 ? withKey(j, 'blobs', blobs(j, 'intel')) : j));
    expectRefused(await cli(['--merge', ...one]), box.work, `${one[1]}: blobs: none, but ${one[0]} has`);
    const miscounted = both((j) => withKey(j, 'blobs', { ...blobs(j, 'intel'), uploads: 5 }));
    expectRefused(await cli(['--merge', ...miscounted]), box.work, `${miscounted[0]}: blobs.uploads: 5, but coverage counts 0 runs as "real upload"`);
  });

  it(`refuses more files than the ${LIMITS.shards} shards a run can have, before reading any`, async () => {
    const many = Array.from({ length: LIMITS.shards + 1 }, (_, i) => join(box.inputs, `nope-${i}.json`));
    expectRefused(await cli(['--merge', ...many]), box.work, `--merge: ${LIMITS.shards + 1} files, more than the ${LIMITS.shards} shards`);
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
    ['no names of the few states it reached (a merge would print "at least")', (j: Json) => setAt(j, ['reached'], null)],
    ['a complete proof with fewer executions than scenarios', (j: Json) => setAt(j, ['exploration', 'executions'], 0)],
    ['more scenarios not run than it has', (j: Json) => setAt(j, ['exploration', 'inert'], 1_000_000_000)],
  ])('%s: refused, exit 2, naming the file', async (_, edit) => {
    const f = files(edit);
    expectRefused(await cli(['--merge', ...f]), box.work, f[1]);
  });

  it('refuses a bound of more scenarios than a run could explore, without enumerating them (that would outlast the test)', async () => {
    const f = files((j) => setAt(j, ['exploration', 'bound'], { cpus: 2, commands: 4, preemptions: 2, values: 16 }));
    expectRefused(await cli(['--merge', ...f]), box.work, `${f[1]}: exploration.bound: {"cpus":2,"commands":4,"preemptions":2,"values":16} makes `);
  });
});

describe("shards with a counterexample on Intel's blobs", () => {
  let box: Sandbox;
  let shard: Json;
  beforeAll(async () => {
    box = sandbox('blob-shards');
    const run = join(box.inputs, 'run');
    const r = await cli(['--property', 'update-contract', '--fault', 'B2', '--shard', '1/1', '--reports', run, '--no-corpus', '--progress', '0']);
    expect(r.code).toBe(1);
    // as if its host had booted one of Intel's blobs
    const json = JSON.parse(readFileSync(join(run, 'shards', 'shard-1-of-1.json'), 'utf8')) as Json;
    shard = setAt(json, ['counterexamples', 0, 'entry', 'scenario', 'host', 'boot', 'real'], true);
  }, 60_000);
  afterAll(() => box.done());

  const file = (j: Json) => {
    const f = join(box.inputs, 'shard.json');
    writeFileSync(f, JSON.stringify(j));
    return f;
  };

  it('refuses one from a shard not run with --blobs', async () => {
    const f = file(shard);
    expectRefused(await cli(['--merge', f]), box.work, `${f}: counterexamples[0].entry: uses Intel's module blobs, but the shard has no blobs`);
  });

  it('replays it on the blobs the shards name, and says so in one line when they are not there', async () => {
    const blobs = { dir: join(box.inputs, 'gone'), files: 11, uploads: 0, applied: 0, refused: 0, lost: 0 };
    const r = await cli(['--merge', file(withKey(shard, 'blobs', blobs)), '--reports', join(box.inputs, 'merged'), '--no-corpus']);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`verify: --merge: the shards' blobs, to replay a counterexample on them: --blobs ${blobs.dir}: no such directory`]);
  });
});
