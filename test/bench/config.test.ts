// Tests for bench/config.ts's command line: --reports and --only are checked before the minutes
// of measurement start, a refusal is one line and exit 2, --help exits 0. No test here measures.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FULL, parseCli, SMOKE, USAGE } from '../../bench/config.ts';
import { HelpRequest, UsageError } from '../../harness/cli/args.ts';

const ROOT = join(import.meta.dirname, '../..');
const tmp = () => mkdtempSync(join(tmpdir(), 'bench-config-'));

function refusal(argv: readonly string[]): string {
  try {
    parseCli(argv);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  return 'accepted';
}

describe('parseCli', () => {
  it('refuses an empty --reports, which would put the reports at the root', () => {
    expect(refusal(['--reports', ''])).toBe('--reports needs a directory name');
  });

  it('refuses a --reports that is a file, or under one', () => {
    const file = join(tmp(), 'afile');
    writeFileSync(file, '');
    expect(refusal(['--reports', file])).toMatch(/^--reports .*afile: .*afile is not a directory$/);
    expect(refusal(['--reports', join(file, 'sub')])).toMatch(/^--reports .*sub: .*afile is not a directory$/);
  });

  it("refuses a --reports where one of the run's reports is a directory", () => {
    const dir = tmp();
    mkdirSync(join(dir, 'bench.md'));
    expect(refusal(['--reports', dir])).toMatch(/bench\.md there is a directory/);
    // the smoke run writes other files
    expect(parseCli(['--reports', dir, '--smoke']).cfg).toBe(SMOKE);
  });

  it('refuses an unknown --only section, naming the sections', () => {
    expect(refusal(['--only', 'scaling,constructor'])).toMatch(/^--only: no section "constructor" \(one of throughput, profile, /);
  });

  it('takes a missing --reports directory (made when the reports are written, not now) and the sections', () => {
    const dir = join(tmp(), 'new', 'reports');
    const cli = parseCli(['--reports', dir, '--only', 'memory,states', '--json']);
    expect(cli).toMatchObject({ cfg: FULL, json: true, reports: dir });
    expect([...cli.only]).toEqual(['memory', 'states']);
    expect(existsSync(dir)).toBe(false);
  });

  it('--help asks for the usage', () => {
    expect(() => parseCli(['--help', '--reports', ''])).toThrow(HelpRequest);
  });
});

describe('npm run bench (child process)', () => {
  // Refused before anything runs; the timeout only bounds a regression that would measure.
  const bench = (...args: string[]) =>
    spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'bench/main.ts'), ...args], { cwd: tmp(), encoding: 'utf8', timeout: 20_000 });

  it('--help prints the usage and exits 0', () => {
    const r = bench('--help');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trimEnd()).toBe(USAGE);
    expect(r.stderr).toBe('');
  });

  it('refuses bad usage in one line, exit 2', () => {
    const r = bench('--reports');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual(['bench: --reports needs a value (npm run bench -- --help)']);
  });

  it('an unknown flag of any length or bytes is one printable line of at most 1,000 characters', () => {
    const r = bench(`--${'x'.repeat(100_000)}\u001b[2J`);
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^bench: unknown option '--x+\.\.\.$/);
    expect(lines[0]!.length).toBe(1000);
  });
});
