// The regression corpus, replayed: every test/corpus/*.json entry that `npm run verify` wrote.
// An entry without a seeded bug is a real counterexample that was fixed: it must pass now. An
// entry recorded with a seeded bug must still fail with the violation it showed while that bug
// is on, and pass with it off (so the bug, not something else, is what the scenario shows).
import { basename } from 'node:path';
import { describe, expect, test } from 'vitest';
import { NO_BUGS, SEEDED_BUGS } from '../../impl/faults.ts';
import { findRevision } from '../../properties/revisions/index.ts';
import { corpusFiles, entryName, readEntry } from '../../harness/corpus.ts';
import { runScenario } from '../../harness/run.ts';

const DIR = import.meta.dirname;
const files = corpusFiles(DIR);

describe('regression corpus (test/corpus)', () => {
  test.each(files.map((f) => [basename(f), f] as const))('%s', (_, file) => {
    const e = readEntry(file); // a malformed entry fails here with the file and the field
    const revision = findRevision(e.kernel)!;
    if (e.bug === null) {
      const r = runScenario(e.scenario, { revision, bugs: NO_BUGS });
      expect(r.violation, `${file}: a real counterexample (${e.expect.violation}) that still fails`).toBeNull();
      return;
    }
    const on = runScenario(e.scenario, { revision, bugs: new Set([e.bug]) });
    expect(on.violation?.id, `${file}: with ${e.bug} on it must still show ${e.expect.violation}`).toBe(e.expect.violation);
    const off = runScenario(e.scenario, { revision, bugs: NO_BUGS });
    expect(off.violation, `${file}: with ${e.bug} off it must pass`).toBeNull();
  });

  /** What the v2 kernel shows: these, and any bug whose catalog record names the v2 kernel as its home. */
  const SHIPPED = new Set([
    'B2',
    'B5',
    'B9',
    'B13',
    'B20',
    'v2-p19',
    'B21',
    ...SEEDED_BUGS.filter((b) => (b as { kernel?: string }).kernel === 'v2').map((b) => b.catalogId),
  ]);

  test('holds a counterexample of every seeded bug the v2 kernel shows (record one with npm run verify -- --fault ID)', () => {
    const bugs = new Set(
      files
        .map((f) => readEntry(f))
        .filter((e) => e.kernel === 'v2')
        .map((e) => e.bug),
    );
    const missing = [...SHIPPED].filter((id) => !bugs.has(SEEDED_BUGS.find((b) => b.catalogId === id)!.name as never));
    expect(missing).toEqual([]);
  });

  test('every entry is named <property>-<content hash>.json (an edited entry is renamed by re-recording it)', () => {
    for (const f of files) expect(basename(f)).toBe(`${entryName(readEntry(f))}.json`);
  });
});
