// Corpus entries: the schema names the file and the field of whatever is wrong; names are
// content hashes, so the same counterexample is recorded once; writes are atomic.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { V2 } from '../../properties/revisions/index.ts';
import {
  contentHash,
  CorpusError,
  corpusFiles,
  entryName,
  formatEntry,
  makeEntry,
  parseEntry,
  readEntry,
  saveEntry,
  type CorpusEntry,
} from '../../harness/corpus.ts';
import type { Scenario } from '../../properties/scenario.ts';

const scenario: Scenario = {
  host: { nrCpus: 1, boot: { release: '1.5.01', moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots: 1, debugUnlocked: false },
  commands: [
    {
      kind: 'upload',
      image: { release: '1.5.01', svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false, corruption: null },
      fault: { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null },
    },
  ],
  schedule: [],
};
const entry = makeEntry('update-contract', V2, 'ack-before-fail', { id: 'I-5', message: 'state moved' }, scenario);
const text = formatEntry(entry);

/** The entry as JSON with one change made by `edit`. */
// biome-ignore lint/suspicious/noExplicitAny: an edit reaches into any field of the entry
function edited(edit: (j: Record<string, any>) => void): string {
  const j = JSON.parse(text);
  edit(j);
  return JSON.stringify(j);
}

function problem(t: string): string {
  try {
    parseEntry(t, 'x.json');
  } catch (e) {
    expect(e).toBeInstanceOf(CorpusError);
    const msg = (e as Error).message;
    expect(msg.split('\n')).toHaveLength(1);
    return msg;
  }
  throw new Error('accepted');
}

describe('corpus entries', () => {
  it('round-trip through the schema', () => {
    expect(parseEntry(text, 'x.json')).toEqual(JSON.parse(text));
    expect(entry).toMatchObject({ format: 2, tool: 'tdx-update-verify', kernel: 'v2', bug: 'ack-before-fail', expect: { violation: 'I-5' } });
    expect(entry.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    ['truncated', text.slice(0, text.length / 2), /^x\.json: \(whole file\): not JSON or truncated/],
    ['not JSON', 'hello', /^x\.json: \(whole file\): not JSON/],
    [
      'control bytes',
      '\u001b[31m\nred',
      /^x\.json: \(whole file\): not JSON or truncated \(Unexpected token '\\u001b', "\\u001b\[31m\\u000ared" is not valid JSON\)$/,
    ],
    ['empty', '', /^x\.json: \(whole file\): empty file/],
    ['a list', '[]', /^x\.json: \(top level\): expected an object/],
    [
      'out-of-date format',
      edited((j) => {
        j.format = 0;
      }),
      /^x\.json: format: format 0 is out of date/,
    ],
    [
      'unknown kernel',
      edited((j) => {
        j.kernel = 'v7';
      }),
      /^x\.json: kernel: "v7" is not an emulated kernel revision .*out of date/,
    ],
    [
      'unknown bug',
      edited((j) => {
        j.bug = 'B99';
      }),
      /^x\.json: bug: "B99" is not a seeded bug/,
    ],
    [
      'unknown property',
      edited((j) => {
        j.property = 'nope';
      }),
      /^x\.json: property: "nope" is not a property/,
    ],
    [
      'missing violation',
      edited((j) => {
        delete j.expect.violation;
      }),
      /^x\.json: expect\.violation: missing/,
    ],
    [
      'unknown command',
      edited((j) => {
        j.scenario.commands[0].kind = 'reboot';
      }),
      /^x\.json: scenario\.commands\[0\]\.kind: expected one of upload/,
    ],
    [
      'bad release',
      edited((j) => {
        j.scenario.commands[0].image.release = '9.9.99';
      }),
      /^x\.json: scenario\.commands\[0\]\.image\.release: expected a module release/,
    ],
    [
      'bad fault',
      edited((j) => {
        j.scenario.commands[0].fault.leaf = 'REBOOT';
      }),
      /^x\.json: scenario\.commands\[0\]\.fault\.leaf: expected one of/,
    ],
    [
      'negative cpu count',
      edited((j) => {
        j.scenario.host.nrCpus = -1;
      }),
      /^x\.json: scenario\.host\.nrCpus: expected a whole number from 1 to 256, found -1$/,
    ],
    [
      'schedule of strings',
      edited((j) => {
        j.scenario.schedule = ['1'];
      }),
      /^x\.json: scenario\.schedule\[0\]: expected a whole number/,
    ],
    [
      'unknown field',
      edited((j) => {
        j.scenario.host.turbo = true;
      }),
      /^x\.json: scenario\.host\.turbo: unknown field$/,
    ],
    [
      'no commands',
      edited((j) => {
        j.scenario.commands = [];
      }),
      /^x\.json: scenario: a scenario needs at least one command$/,
    ],
  ])('%s: one line naming the file and the field', (_, t, re) => {
    expect(problem(t)).toMatch(re);
  });

  it('a missing file is one line too', () => {
    expect(() => readEntry('/nonexistent/x.json')).toThrow(/^\/nonexistent\/x\.json: no such file$/);
  });

  it('names are content hashes: key order and the tool version do not matter, the scenario does', () => {
    const reordered = JSON.parse(JSON.stringify(entry), (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
    ) as CorpusEntry;
    expect(contentHash(reordered)).toBe(contentHash(entry));
    expect(contentHash({ ...entry, version: '9.9.9' } as CorpusEntry)).toBe(contentHash(entry));
    expect(contentHash({ ...entry, scenario: { ...scenario, schedule: [1] } })).not.toBe(contentHash(entry));
    expect(contentHash({ ...entry, bug: null })).not.toBe(contentHash(entry));
    expect(entryName(entry)).toMatch(/^update-contract-[0-9a-f]{12}$/);
  });

  it('saveEntry writes once, atomically, and finds the entry again under another property name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'corpus-'));
    const a = saveEntry(dir, entry);
    expect(a.written).toBe(true);
    expect(readFileSync(a.file, 'utf8')).toBe(text);
    expect(saveEntry(dir, entry)).toEqual({ file: a.file, written: false });
    expect(saveEntry(dir, { ...entry, property: 'concurrency' })).toEqual({ file: a.file, written: false });
    expect(readdirSync(dir)).toEqual([`${entryName(entry)}.json`]);
    writeFileSync(join(dir, `${entryName(entry)}.json.tmp-123`), 'half');
    expect(corpusFiles(dir)).toEqual([a.file]);
  });
});
