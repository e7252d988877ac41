// `npm run select`: which TDX module the operator's policy (impl/userspace/policy.ts, spec
// §3.5) would load on a platform, with every candidate's verdict per rule and why it is not
// loadable. `--batch FILE` judges one JSON case per line, for differential testing.
//
// Exit codes: 0 a selection was printed (also when nothing is loadable: that is an answer);
// 2 bad usage or bad input (a version, CPU, mapping file, blob directory or batch line), one
// line on stderr, nothing on stdout. The line quotes no more than a prefix of the input and
// escapes every character outside printable ASCII (schema.ts printable): a bad value must not
// flood the terminal, send it escape sequences or break the line.
//
// A mapping file lists each release once and at most MAX_RELEASES of them, each with at most
// MAX_SEAMLDR_VERSIONS P-SEAMLDR versions: a version listed twice is two verdicts on one module
// (which holds depends on the order), every release is a row of the table and a candidate of
// every batch case, and a reason names every P-SEAMLDR version its release needs.
import { readdirSync, writeSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTdxVersion, selectModule, type MappingEntry, type ModuleFacts, type PlatformFacts, type Selection } from '../impl/userspace/policy.ts';
import { BLOB_SIGSTRUCT_OFFSET, SIGSTRUCT_SIZE, sigstructFacts } from '../impl/userspace/sigstruct_facts.ts';
import { MAPPING, MAPPING_FILE, MappingError, parseMapping, RELEASE_FACTS } from '../properties/releases.ts';
import { readRegular } from './files.ts';
import { argvError, clipped, printable, show } from './schema.ts';

const USAGE = `usage: npm run select -- --current VERSION --seamldr VERSION --cpu CPUID [--mapping FILE] [--blobs DIR] [--allow-debug] [--json]
       npm run select -- --batch FILE [--mapping FILE] [--blobs DIR]`;

/** Bad usage or input: one line, exit 2. */
class SelectError extends Error {}

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

/** Input files are small (the mapping is 2 KiB, a 10,000-case batch about 1 MiB): a cap keeps memory bounded. */
const MAX_INPUT_BYTES = 64 << 20;
const BLOB_FILE = /^tdx_module_(\d+\.\d+\.\d+)\.blob$/;
/** Intel's mapping file lists 11 releases after four years of them; 256 is decades more. */
const MAX_RELEASES = 256;
/** Intel's releases each name one or two P-SEAMLDR versions (one per P-SEAMLDR major.minor). */
const MAX_SEAMLDR_VERSIONS = 16;

function version(flag: string, v: unknown): string {
  if (typeof v !== 'string' || parseTdxVersion(v) === null) throw new SelectError(`${flag} must be a version like 1.5.06, not ${show(v ?? null)}`);
  return v;
}

/** CPUID(1).EAX, hex (0x806f8) or decimal, 32 bits. */
function cpuid(flag: string, v: unknown): number {
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || !/^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(s) || Number(s) > 0xffffffff)
    throw new SelectError(`${flag} must be a CPUID(1).EAX value like 0x806f8, not ${show(v ?? null)}`);
  return Number(s);
}

function readInput(file: string, what: string): string {
  const kind = what === '--batch' ? 'a batch file' : 'a mapping file';
  const tooBig = `more than the ${MAX_INPUT_BYTES >> 20} MiB allowed`;
  // readRegular's message starts with the file's name, which may be any length
  const refuse = (m: string) => new SelectError(`${what} ${clipped(file)}${m.slice(file.length)}`);
  return readRegular(file, MAX_INPUT_BYTES, kind, { tooBig, refuse }).toString('utf8');
}

/** What makes a parsed mapping too big or ambiguous (see the top of this file); null: nothing. */
function mappingProblem(releases: readonly MappingEntry[]): string | null {
  if (releases.length > MAX_RELEASES) return `${releases.length} releases, more than the ${MAX_RELEASES} allowed`;
  const first = new Map<string, number>();
  for (const [i, r] of releases.entries()) {
    const j = first.get(r.version);
    if (j !== undefined) return `tdx_module_releases[${i}] lists ${r.version} again (first at [${j}])`;
    first.set(r.version, i);
    const n = r.minSeamldrVersions.length;
    if (n > MAX_SEAMLDR_VERSIONS) return `tdx_module_releases[${i}].min_seamldr_versions: ${n} versions, more than the ${MAX_SEAMLDR_VERSIONS} allowed`;
  }
  return null;
}

function loadMapping(file: string | undefined): readonly MappingEntry[] {
  if (file === undefined) return MAPPING;
  let releases: readonly MappingEntry[];
  try {
    releases = parseMapping(readInput(file, '--mapping'));
  } catch (e) {
    if (e instanceof MappingError) throw new SelectError(`--mapping ${clipped(file)}: ${e.message}`);
    throw e;
  }
  const problem = mappingProblem(releases);
  if (problem !== null) throw new SelectError(`--mapping ${clipped(file)}: ${problem}`);
  return releases;
}

/** The sigstruct of a blob: only its first pages are read, whatever the file's size. */
function blobHead(file: string): Uint8Array {
  return readRegular(file, BLOB_SIGSTRUCT_OFFSET + SIGSTRUCT_SIZE, 'a TDX module blob', {
    head: true,
    refuse: (m) => new SelectError(`--blobs: ${clipped(file)}${m.slice(file.length)}`),
  });
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (e) {
    throw new SelectError(`--blobs: ${clipped(dir)}: cannot list (${(e as NodeJS.ErrnoException).code})`);
  }
}

/** Module facts from DIR/joined_files/<family>/tdx_module_<version>.blob (a checkout of intel/tdx-module-binaries). */
function loadBlobs(dir: string): ModuleFacts[] {
  const root = join(dir, 'joined_files');
  let families: string[];
  try {
    families = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    throw new SelectError(`--blobs ${clipped(dir)}: no joined_files directory (expected a checkout of intel/tdx-module-binaries)`);
  }
  const facts: ModuleFacts[] = [];
  for (const fam of families) {
    for (const name of listDir(join(root, fam))) {
      const m = BLOB_FILE.exec(name);
      if (!m || parseTdxVersion(m[1]!) === null) continue;
      const file = join(root, fam, name);
      const f = sigstructFacts(m[1]!, blobHead(file));
      if (typeof f === 'string') throw new SelectError(`--blobs: ${clipped(file)}: ${f}`);
      facts.push(f);
    }
  }
  if (facts.length === 0) throw new SelectError(`--blobs ${clipped(dir)}: no joined_files/*/tdx_module_*.blob`);
  return facts;
}

const CASE_KEYS = new Set(['current', 'seamldr', 'cpu', 'allowDebug']);

function batchCase(line: string, where: string): PlatformFacts {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new SelectError(`${where}: not JSON`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new SelectError(`${where}: not a JSON object`);
  const c = o as Record<string, unknown>;
  const extra = Object.keys(c).find((k) => !CASE_KEYS.has(k));
  if (extra !== undefined) throw new SelectError(`${where}: unknown field '${clipped(extra)}' (fields: current, seamldr, cpu, allowDebug)`);
  if (c['allowDebug'] !== undefined && typeof c['allowDebug'] !== 'boolean') throw new SelectError(`${where}: allowDebug must be true or false`);
  return {
    current: version(`${where}: current`, c['current']),
    seamldr: version(`${where}: seamldr`, c['seamldr']),
    cpu: cpuid(`${where}: cpu`, c['cpu']),
    allowDebug: c['allowDebug'] === true,
  };
}

function readBatch(file: string): PlatformFacts[] {
  const lines = readInput(file, '--batch').split('\n');
  const cases: PlatformFacts[] = [];
  lines.forEach((line, i) => {
    if (line.trim() !== '') cases.push(batchCase(line, `--batch ${clipped(file)}:${i + 1}`));
  });
  return cases;
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');
const okNo = (b: boolean) => (b ? 'ok' : 'no');

function table(rows: string[][]): string[] {
  // not Math.max(...column): a spread passes every row as an argument, and the stack holds only so many
  const widths = rows[0]!.map((_, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), 0));
  return rows.map(
    (r) =>
      '  ' +
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
  );
}

function formatSelection(p: PlatformFacts, s: Selection, sources: string): string {
  const rows = [['candidate', 'P-SEAMLDR', 'CPU', 'debug', 'TD-preserving', 'loadable', 'why not']];
  for (const c of s.candidates)
    rows.push([c.version, okNo(c.seamldrOk), okNo(c.cpuOk), yesNo(c.debug), yesNo(c.tdPreserving), yesNo(c.loadable), c.reasons.join('; ')]);
  return (
    [
      `running ${p.current} on P-SEAMLDR ${p.seamldr}, CPU 0x${p.cpu.toString(16)}${p.allowDebug ? ', debug modules allowed' : ''} (${sources})`,
      ...table(rows),
      s.choice === null ? 'choice: none (no release is loadable: nothing would be written)' : `choice: ${s.choice}`,
    ].join('\n') + '\n'
  );
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        current: { type: 'string' },
        seamldr: { type: 'string' },
        cpu: { type: 'string' },
        mapping: { type: 'string' },
        blobs: { type: 'string' },
        'allow-debug': { type: 'boolean' },
        json: { type: 'boolean' },
        batch: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (e) {
    throw new SelectError(clipped(argvError(e))); // it quotes the argument, whatever its length
  }
}

function run(argv: string[], io: Io): void {
  const a = parse(argv);
  if (a.help) {
    io.out(USAGE + '\n');
    return;
  }
  if (a.batch !== undefined && (a.current ?? a.seamldr ?? a.cpu ?? a['allow-debug'] ?? a.json) !== undefined) {
    throw new SelectError('--batch takes its cases from the file: no --current, --seamldr, --cpu, --allow-debug or --json');
  }
  const mapping = loadMapping(a.mapping);
  const facts = a.blobs === undefined ? RELEASE_FACTS : loadBlobs(a.blobs);
  if (a.batch !== undefined) {
    runBatch(readBatch(a.batch), mapping, facts, io);
    return;
  }
  const p: PlatformFacts = {
    current: version('--current', a.current),
    seamldr: version('--seamldr', a.seamldr),
    cpu: cpuid('--cpu', a.cpu),
    allowDebug: a['allow-debug'] ?? false,
  };
  const s = selectModule(p, mapping, facts);
  const sources = `mapping: ${a.mapping ?? relative(process.cwd(), MAPPING_FILE)}; module facts: ${a.blobs === undefined ? 'properties/releases.ts' : `${a.blobs} sigstructs`}`;
  io.out(a.json ? JSON.stringify(s) + '\n' : formatSelection(p, s, sources));
}

/** One JSON result per line, written in chunks so 10,000 cases never build one big string. */
function runBatch(cases: readonly PlatformFacts[], mapping: readonly MappingEntry[], facts: readonly ModuleFacts[], io: Io): void {
  const CHUNK = 1000;
  for (let i = 0; i < cases.length; i += CHUNK) {
    io.out(
      cases
        .slice(i, i + CHUNK)
        .map((p) => JSON.stringify(selectModule(p, mapping, facts)) + '\n')
        .join(''),
    );
  }
}

/** The CLI as a function: its exit code; output and the one error line go through `io`. */
export function main(argv: string[], io: Io): number {
  try {
    run(argv, io);
    return 0;
  } catch (e) {
    if (!(e instanceof SelectError)) throw e;
    // node's messages (parseArgs, JSON.parse) quote the input as it is
    io.err(`select: ${printable(e.message)} (npm run select -- --help)\n`);
    return 2;
  }
}

/**
 * Standard output written as it is produced, waiting for the reader: process.stdout queues what
 * a pipe has not taken yet, and a million-case batch (2.4 GB of results) piped to a slower
 * reader grew that queue to gigabytes and ended in ENOBUFS. A reader that has gone (EPIPE) ends
 * the output, not the run.
 */
function writeOut(s: string): void {
  const b = Buffer.from(s);
  for (let at = 0; at < b.length; ) {
    try {
      at += writeSync(1, b, at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw e;
    }
  }
}

if (resolve(process.argv[1] ?? '') === import.meta.filename) {
  process.exitCode = main(process.argv.slice(2), { out: writeOut, err: (s) => process.stderr.write(s) });
}
