// Writing reports and corpus files: to a temporary file first, then renamed, so a reader
// (or a crash) never sees half a file and nothing already written is lost. Reading the files
// a user hands in (corpus entries, shard summaries, blobs): regular files only, never more
// than a limit, so a FIFO, a device or a huge file cannot hang the run or exhaust its memory.
import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
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
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    // a full disk or a directory in the file's place: the half-written file goes, not the old one
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** A file that readRegular refused: the message names the file. */
export class FileError extends Error {}

/** How readRegular reads and refuses: the caller's error class (default FileError), and its words for a file past the limit. */
export interface ReadOptions {
  readonly head?: boolean;
  readonly tooBig?: string;
  readonly refuse?: (message: string) => Error;
}

function refuseNonRegular(file: string, kind: string, refuse: (problem: string) => Error): void {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw refuse(code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? 'unknown error'})`);
  }
  if (st.isDirectory()) throw refuse(`is a directory, not ${kind}`);
  if (!st.isFile()) throw refuse(`not a regular file (a FIFO, socket or device), not ${kind}`);
}

/**
 * The bytes of regular file `file`, at most `limit`: a longer file is refused (`tooBig` says
 * why), or with `head` its first `limit` bytes are all that is read. Opened non-blocking, as
 * open(2) of a FIFO waits for a writer, and checked again on the open descriptor, so a file
 * swapped for a FIFO in between cannot hang it; never reads more than one byte past the limit.
 * A refusal is one line naming the file, thrown as `o.refuse` makes it.
 */
export function readRegular(file: string, limit: number, kind: string, o: ReadOptions = {}): Buffer {
  const refuse = (problem: string) => (o.refuse ?? ((m: string) => new FileError(m)))(`${file}: ${problem}`);
  const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? 'unknown error';
  refuseNonRegular(file, kind, refuse);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw refuse(`cannot read (${code(e)})`);
  }
  const buf = Buffer.alloc(o.head ? limit : limit + 1);
  let n = 0;
  try {
    if (!fstatSync(fd).isFile()) throw refuse(`not a regular file, not ${kind}`);
    for (let got = 1; got > 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
  } catch (e) {
    throw e instanceof Error && 'code' in e ? refuse(`cannot read (${code(e)})`) : e;
  } finally {
    closeSync(fd);
  }
  if (n > limit) throw refuse(o.tooBig ?? `larger than ${limit} bytes, the limit for ${kind}`);
  return buf.subarray(0, n);
}
