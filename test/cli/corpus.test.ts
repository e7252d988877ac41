// Corpus entries that must be refused, made from the real ones of test/corpus: truncated,
// a field of the wrong type, an unknown or prototype-named key, deep nesting, huge arrays,
// values out of range. Each is handed to --replay, and put in the corpus a run records into;
// both refuse it with one line naming the file, before anything is written.
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusFiles, parseEntry } from '../../harness/corpus.ts';
import { LIMITS } from '../../harness/schema.ts';
import { cli, expectRefused, paths, ROOT, sandbox, setAt, withKey, wrongType, type Json, type Sandbox } from './helpers.ts';

const REAL = corpusFiles(join(ROOT, 'test/corpus')).map((f) => readFileSync(f, 'utf8'));

const PROTO = ['__proto__', 'constructor', 'toString', 'prototype', 'hasOwnProperty'];

const deepText = (entry: Json, at: readonly (string | number)[], depth: number) =>
  JSON.stringify(setAt(entry, at, '\u0000deep')).replace('"\\u0000deep"', '['.repeat(depth) + ']'.repeat(depth));

/** Lists longer than their limits: commands, schedule, a TD run's stores. */
function huge(entry: Json): Json[] {
  const s = (entry as { scenario: { commands: Json[] } }).scenario;
  const run = { kind: 'td_run', td: 0, stores: Array(65).fill({ page: 0, offset: 0, value: 0 }), cpu: 0 };
  return [
    setAt(entry, ['scenario', 'commands'], Array(LIMITS.commands + 1).fill(s.commands[0]!)),
    setAt(entry, ['scenario', 'schedule'], Array(LIMITS.schedule + 1).fill(0)),
    setAt(entry, ['scenario', 'commands'], [run]),
    setAt(setAt(entry, ['scenario', 'host', 'nrCpus'], 256), ['scenario', 'commands'], Array(65).fill(s.commands[0]!)),
  ];
}

function mutation(entry: Json, text: string): fc.Arbitrary<{ kind: string; text: string }> {
  const all = paths(entry);
  const leaves = all.filter(([, v]) => v === null || typeof v !== 'object');
  const numbers = leaves.filter(([, v]) => typeof v === 'number');
  const objects = all.filter(([, v]) => v !== null && typeof v === 'object' && !Array.isArray(v));
  const out = (kind: string) => (j: Json) => ({ kind, text: JSON.stringify(j) });
  return fc.oneof(
    fc.integer({ min: 2, max: text.length }).map((k) => ({ kind: 'truncated', text: text.slice(0, text.length - k) })),
    fc.constantFrom(...all.slice(1)).chain(([at, v]) => fc.constantFrom(...wrongType(v)).map((w) => out('wrong type')(setAt(entry, at, w)))),
    fc
      .tuple(fc.constantFrom(...objects), fc.oneof(fc.constantFrom(...PROTO), fc.stringMatching(/^[a-zA-Z_]{1,8}$/)), fc.jsonValue({ maxDepth: 2 }))
      .filter(([[, o], k]) => !Object.hasOwn(o as object, k))
      .map(([[at, o], k, x]) => out('unknown key')(setAt(entry, at, withKey(o, k, x as Json)))),
    fc
      .tuple(fc.constantFrom(...leaves), fc.integer({ min: LIMITS.depth + 1, max: 100_000 }))
      .map(([[at], d]) => ({ kind: 'deep', text: deepText(entry, at, d) })),
    fc.constantFrom(...huge(entry)).map(out('huge array')),
    fc.constantFrom(...numbers).chain(([at]) => fc.constantFrom(-1000, 0.5, 2 ** 40, 1e308).map((n) => out('out of range')(setAt(entry, at, n)))),
  );
}

const mutated = fc.constantFrom(...REAL).chain((text) => mutation(JSON.parse(text) as Json, text));

describe('malformed corpus entries', () => {
  let box: Sandbox;
  beforeAll(() => {
    box = sandbox('corpus');
  });
  afterAll(() => box.done());

  it('the real entries are accepted (the mutations start from valid input)', () => {
    expect(REAL.length).toBeGreaterThan(0);
    for (const t of REAL) expect(() => parseEntry(t, 'x')).not.toThrow();
  });

  it('--replay refuses each mutation: exit 2, one line naming the file, nothing written', async () => {
    const file = join(box.inputs, 'entry.json');
    await fc.assert(
      fc.asyncProperty(mutated, async (m) => {
        writeFileSync(file, m.text);
        expectRefused(await cli(['--replay', file]), box.work, file);
      }),
      { numRuns: 200, seed: 15 },
    );
  });

  it('a mutation in the corpus a run records into stops it before it starts', async () => {
    const dir = join(box.inputs, 'corpus');
    mkdirSync(dir);
    const file = join(dir, 'update-contract-000000000000.json');
    await fc.assert(
      fc.asyncProperty(mutated, async (m) => {
        writeFileSync(file, m.text);
        expectRefused(await cli(['--property', 'corrupt-images', '--corpus', dir]), box.work, file);
      }),
      { numRuns: 50, seed: 16 },
    );
  });

  it.each([
    ['a FIFO', (f: string) => execFileSync('mkfifo', [f]), 'not a regular file'],
    ['a directory', (f: string) => mkdirSync(f), 'is a directory'],
    ['too big', (f: string) => writeFileSync(f, ' '.repeat(LIMITS.fileBytes + 1)), `larger than ${LIMITS.fileBytes} bytes`],
    ['empty', (f: string) => writeFileSync(f, ''), 'empty file'],
  ])('%s is refused without reading it to the end', async (name, make, message) => {
    const file = join(box.inputs, name.replace(/ /g, '-'));
    make(file);
    expectRefused(await cli(['--replay', file]), box.work, message);
  });

  it('/dev/zero is refused', async () => {
    expectRefused(await cli(['--replay', '/dev/zero']), box.work, 'not a regular file');
  });
});
