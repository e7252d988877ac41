// The regression corpus: every counterexample `verify` finds, stored as data (the scenario,
// the kernel revision by name, the seeded bug if any, the violation it showed), so it replays
// without fast-check after generators change. One file per counterexample, named
// `<property>-<content hash>.json`; written atomically; read back through a schema so a bad
// file gives one line naming the file and the field.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SEEDED_BUGS, type BugName } from '../impl/faults.ts';
import { findRevision, REVISIONS, type RevisionRecord } from '../properties/revisions/index.ts';
import { findProperty, PROPERTIES } from '../properties/catalog.ts';
import type { Command } from '../properties/commands/index.ts';
import { RELEASES } from '../properties/releases.ts';
import type { Scenario } from '../properties/scenario.ts';
import { writeReportAtomic } from './files.ts';
import {
  array, bool, byKind, int, literal, nullable, object, oneOf, optional, refine, SchemaError, str, type Schema,
} from './schema.ts';
import { TOOL, TOOL_VERSION } from './version.ts';

/** The corpus file format this tool reads and writes; bump it when an entry's meaning changes. */
export const CORPUS_FORMAT = 1;
export const DEFAULT_CORPUS_DIR = 'test/corpus';

export interface CorpusEntry {
  readonly format: typeof CORPUS_FORMAT;
  readonly tool: typeof TOOL;
  /** package.json version of the tool that wrote it (informational). */
  readonly version: string;
  readonly property: string;
  /** The kernel revision by name (impl/kernel/revision.ts REVISIONS). */
  readonly kernel: string;
  /** The seeded bug it was found with: with it on the scenario fails, with it off it passes. */
  readonly bug: BugName | null;
  readonly expect: { readonly violation: string; readonly message?: string };
  readonly scenario: Scenario;
}

// ---- the schema ----

const u = (max: number) => int(0, max);
const U31 = 0x7fffffff;
const release = oneOf(RELEASES.map((r) => r.version), 'a module release of properties/releases.ts');

/** Per corruption kind, its numeric parameters (impl/firmware/image.ts ImageCorruption). */
const CORRUPTION_PARAMS: Record<string, readonly string[]> = {
  truncate: ['length'], short_blob: ['length'], bad_checksum: [], bad_magic: [], bad_version: [], bad_length: [],
  reserved_nonzero: ['index'], sig_size: ['pages'], module_unaligned: [], module_too_big: [], no_module_pages: [],
  page_count_overflow: ['extra'], sigstruct_bitflip: ['byte', 'bit'], module_bitflip: ['byte', 'bit'], rogue_key: [],
};

type Corruption = NonNullable<Extract<Command, { kind: 'upload' }>['image']['corruption']>;

const corruption: Schema<Corruption> = byKind(
  Object.fromEntries(Object.entries(CORRUPTION_PARAMS).map(([kind, params]) => [
    kind, object({ kind: literal(kind), ...Object.fromEntries(params.map((p) => [p, u(U31)])) }, `a ${kind} corruption`),
  ])) as never,
);

const faultPlan = byKind<NonNullable<Extract<Command, { kind: 'upload' }>['fault']>>({
  leaf: object({ kind: literal('leaf'), leaf: oneOf(['SHUTDOWN', 'SYS_INIT', 'LP_INIT', 'UPDATE']), cpu: nullable(u(U31)) }),
  install: object({ kind: literal('install'), cpu: u(U31) }),
  no_entropy: object({ kind: literal('no_entropy'), count: u(255) }),
});

const image = object({
  release, format: optional(oneOf(['v1', 'v2'])), svnDelta: int(-255, 255), moduleHv: u(0xffff), minUpdateHv: u(0xffff),
  noDowngrade: bool, debug: bool, corruption: nullable(corruption),
});

const cpu = u(U31);
const td = u(U31);
const command: Schema<Command> = byKind<Command>({
  upload: object({ kind: literal('upload'), image, fault: nullable(faultPlan) }),
  cancel: object({ kind: literal('cancel') }),
  read_error: object({ kind: literal('read_error') }),
  read_status: object({ kind: literal('read_status') }),
  read_version: object({ kind: literal('read_version') }),
  read_seamldr: object({ kind: literal('read_seamldr'), attr: oneOf(['version', 'num_remaining_updates']), cpu: optional(cpu) }),
  cpu_offline: object({ kind: literal('cpu_offline'), cpu }),
  cpu_online: object({ kind: literal('cpu_online'), cpu }),
  td_create: object({ kind: literal('td_create'), cpu }),
  td_add_page: object({ kind: literal('td_add_page'), td, fill: u(255), cpu }),
  td_finalize: object({ kind: literal('td_finalize'), td, cpu }),
  td_run: object({ kind: literal('td_run'), td, stores: array(object({ page: u(U31), offset: u(4095), value: u(255) }), 64), cpu }),
  td_teardown: object({ kind: literal('td_teardown'), td, cpu }),
  tool_update: object({ kind: literal('tool_update'), version: optional(release), allowDebug: optional(bool), layout: optional(oneOf(['v2', 'merged'])) }),
});

const host = object({
  nrCpus: int(1, 256),
  boot: object({ release, moduleHv: u(0xffff), minUpdateHv: u(0xffff), noDowngrade: bool }),
  slots: u(255),
  debugUnlocked: bool,
  erratum: optional(bool),
  seamldr: optional(oneOf(['1.5.00', '1.5.02', '2.0.00', '2.0.03'])),
  cpu: optional(u(0xffffffff)),
});

export const scenarioSchema: Schema<Scenario> = object({
  host,
  commands: array(command, 10_000),
  schedule: array(u(U31), 100_000),
});

const known = <T>(s: Schema<T>, what: string, ok: (v: T) => boolean, names: () => string): Schema<T> =>
  refine(s, (v) => (ok(v) ? null : `${JSON.stringify(v)} is not ${what} (known: ${names()}); the entry is out of date`));

const entrySchema: Schema<CorpusEntry> = object({
  format: refine(int(0, 1_000_000), (v) => (v === CORPUS_FORMAT ? null : `format ${v} is out of date: this tool reads format ${CORPUS_FORMAT}`)) as Schema<typeof CORPUS_FORMAT>,
  tool: literal(TOOL),
  version: refine(str, (v) => (/^\d+\.\d+\.\d+/.test(v) ? null : `expected a version like 1.2.3, found ${JSON.stringify(v)}`)),
  property: known(str, 'a property', (v) => findProperty(v) !== undefined, () => PROPERTIES.map((p) => p.id).join(', ')),
  kernel: known(str, 'an emulated kernel revision', (v) => findRevision(v) !== undefined, () => REVISIONS.map((r) => r.name).join(', ')),
  bug: nullable(known(str, 'a seeded bug', (v) => SEEDED_BUGS.some((b) => b.name === v), () => SEEDED_BUGS.map((b) => b.name).join(', '))) as Schema<BugName | null>,
  expect: object({ violation: refine(str, (v) => (v ? null : 'empty violation id')), message: optional(str) }),
  scenario: refine(scenarioSchema, (s) => (s.commands.length ? null : 'a scenario needs at least one command')),
});

export class CorpusError extends Error {}

/** Parse one corpus file; throws CorpusError with one line naming the file and the field. */
export function parseEntry(text: string, file: string): CorpusEntry {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const why = text.trim() === '' ? 'empty file' : `not JSON or truncated (${(e as Error).message.split('\n')[0]})`;
    throw new CorpusError(`${file}: (whole file): ${why}`);
  }
  try {
    return entrySchema.parse(json, '');
  } catch (e) {
    if (e instanceof SchemaError) throw new CorpusError(`${file}: ${e.message}`);
    throw e;
  }
}

export function readEntry(file: string): CorpusEntry {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CorpusError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a corpus file' : `cannot read (${code ?? (e as Error).message})`}`);
  }
  return parseEntry(text, file);
}

/** The corpus files of a directory, sorted (temporary files of an atomic write are not `.json`). */
export function corpusFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json') && !f.startsWith('.')).sort().map((f) => join(dir, f));
}

// ---- writing ----

/** JSON with object keys in a fixed order, so the hash does not depend on how an object was built. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** What a counterexample is, for the file name: the same bug found again gives the same name. */
export function contentHash(e: Pick<CorpusEntry, 'kernel' | 'bug' | 'expect' | 'scenario'>): string {
  const what = { kernel: e.kernel, bug: e.bug, violation: e.expect.violation, scenario: e.scenario };
  return createHash('sha256').update(canonicalJson(what)).digest('hex').slice(0, 12);
}

export function entryName(e: CorpusEntry): string {
  return `${e.property}-${contentHash(e)}`;
}

export function makeEntry(property: string, revision: RevisionRecord, bug: BugName | null, violation: { id: string; message: string }, scenario: Scenario): CorpusEntry {
  return {
    format: CORPUS_FORMAT, tool: TOOL, version: TOOL_VERSION, property, kernel: revision.name, bug,
    expect: { violation: violation.id, message: violation.message }, scenario: inSchemaOrder(scenario),
  };
}

/** The scenario with its fields in the schema's order (what generators and shrinkers built varies). */
export function inSchemaOrder(s: Scenario): Scenario {
  const plain = JSON.parse(JSON.stringify(s)) as unknown;
  try {
    return scenarioSchema.parse(plain, 'scenario');
  } catch {
    return plain as Scenario; // saveEntry reports what the schema does not accept
  }
}

export function formatEntry(e: CorpusEntry): string {
  return JSON.stringify(e, null, 2) + '\n';
}

/**
 * Write an entry unless the corpus already holds this counterexample (under any property's
 * name). Returns the file that holds it and whether it was written now.
 */
export function saveEntry(dir: string, e: CorpusEntry): { file: string; written: boolean } {
  const text = formatEntry(e);
  // What cannot be read back is not written: a scenario field the schema does not know yet.
  parseEntry(text, `${entryName(e)}.json`);
  const hash = contentHash(e);
  const existing = corpusFiles(dir).find((f) => basename(f, '.json').endsWith(`-${hash}`));
  if (existing) return { file: existing, written: false };
  const file = join(dir, `${entryName(e)}.json`);
  writeReportAtomic(file, text);
  return { file, written: true };
}
