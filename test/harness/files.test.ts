// Report files: directories made however deep, by several processes at once (verify --jobs N),
// and a file replaced whole or not at all.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDir, mkdirOnce, writeReportAtomic } from '../../harness/files.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'verify-files-'));

describe('ensureDir and mkdirOnce', () => {
  it('makes every missing level', () => {
    const d = join(fresh(), 'a', 'b', 'c');
    ensureDir(d);
    ensureDir(d);
    expect(readdirSync(d)).toEqual([]);
  });

  it('takes a directory another process made first; refuses a file in its place', () => {
    const root = fresh();
    mkdirOnce(root); // made already: a sibling won the race
    const file = join(root, 'f');
    writeFileSync(file, 'x');
    expect(() => mkdirOnce(file)).toThrow(/EEXIST/);
  });
});

describe('writeReportAtomic', () => {
  it('writes under directories it makes, and leaves no temporary file', () => {
    const root = fresh();
    const f = join(root, 'x', 'summary.json');
    writeReportAtomic(f, 'one');
    writeReportAtomic(f, 'two');
    expect(readFileSync(f, 'utf8')).toBe('two');
    expect(readdirSync(join(root, 'x'))).toEqual(['summary.json']);
  });
});
