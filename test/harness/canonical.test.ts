// Tests for harness/canonical.ts's command line: every flag is checked before the minutes of
// search start, a refusal is one line and exit 2 with nothing written, --worker is refused
// outside a child it forked, --help exits 0. No test here starts a search.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, USAGE } from '../../harness/canonical.ts';
import { HelpRequest, UsageError } from '../../harness/cli/args.ts';

const ROOT = join(import.meta.dirname, '../..');
const tmp = () => mkdtempSync(join(tmpdir(), 'canonical-'));

/** The parse of `argv` in a fresh directory (no IPC channel), or the message it refuses it with. */
function refusal(argv: readonly string[], cwd = tmp()): string {
  const before = process.cwd();
  process.chdir(cwd);
  try {
    parse(argv, false);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  } finally {
    process.chdir(before);
  }
  return 'accepted';
}

describe('parse', () => {
  it.each([
    [['--jobs', 'abc'], /^--jobs must be a whole number from 1 to 8, not "abc"$/],
    [['--jobs', '0'], /^--jobs must be a whole number from 1 to 8/],
    [['--jobs', '9'], /^--jobs must be a whole number from 1 to 8/],
    [['--jobs', ''], /^--jobs must be/],
    [['--seeds', '1e1'], /^--seeds must be a whole number from 1 to 1000, not "1e1"$/],
    [['--seeds', '0x10'], /^--seeds must be/],
    [['--seeds', '1001'], /^--seeds must be/],
    [['--seeds', '-1'], /^--seeds needs a value$/],
    [['--kernel', 'constructor'], /^--kernel must be one of v2, .*, not "constructor"$/],
    [['--bug', '__proto__'], /^--bug: no seeded bug "__proto__" \(one of B2, /],
    [['--bug', 'B2,'], /^--bug: no seeded bug ""/],
    [['--json', ''], /^--json needs a file name, not ""$/],
    [['--json', 'out/'], /^--json needs a file name/],
    [['--json', '.'], /^--json needs a file name/],
    [['--json', 'a\nb/'], /^--json needs a file name, not "a\\nb\/"$/],
    [['--worker'], /^--worker is for the child processes canonical starts itself$/],
    [['--nope'], /^unknown option '--nope'$/],
  ])('refuses %j', (argv, message) => {
    expect(refusal(argv)).toMatch(message);
  });

  it('refuses a --json path that is a directory, a device, or under a regular file', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'adir'));
    writeFileSync(join(dir, 'afile'), '');
    expect(refusal(['--json', 'adir'], dir)).toMatch(/^--json "adir" exists and is not a regular file$/);
    expect(refusal(['--json', '/dev/null'], dir)).toMatch(/^--json "\/dev\/null" exists and is not a regular file$/);
    expect(refusal(['--json', 'afile/x.json'], dir)).toMatch(/^--json "afile\/x\.json": \S*afile is not a directory$/);
    expect(readdirSync(dir).sort()).toEqual(['adir', 'afile']);
  });

  it('takes the defaults and checked values', () => {
    const dir = tmp();
    const json = join(dir, 'new', 'c.json');
    expect(parse(['--seeds', '3', '--jobs', '2', '--bug', 'B2,ack-before-fail,B5', '--kernel', 'upstream', '--json', json, '--strict'], false)).toMatchObject({
      seeds: 3,
      jobs: 2,
      bugs: ['ack-before-fail', 'no-early-abort'],
      forced: { name: 'upstream' },
      json,
      strict: true,
    });
    expect(parse(['--json', json], false)).toMatchObject({ seeds: 20, forced: null, strict: false });
  });

  it('--worker is a worker only with the channel to a parent', () => {
    expect(parse(['--worker'], true)).toBe('worker');
  });

  it('--help asks for the usage', () => {
    expect(() => parse(['--help', '--jobs', 'abc'], false)).toThrow(HelpRequest);
  });
});

describe('npm run canonical (child process)', () => {
  // Refused before anything runs; the timeout only bounds a regression that would search.
  const canonical = (cwd: string, ...args: string[]) =>
    spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'harness/canonical.ts'), ...args], { cwd, encoding: 'utf8', timeout: 20_000 });

  it.each([
    [
      'NaN jobs',
      ['--jobs', 'abc', '--bug', 'B2', '--seeds', '1', '--json', 'x.json'],
      /^canonical: --jobs must be a whole number from 1 to 8, not "abc" \(npm run canonical -- --help\)$/,
    ],
    ['an empty --json', ['--json', ''], /^canonical: --json needs a file name, not "" \(npm run canonical -- --help\)$/],
    ['a --worker without a parent', ['--worker'], /^canonical: --worker is for the child processes canonical starts itself/],
  ])('refuses %s in one line, exit 2, writing nothing', (_name, args, message) => {
    const cwd = tmp();
    const r = canonical(cwd, ...args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(message)]);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('--help prints the usage and exits 0', () => {
    const r = canonical(tmp(), '--help');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trimEnd()).toBe(USAGE);
    expect(r.stderr).toBe('');
  });
});
