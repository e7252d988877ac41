// `npm run corpus:migrate` (issue 13): an entry that still shows what it recorded is kept; one
// whose schedule no longer does is re-derived (a schedule that shows the violation with its bug
// and passes without it) and renamed by its new content; one no schedule reproduces is lost,
// left as it was, and the command exits 1. Bad input: one line, exit 2, nothing rewritten.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryName, readEntry } from '../../harness/corpus.ts';
import { runScenario } from '../../harness/run.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { findRevision } from '../../properties/revisions/index.ts';

const ROOT = join(import.meta.dirname, '../..');
const B21 = 'concurrency-b85e7d6d8f8d.json';

function migrate(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'harness/migrate.ts', ...args], { encoding: 'utf8', cwd: ROOT });
}

/** A corpus of the B21 entry alone, edited by `edit`. */
/** The fields of an entry the tests edit. */
interface Editable {
  format: number;
  expect: { violation: string };
  scenario: { schedule: number[]; picks?: string[] };
}

function corpusWith(edit: (e: Editable) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrate-'));
  const e = JSON.parse(readFileSync(join(ROOT, 'test/corpus', B21), 'utf8'));
  edit(e);
  writeFileSync(join(dir, B21), JSON.stringify(e, null, 2) + '\n');
  return dir;
}

describe('corpus:migrate', () => {
  it('keeps every entry of the corpus as it is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrate-'));
    cpSync(join(ROOT, 'test/corpus'), dir, { recursive: true, filter: (f) => !f.endsWith('.ts') });
    const r = migrate('--corpus', dir);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+ kept, 0 migrated, 0 lost, of \d+ entries in /m);
  });

  it('re-derives an entry whose schedule no longer shows its violation, under its new name', () => {
    const dir = corpusWith((e) => {
      e.scenario.picks = []; // round-robin: the two P-SEAMLDR callers never overlap
    });
    const r = migrate('--corpus', dir);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^migrated {2}concurrency-b85e7d6d8f8d\.json -> concurrency-[0-9a-f]{12}\.json \(a new schedule, found within 1 preemptions\)$/m);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const e = readEntry(join(dir, files[0]!));
    expect(files[0]).toBe(`${entryName(e)}.json`);
    const revision = findRevision(e.kernel)!;
    expect(runScenario(e.scenario, { revision, bugs: new Set([e.bug!]) }).violation?.id).toBe('I-13');
    expect(runScenario(e.scenario, { revision, bugs: NO_BUGS }).violation).toBeNull();
  });

  it('rewrites a format 1 entry (the schedule by index) with its schedule by name, under its new name', () => {
    const dir = corpusWith((e) => {
      e.format = 1;
      delete e.scenario.picks;
      e.scenario.schedule = [1]; // as recorded before format 2: the second option at the first decision
    });
    const replay = spawnSync(process.execPath, ['harness/cli.mjs', '--replay', join(dir, B21)], { encoding: 'utf8', cwd: ROOT });
    expect(replay.status).toBe(2);
    expect(replay.stderr).toMatch(/format: format 1 is out of date: this tool reads format 2 \(npm run corpus:migrate rewrites format 1\)/);
    const r = migrate('--corpus', dir);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`migrated  ${B21} -> ${B21} (format 1 -> 2, the schedule by name)`);
    expect(readFileSync(join(dir, B21), 'utf8')).toBe(readFileSync(join(ROOT, 'test/corpus', B21), 'utf8'));
  });

  it('an entry nothing reproduces is lost: left in place, exit 1', () => {
    const dir = corpusWith((e) => {
      e.expect.violation = 'I-1';
    });
    const before = readFileSync(join(dir, B21), 'utf8');
    const r = migrate('--corpus', dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^lost {6}concurrency-b85e7d6d8f8d\.json: no schedule within 3 preemptions shows I-1 with seamldr-info-unlocked/m);
    expect(r.stdout).toContain('0 kept, 0 migrated, 1 lost, of 1 entries');
    expect(readFileSync(join(dir, B21), 'utf8')).toBe(before);
  });

  it.each([
    [['--corpus', '/nonexistent/corpus'], /^corpus:migrate: no corpus directory \/nonexistent\/corpus$/],
    [['--bogus'], /^corpus:migrate: unknown option '--bogus'/],
    [['--corpus'], /^corpus:migrate: --corpus needs a value \(usage/],
    [['stray'], /^corpus:migrate: unexpected argument 'stray' \(usage/],
  ])('%j: one line, exit 2', (args, line) => {
    const r = migrate(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(line)]);
  });

  it('a malformed entry: one line naming it, exit 2, and no entry rewritten', () => {
    const dir = corpusWith((e) => {
      e.scenario.picks = [];
    });
    writeFileSync(join(dir, 'broken.json'), '{"format": 1');
    const before = readFileSync(join(dir, B21), 'utf8');
    const r = migrate('--corpus', dir);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^corpus:migrate: .*broken\.json/)]);
    expect(readFileSync(join(dir, B21), 'utf8')).toBe(before);
  });
});
