import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** The CLI as `npm run verify --` runs it, in the repository, never writing test/corpus (tests pass --corpus). */
function verify(...args: string[]) {
  const r = spawnSync(process.execPath, ['harness/cli.mjs', ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `verify-${name}-`));
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const summary = (dir: string) => json(join(dir, 'summary.json'));
const withoutTimes = (s: { properties: { ms: number }[] }) => ({ ...s, properties: s.properties.map((p) => ({ ...p, ms: 0 })) });
const oneLine = (err: string) => err.trimEnd().split('\n');
const NO_STACK = /at .*\.(ts|js):\d+/;

describe('npm run verify', () => {
  it('--list names every property, invariant, seeded fault and kernel revision', () => {
    const r = verify('--list');
    expect(r.code).toBe(0);
    for (const s of ['update-contract', 'concurrency', 'I-5', 'I-25', 'linearizability', 'B2', 'ack-before-fail', 'refinement', 'v2'])
      expect(r.out).toContain(s);
  });

  it.each(['--help', '-h'])('%s prints the options and exits 0', (flag) => {
    const r = verify(flag);
    expect(r.out).toContain('--time-limit S');
    expect(r.code).toBe(0);
    expect(r.out).toContain('usage: npm run verify --');
  });

  it.each([
    ['--nope'],
    ['--budget', 'huge'],
    ['--cpus', '0'],
    ['--cpus', '300'],
    ['--seed', 'x'],
    ['--property', 'nope'],
    ['--fault', 'B99'],
    ['--kernel', 'v7'],
    ['--shard', '3/2'],
    ['--shard', 'x'],
    ['stray'],
    ['--replay', 'x.json', '--seed', '1'],
    ['--merge'],
    ['--corpus', 'd', '--no-corpus'],
    ['--time-limit', '-1'],
    ['--seed', '-1'],
    ['--budget', 'constructor'],
    ['--budget', '__proto__'],
    ['--reports='],
    ['--merge', 'x.json', '--seed', '1'],
    ['--path', '999999:999999', '--seed', '1', '--property', 'corrupt-images'],
  ])('bad usage %s: exit 2, one line, no stack trace', (...args) => {
    const r = verify(...args);
    expect(r.code).toBe(2);
    expect(oneLine(r.err)).toHaveLength(1);
    expect(r.err).toMatch(/^verify: .*\(npm run verify -- --help\)\n$/);
    expect(r.err).not.toMatch(NO_STACK);
  });

  it("the old revision name 'seed' is a usage error that names v2", () => {
    const r = verify('--kernel', 'seed');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/'seed' is now called 'v2'/);
  });

  it('the same seed writes the same summary, apart from timings', () => {
    const a = tmp('a'),
      b = tmp('b'),
      c = tmp('c');
    expect(verify('--property', 'firmware-faults,corrupt-images', '--seed', '7', '--reports', a, '--corpus', c).code).toBe(0);
    expect(verify('--property', 'firmware-faults,corrupt-images', '--seed', '7', '--reports', b, '--corpus', c).code).toBe(0);
    expect(withoutTimes(summary(a))).toEqual(withoutTimes(summary(b)));
    expect(summary(a)).toMatchObject({ kernel: 'v2', budget: 'quick', seed: 7, status: 'holds', exit: 0 });
    expect(summary(a).properties[0]).toMatchObject({ id: 'firmware-faults', status: 'holds', runs: 100, commands: expect.any(Number), ms: expect.any(Number) });
    expect(readdirSync(c)).toEqual([]);
  });

  it('a seeded fault: exit 1, a timeline counterexample, one corpus file, a replay line that reproduces it, reports', () => {
    const dir = tmp('f'),
      corpus = tmp('corpus');
    const r = verify('--fault', 'B2', '--reports', dir, '--corpus', corpus);
    expect(r.code).toBe(1);
    expect(r.out).toContain('timeline:');
    expect(r.out).toMatch(/ {4}1\. upload\(/);
    expect(r.out).toMatch(/violated I-5 at step \d+/);
    expect(readdirSync(corpus)).toHaveLength(1);
    const file = join(corpus, readdirSync(corpus)[0]!);
    expect(readdirSync(corpus)[0]).toMatch(/^update-contract-[0-9a-f]{12}\.json$/);
    expect(json(file)).toMatchObject({ format: 2, kernel: 'v2', bug: 'ack-before-fail', expect: { violation: 'I-5' }, version: expect.any(String) });
    const replay = r.out.match(/ {2}replay: npm run verify -- (.*)/)![1]!;
    expect(replay).toBe(`--replay ${file}`);

    const again = verify(...replay.split(' '), '--reports', dir);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/violated I-5/);
    expect(again.out).toContain('reproduced: I-5 as recorded');
    expect(readdirSync(corpus)).toHaveLength(1);
    expect(verify('--replay', file, '--fault', 'none', '--reports', tmp('n')).code).toBe(0);

    const s = summary(dir);
    expect(s.properties[0]).toMatchObject({ status: 'fails', counterexample: { violation: { id: 'I-5' } } });
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase classname="verify\.v2" name="update-contract"/);
    expect(junit).toContain(`<failure message="I-5: `);
    expect(junit).toContain(`replay: npm run verify -- --replay ${file}`);
    expect(existsSync(s.counterexamples[0].html)).toBe(true);

    // found again (another seed, same canonical counterexample): nothing new in the corpus
    const third = verify('--fault', 'B2', '--seed', '5', '--reports', tmp('g'), '--corpus', corpus);
    expect(third.code).toBe(1);
    expect(third.out).toContain('already in the regression corpus');
    expect(readdirSync(corpus)).toHaveLength(1);

    // fast-check's own seed + path still replays
    const fcLine = r.out.match(/replay fast-check's run: npm run verify -- (.*)/)![1]!;
    const byPath = verify(...fcLine.split(' '), '--reports', tmp('p'), '--corpus', corpus);
    expect(byPath.code).toBe(1);
    expect(byPath.out).toMatch(/violated I-5/);
  });

  describe('bad corpus input: one line naming the file and the field, exit 2, nothing else touched', () => {
    const corpus = tmp('bad');
    const good = join(corpus, 'update-contract-000000000000.json');
    const base = {
      format: 2,
      tool: 'tdx-update-verify',
      version: '0.1.0',
      property: 'update-contract',
      kernel: 'v2',
      bug: null,
      expect: { violation: 'I-5' },
      scenario: {
        host: { nrCpus: 1, boot: { release: '1.5.01', moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots: 1, debugUnlocked: false },
        commands: [{ kind: 'read_version' }],
        schedule: [],
      },
    };
    writeFileSync(good, JSON.stringify(base));
    const cases: [string, string, RegExp][] = [
      ['truncated', JSON.stringify(base).slice(0, 40), /\(whole file\): not JSON or truncated/],
      ['not JSON', 'this is not json', /\(whole file\): not JSON/],
      [
        'schema',
        JSON.stringify({ ...base, scenario: { ...base.scenario, host: { ...base.scenario.host, nrCpus: 'four' } } }),
        /: scenario\.host\.nrCpus: expected a whole number/,
      ],
      ['out of date', JSON.stringify({ ...base, format: 0 }), /: format: format 0 is out of date/],
      ['unknown kernel', JSON.stringify({ ...base, kernel: 'v99' }), /: kernel: "v99" is not an emulated kernel revision/],
      // --replay prints the recorded id: terminal control sequences in it would reach the terminal
      [
        'unknown check',
        JSON.stringify({ ...base, expect: { violation: '\u001b]0;pwned\u0007\u001b[2J' } }),
        /: expect\.violation: expected the id of a check: an invariant \(I-N\), a model check, typeOk or crash/,
      ],
      ['control characters in a field name', JSON.stringify({ ...base, '\u001b[31mX': 1 }), /: \\u001b\[31mX: unknown field/],
    ];
    it.each(cases)('%s', (name, text, re) => {
      const file = join(corpus, `${name.replace(/ /g, '-')}.json`);
      writeFileSync(file, text);
      const before = statSync(good).mtimeMs,
        reports = join(tmp('r'), 'reports');
      const r = verify('--replay', file, '--reports', reports);
      expect(r.code).toBe(2);
      expect(oneLine(r.err)).toHaveLength(1);
      expect(r.err).toContain(`verify: ${file}`);
      expect(r.err).toMatch(re);
      expect(r.err).not.toMatch(NO_STACK);
      expect(existsSync(reports)).toBe(false);
      expect(statSync(good).mtimeMs).toBe(before);
      expect(readFileSync(file, 'utf8')).toBe(text);
    });

    it('a bad entry in the corpus a run records into stops the run before it writes anything', () => {
      const dir = tmp('bc'),
        reports = join(dir, 'reports');
      writeFileSync(join(dir, 'update-contract-111111111111.json'), JSON.stringify({ ...base, bug: 'B99' }));
      const r = verify('--property', 'corrupt-images', '--corpus', dir, '--reports', reports);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^verify: .*update-contract-111111111111\.json: bug: "B99" is not a seeded bug .*\n$/);
      expect(r.out).toBe('');
      expect(existsSync(reports)).toBe(false);
      expect(readdirSync(dir)).toEqual(['update-contract-111111111111.json']);
    });

    it('a missing file', () => {
      const r = verify('--replay', join(corpus, 'nope.json'), '--reports', join(corpus, 'reports'));
      expect(r.code).toBe(2);
      expect(r.err).toBe(`verify: ${join(corpus, 'nope.json')}: no such file\n`);
      expect(existsSync(join(corpus, 'reports'))).toBe(false);
    });
  });

  it('a reports directory that cannot take the reports is refused before the run, leaving nothing behind', () => {
    const dir = tmp('rd');
    mkdirSync(join(dir, 'blocked', 'summary.json'), { recursive: true });
    symlinkSync('loop-b', join(dir, 'loop-a'));
    symlinkSync('loop-a', join(dir, 'loop-b'));
    for (const [reports, why] of [
      [join(dir, 'blocked'), 'summary.json there is a directory, not a file'],
      [join(dir, 'loop-a'), 'cannot write there (ELOOP)'],
    ]) {
      const r = verify('--property', 'concurrency', '--no-corpus', '--reports', reports!);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toBe(`verify: --reports ${reports}: ${why} (npm run verify -- --help)\n`);
    }
    expect(readdirSync(join(dir, 'blocked'))).toEqual(['summary.json']);
  });

  it("the exhaustive scheduler stops one scenario's schedules at the time limit (64 CPUs: hours of them), not only between scenarios", () => {
    const dir = tmp('xtl');
    const r = verify(
      '--scheduler',
      'exhaustive',
      '--cpus',
      '64',
      '--property',
      'update-contract',
      '--time-limit',
      '1',
      '--no-corpus',
      '--reports',
      dir,
      '--progress',
      '0',
    );
    expect(r.code, r.err).toBe(0);
    const s = summary(dir);
    expect(s.properties[0].status).toBe('exhausted');
    expect(s.exploration.capped).toBeGreaterThan(0);
  }, 60_000);

  it('an exhausted time budget: exit 0 and said; with --require-runs exit 3', () => {
    const dir = tmp('t'),
      corpus = tmp('tc');
    const r = verify('--property', 'corrupt-images', '--budget', 'deep', '--time-limit', '0', '--reports', dir, '--corpus', corpus);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/corrupt-images: the time budget ran out after \d+ of 3000 runs; no counterexample/);
    expect(summary(dir)).toMatchObject({ status: 'exhausted', exit: 0, properties: [{ status: 'exhausted' }] });
    const strict = verify('--property', 'corrupt-images', '--budget', 'deep', '--time-limit', '0', '--require-runs', '--reports', dir, '--corpus', corpus);
    expect(strict.code).toBe(3);
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain('<skipped message="time budget ran out');
  });

  it('--shard i/n splits the runs; --merge adds the shards up into one report', () => {
    const dir = tmp('s'),
      corpus = tmp('sc');
    const args = ['--property', 'firmware-faults,corrupt-images', '--seed', '9', '--reports', dir, '--corpus', corpus];
    expect(verify(...args, '--shard', '1/2').code).toBe(0);
    expect(verify(...args, '--shard', '2/2').code).toBe(0);
    const shards = ['shard-1-of-2.json', 'shard-2-of-2.json'].map((f) => join(dir, 'shards', f));
    const [a, b] = shards.map(json);
    expect(a.properties.map((p: { seed: number }) => p.seed)).toEqual([9, 10]);
    expect(b.properties.map((p: { seed: number }) => p.seed)).toEqual([10, 9]);
    const m = verify('--merge', ...shards, '--reports', dir, '--corpus', corpus);
    expect(m.code).toBe(0);
    expect(summary(dir)).toMatchObject({
      status: 'holds',
      merged: shards,
      properties: [
        { id: 'firmware-faults', runs: 100, requested: 100 },
        { id: 'corrupt-images', runs: 100 },
      ],
    });
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8').match(/<testcase /g)).toHaveLength(2);

    const one = tmp('s1');
    expect(verify(...args.slice(0, 4), '--reports', one, '--corpus', corpus, '--shard', '1/1').code).toBe(0);
    const whole = tmp('w');
    expect(verify(...args.slice(0, 4), '--reports', whole, '--corpus', corpus).code).toBe(0);
    const strip = (s: { properties: { id: string; runs: number; commands: number }[] }) => s.properties.map((p) => [p.id, p.runs, p.commands]);
    expect(strip(json(join(one, 'shards', 'shard-1-of-1.json')))).toEqual(strip(summary(whole)));

    expect(verify('--merge', shards[0]!, '--reports', tmp('m')).code).toBe(2);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"tool":');
    const bad = verify('--merge', shards[0]!, broken, '--reports', tmp('m'));
    expect(bad.code).toBe(2);
    expect(bad.err).toBe(`verify: ${broken}: (whole file): not JSON or truncated (Unexpected end of JSON input)\n`);
  });

  it('Ctrl-C stops cleanly: reports written, exit 130; progress lines while it runs', async () => {
    const dir = tmp('i'),
      corpus = tmp('ic');
    const child = spawn(
      process.execPath,
      ['harness/cli.mjs', '--property', 'corrupt-images', '--budget', 'deep', '--progress', '0.3', '--reports', dir, '--corpus', corpus],
      { cwd: ROOT },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (/progress: \d+\/3000 runs/.test(out) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(out).toMatch(/progress: \d+\/3000 runs \(\d+%\), \d+ commands\/s, 0 failures, ETA/);
    expect(code).toBe(130);
    expect(summary(dir)).toMatchObject({ status: 'interrupted', exit: 130, properties: [{ id: 'corrupt-images', status: 'interrupted' }] });
    expect(summary(dir).properties[0].runs).toBeLessThan(3000);
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain('type="interrupted"');
  }, 60_000);
});
