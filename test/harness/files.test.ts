// Report files: directories made however deep, by several processes at once (verify --jobs N),
// and a file replaced whole or not at all. Files handed in: regular ones only, never past a limit.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDir, FileError, mkdirOnce, readRegular, writeReportAtomic } from '../../harness/files.ts';

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
  it('a rename that fails (a directory in the way) throws and leaves no temporary file behind', () => {
    const root = fresh();
    mkdirSync(join(root, 'summary.json'));
    expect(() => writeReportAtomic(join(root, 'summary.json'), 'one')).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(root)).toEqual(['summary.json']);
  });
});

describe('readRegular', () => {
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(FileError);
      return (e as Error).message;
    }
    throw new Error('read');
  };

  it('reads a file up to its limit, or only its head', () => {
    const f = join(fresh(), 'f');
    writeFileSync(f, 'abcdef');
    expect(readRegular(f, 6, 'a test file').toString()).toBe('abcdef');
    expect(readRegular(f, 4, 'a test file', { head: true }).toString()).toBe('abcd');
  });

  it.each([
    ['a missing file', (f: string) => f, 'no such file'],
    [
      'a directory',
      (f: string) => {
        mkdirSync(f);
        return f;
      },
      'is a directory, not a test file',
    ],
    [
      'a FIFO, without waiting for a writer',
      (f: string) => {
        execFileSync('mkfifo', [f]);
        return f;
      },
      'not a regular file (a FIFO, socket or device), not a test file',
    ],
    ['/dev/zero', () => '/dev/zero', 'not a regular file (a FIFO, socket or device), not a test file'],
    [
      'a file past the limit',
      (f: string) => {
        writeFileSync(f, 'abcdefg');
        return f;
      },
      'larger than 6 bytes, the limit for a test file',
    ],
  ])('refuses %s with one line naming it', (_name, make, message) => {
    const f = make(join(fresh(), 'x'));
    expect(refusal(() => readRegular(f, 6, 'a test file'))).toBe(`${f}: ${message}`);
  });

  it('says what the caller says of a file past the limit', () => {
    const f = join(fresh(), 'f');
    writeFileSync(f, 'abcdefg');
    expect(refusal(() => readRegular(f, 6, 'a blob', { tooBig: 'larger than any blob' }))).toBe(`${f}: larger than any blob`);
  });
});
