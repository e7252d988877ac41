// `npm run corpus:migrate` (issue 13): an entry that still shows what it recorded is kept; one
// whose schedule no longer does is re-derived (a schedule that shows the violation with its bug
// and passes without it) and renamed by its new content; one no schedule reproduces is lost,
// left as it was, and the command exits 1. Bad input: one line, exit 2, nothing rewritten.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryName, readEntry } from '../../harness/corpus.ts';
import { search } from '../../harness/migrate.ts';
import { runScenario } from '../../harness/run.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { findRevision } from '../../properties/revisions/index.ts';

const ROOT = join(import.meta.dirname, '../..');
const B21 = 'concurrency-b85e7d6d8f8d.json';
/** One upload on 2 CPUs, with sysinit-unlocked on the upstream kernel. */
const UPLOAD = 'update-contract-076c4c236569.json';

function migrate(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'harness/migrate.ts', ...args], { encoding: 'utf8', cwd: ROOT });
}

/** The fields of an entry the tests edit. */
interface Editable {
  format: number;
  expect: { violation: string };
  scenario: { host: { nrCpus: number }; commands: object[]; schedule: number[]; picks?: string[] };
}

/** A corpus of one entry of test/corpus (B21 unless named), edited by `edit`. */
function corpusWith(edit: (e: Editable) => void, entry = B21): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrate-'));
  const e = JSON.parse(readFileSync(join(ROOT, 'test/corpus', entry), 'utf8'));
  edit(e);
  writeFileSync(join(dir, entry), JSON.stringify(e, null, 2) + '\n');
  return dir;
}

/** The UPLOAD entry on `cpus` CPUs with `commands` in place of its one upload, expecting I-1, which it never shows. */
function neverShown(cpus: number, commands: (upload: object) => object[]): string {
  return corpusWith((e) => {
    e.expect.violation = 'I-1';
    e.scenario.host.nrCpus = cpus;
    e.scenario.commands = commands(e.scenario.commands[0]!);
  }, UPLOAD);
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
    expect(r.stdout).toMatch(/^searching concurrency-b85e7d6d8f8d\.json: its schedule no longer shows I-1; at most 2000 schedules\nlost {6}/m);
    expect(r.stdout).toMatch(/^lost {6}concurrency-b85e7d6d8f8d\.json: no schedule within 3 preemptions shows I-1 with seamldr-info-unlocked/m);
    expect(r.stdout).toContain('0 kept, 0 migrated, 1 lost, of 1 entries');
    expect(readFileSync(join(dir, B21), 'utf8')).toBe(before);
  });

  it('the search stops at its cap, and the entry is lost (12 commands on 4 CPUs: tens of thousands of schedules within 3 preemptions)', () => {
    const dir = neverShown(4, (upload) => [
      ...Array(6).fill(upload),
      ...Array(3)
        .fill([
          { kind: 'cpu_offline', cpu: 1 },
          { kind: 'cpu_online', cpu: 1 },
        ])
        .flat(),
    ]);
    const e = readEntry(join(dir, UPLOAD));
    const s = search(e, e.bug!, findRevision(e.kernel)!, 100);
    expect(s).toEqual({
      found: null,
      why: 'no schedule of the 100 the search may run (every one within 1 preemptions, not every one within 2) shows I-1 with sysinit-unlocked and passes without it',
      cut: true,
    });
  });

  it('an entry with more schedules one preemption from round-robin than the search may run is lost at once (64 uploads on 256 CPUs)', () => {
    const r = migrate(
      '--corpus',
      neverShown(256, (upload) => Array(64).fill(upload)),
    );
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(
      /^lost {6}update-contract-076c4c236569\.json: \d+ schedules are one preemption from round-robin, more than the 2000 the search may run; --max-schedules searches further$/m,
    );
  });

  it('--max-schedules sets the cap: an entry the default cap loses is found under a larger one', () => {
    // B21 on round-robin has 3 schedules one preemption away, one of which shows it: a cap of 2 loses it.
    const dir = corpusWith((e) => {
      e.scenario.picks = [];
    });
    const lost = migrate('--corpus', dir, '--max-schedules', '2');
    expect(lost.status, lost.stderr).toBe(1);
    expect(lost.stdout).toMatch(/^searching concurrency-b85e7d6d8f8d\.json: .*; at most 2 schedules$/m);
    expect(lost.stdout).toMatch(/^lost {6}concurrency-b85e7d6d8f8d\.json: .*; --max-schedules searches further$/m);
    const found = migrate('--corpus', dir, '--max-schedules', '4');
    expect(found.status, found.stderr).toBe(0);
    expect(found.stdout).toMatch(/^migrated  concurrency-b85e7d6d8f8d\.json -> /m);
  });

  it.each(['0', '1000001', '2.5', 'abc', ''])('refuses --max-schedules %j in one line, exit 2', (n) => {
    const r = migrate(
      '--corpus',
      corpusWith(() => {}),
      '--max-schedules',
      n,
    );
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^corpus:migrate: --max-schedules must be a whole number from 1 to 1000000, not /)]);
  });

  it('an entry expecting a violation no check reports is bad input: exit 2 before any search, nothing rewritten', () => {
    const dir = corpusWith((e) => {
      e.expect.violation = 'I-99';
    });
    const before = readFileSync(join(dir, B21), 'utf8');
    const r = migrate('--corpus', dir);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^corpus:migrate: .*concurrency-b85e7d6d8f8d\.json: expect\.violation: /)]);
    expect(readFileSync(join(dir, B21), 'utf8')).toBe(before);
  });

  it('names a file with control characters escaped, on one line', () => {
    const dir = corpusWith(() => {});
    writeFileSync(join(dir, 'bad\n\u001b[31m.json'), '{');
    const r = migrate('--corpus', dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^corpus:migrate: .*bad\\u000a\\u001b\[31m\.json: [\x20-\x7e]*\n$/);
  });

  it('quotes at most 160 characters of a path, escaped', () => {
    const r = migrate('--corpus', `/${'\u001b'.repeat(10_000)}`);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^corpus:migrate: \/(\\u001b){159}\.\.\.: cannot read \(ENAMETOOLONG\)\n$/);
  });

  it.each([
    ['a file', (d: string) => writeFileSync(join(d, 'x'), '{}')],
    ['a FIFO', (d: string) => execFileSync('mkfifo', [join(d, 'x')])],
  ])('--corpus %s: not a directory, one line, exit 2', (_, make) => {
    const d = mkdtempSync(join(tmpdir(), 'migrate-'));
    make(d);
    const r = migrate('--corpus', join(d, 'x'));
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`corpus:migrate: ${join(d, 'x')}: not a directory\n`);
  });

  it.each([
    [['--corpus', '/dev/null'], /^corpus:migrate: \/dev\/null: not a directory$/],
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
