import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function verify(...args: string[]) {
  const r = spawnSync('npx', ['tsx', 'harness/cli.ts', ...args], { encoding: 'utf8', cwd: join(import.meta.dirname, '../..') });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const summary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
const withoutTimes = (s: { properties: { ms: number }[] }) => ({ ...s, properties: s.properties.map((p) => ({ ...p, ms: 0 })) });

describe('npm run verify', () => {
  it('--list names every property, invariant and seeded fault', () => {
    const r = verify('--list');
    expect(r.code).toBe(0);
    for (const s of ['update-contract', 'concurrency', 'I-5', 'I-24', 'B2', 'ack-before-fail', 'refinement']) expect(r.out).toContain(s);
  });

  it.each([['--nope'], ['--budget', 'huge'], ['--cpus', '0'], ['--cpus', '300'], ['--seed', 'x'], ['--property', 'nope'], ['--fault', 'B99'], ['--kernel', 'v7']])(
    'bad usage %s exits 2 with one line and the usage',
    (...args) => {
      const r = verify(...args);
      expect(r.code).toBe(2);
      expect(r.err.split('\n')[0]).toMatch(/^verify: /);
      expect(r.err).toContain('usage:');
      expect(r.err).not.toMatch(/at .*\.ts:\d+/);
    },
  );

  it('the same seed writes the same summary, apart from timings', () => {
    const a = mkdtempSync(join(tmpdir(), 'verify-a-')), b = mkdtempSync(join(tmpdir(), 'verify-b-'));
    expect(verify('--property', 'concurrency,corrupt-images', '--seed', '7', '--reports', a).code).toBe(0);
    expect(verify('--property', 'concurrency,corrupt-images', '--seed', '7', '--reports', b).code).toBe(0);
    expect(withoutTimes(summary(a))).toEqual(withoutTimes(summary(b)));
    expect(summary(a)).toMatchObject({ kernel: 'seed', budget: 'quick', seed: 7 });
  });

  it('a seeded fault exits 1 with a timeline counterexample and a replay line that reproduces it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-f-'));
    const r = verify('--fault', 'B2', '--reports', dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain('timeline:');
    expect(r.out).toMatch(/violated I-5/);
    const replay = r.out.match(/replay: npm run verify -- (.*)/)![1]!.split(' ');
    const again = verify(...replay, '--reports', dir);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/violated I-5/);
    expect(summary(dir).properties[0]).toMatchObject({ status: 'fails', counterexample: { violation: { id: 'I-5' } } });
  });
});
