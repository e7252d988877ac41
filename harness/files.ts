// Writing reports and corpus files: to a temporary file first, then renamed, so a reader
// (or a crash) never sees half a file and nothing already written is lost.
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * mkdir -p, one level at a time: node's recursive mkdir can spin forever on a file system
 * that refuses the directory (procfs), this fails at once.
 */
export function ensureDir(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) mkdirOnce(d);
}

/**
 * mkdir(d), where another process may make it first: `verify --jobs N` starts N children that
 * write under one reports directory, and two of them can both find it missing.
 */
export function mkdirOnce(d: string): void {
  try {
    mkdirSync(d);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(d).isDirectory()) throw e;
  }
}

export function writeReportAtomic(path: string, text: string): void {
  ensureDir(dirname(path));
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
