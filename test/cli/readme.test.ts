// The README's examples are true: each code block marked with a line `<!-- example -->` just
// above it, whose first line is `$ npm run ...`, is run in a scratch copy of the repository
// (so what it records stays there) and its stdout compared with the rest of the block.
// Timings are masked, trailing spaces ignored, and a line that is only `...` (indented or not)
// stands for any number of lines.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.ts';

interface Example {
  readonly line: number;
  readonly command: string;
  readonly expected: readonly string[];
}

/** The marked blocks of a markdown text. */
function examples(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const found: Example[] = [];
  lines.forEach((l, i) => {
    if (l.trim() !== '<!-- example -->' || !/^```/.test(lines[i + 1] ?? '')) return;
    const end = lines.findIndex((x, j) => j > i + 1 && /^```\s*$/.test(x));
    const body = lines.slice(i + 2, end < 0 ? lines.length : end);
    if (body[0]?.startsWith('$ npm run ')) found.push({ line: i + 3, command: body[0].slice(2), expected: body.slice(1) });
  });
  return found;
}

const mask = (l: string) => l.replace(/\b\d+\.\d+s\b/g, '#.#s').trimEnd();
const isGap = (l: string) => l.trim() === '...';

/** Whether `actual` matches `expected`, where a `...` line matches any run of lines. */
function matches(expected: readonly string[], actual: readonly string[]): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    if (memo.has(key)) return memo.get(key)!;
    let ok: boolean;
    if (i === expected.length) ok = j === actual.length;
    else if (isGap(expected[i]!)) ok = go(i + 1, j) || (j < actual.length && go(i, j + 1));
    else ok = j < actual.length && mask(expected[i]!) === mask(actual[j]!) && go(i + 1, j + 1);
    memo.set(key, ok);
    return ok;
  };
  return go(0, 0);
}

/** A copy of the repository's tracked files, with its node_modules linked in. */
function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'verify-readme-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  execFileSync('sh', ['-c', 'tar -cf - --null -T - | tar -xf - -C "$0"', dir], { cwd: ROOT, input: files });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

describe('matching an example', () => {
  it('masks timings, and `...` stands for any lines', () => {
    expect(matches(['a 1.5s', '  ...', 'z'], ['a 12.0s', 'b', 'c', 'z'])).toBe(true);
    expect(matches(['a', '...', 'z'], ['a', 'z'])).toBe(true);
    expect(matches(['a', 'z'], ['a', 'b', 'z'])).toBe(false);
    expect(matches(['a 9 runs'], ['a 11 runs'])).toBe(false);
  });

  it('finds the marked blocks only', () => {
    const md = ['```', '$ npm run verify', 'x', '```', '<!-- example -->', '```', '$ npm run verify -- --list', 'y', '...', '```'].join('\n');
    expect(examples(md)).toEqual([{ line: 7, command: 'npm run verify -- --list', expected: ['y', '...'] }]);
  });
});

const marked = examples(readFileSync(join(ROOT, 'README.md'), 'utf8'));

if (marked.length === 0) {
  it.skip('README examples (skipped: no block of README.md is marked <!-- example --> yet; see test/cli/readme.test.ts)', () => {});
} else {
  describe('README examples', () => {
    it.each(marked.map((e) => [`README.md:${e.line} ${e.command}`, e] as const))('%s', (_, e) => {
      const dir = scratchCopy();
      const args = e.command.replace(/^npm run /, '').split(/\s+/);
      const r = spawnSync('npm', ['run', '--silent', ...args], { cwd: dir, encoding: 'utf8' });
      const actual = r.stdout.replace(/\n$/, '').split('\n');
      if (!matches(e.expected, actual)) expect(actual.map(mask).join('\n')).toBe(e.expected.map(mask).join('\n'));
    });
  });
}
