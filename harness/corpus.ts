// The regression corpus: every counterexample `verify` finds, stored as data (the scenario,
// the kernel revision by name, the seeded bug if any, the violation it showed), so it replays
// without fast-check after generators change. One file per counterexample, named
// `<property>-<content hash>.json`; written atomically; read back through a schema so a bad
// file gives one line naming the file and the field.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BOOT_FAULT_LEAVES, FAULT_LEAVES, type TdFaultLeaf } from '../model/types.ts';
import { NO_BUGS, SEEDED_BUGS, type BugName } from '../impl/faults.ts';
import { findRevision, REVISIONS, type RevisionRecord } from '../properties/revisions/index.ts';
import { findProperty, PROPERTIES } from '../properties/catalog.ts';
import { INVARIANTS, TERMINATION } from '../properties/invariants.ts';
import { RELEASES } from '../properties/releases.ts';
import type { Scenario } from '../properties/scenario.ts';
import { writeReportAtomic } from './files.ts';
import { named, runScenario } from './run.ts';
import { z } from 'zod';
import { InputError, intIn, LIMITS, parseJsonText, parseWith, readLimited, show } from './schema.ts';
import { MODEL_CHECKS } from './timeline.ts';
import { TOOL, TOOL_VERSION } from './version.ts';

/**
 * Every id a property's run can report (harness/run.ts Violation): what an entry's
 * `expect.violation` may be. The kernel goals are checked only by `--kernel all`'s verdicts,
 * which record no entries, and a replay does not check them.
 */
const CHECK_IDS: readonly string[] = [...INVARIANTS.map((i) => i.id), TERMINATION.id, ...MODEL_CHECKS, 'typeOk', 'crash'];

/**
 * The corpus file format this tool reads and writes; bump it when an entry's meaning changes.
 * 2: the schedule by name (`picks`). `npm run corpus:migrate` reads format 1 and rewrites it.
 */
export const CORPUS_FORMAT = 2;
export const MIGRATABLE_FORMATS: readonly number[] = [1, CORPUS_FORMAT];
export const DEFAULT_CORPUS_DIR = 'test/corpus';

export interface CorpusEntry {
  readonly format: number;
  readonly tool: typeof TOOL;
  /** package.json version of the tool that wrote it (informational). */
  readonly version: string;
  readonly property: string;
  /** The kernel revision by name (properties/revisions/index.ts REVISIONS). */
  readonly kernel: string;
  /** The seeded bug it was found with: with it on the scenario fails, with it off it passes. */
  readonly bug: BugName | null;
  readonly expect: { readonly violation: string; readonly message?: string };
  readonly scenario: Scenario;
}

// ---- the schema ----

const U31 = 0x7fffffff;
const u = (max: number) => intIn(0, max);
const release = z.string().refine((v) => RELEASES.some((r) => r.version === v), 'expected a module release of properties/releases.ts');

/** Per corruption kind, its parameters (impl/firmware/image.ts ImageCorruption): one line each. */
const CORRUPTIONS = [
  z.strictObject({ kind: z.literal('truncate'), length: u(U31) }),
  z.strictObject({ kind: z.literal('short_blob'), length: u(U31) }),
  z.strictObject({ kind: z.literal('bad_checksum') }),
  z.strictObject({ kind: z.literal('bad_magic') }),
  z.strictObject({ kind: z.literal('bad_version') }),
  z.strictObject({ kind: z.literal('bad_length') }),
  z.strictObject({ kind: z.literal('reserved_nonzero'), index: u(4095) }),
  // N reserved pages instead of one (spec §3.3 layout): bounded, or it builds a blob of 2^31 pages
  z.strictObject({ kind: z.literal('sig_size'), pages: u(LIMITS.pages) }),
  z.strictObject({ kind: z.literal('module_unaligned') }),
  z.strictObject({ kind: z.literal('module_too_big') }),
  z.strictObject({ kind: z.literal('no_module_pages') }),
  z.strictObject({ kind: z.literal('page_count_overflow'), extra: u(LIMITS.pages) }),
  z.strictObject({ kind: z.literal('sigstruct_bitflip'), byte: u(U31), bit: u(7) }),
  z.strictObject({ kind: z.literal('module_bitflip'), byte: u(U31), bit: u(7) }),
  z.strictObject({ kind: z.literal('rogue_key') }),
] as const;

const faultPlan = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('leaf'), leaf: z.enum(FAULT_LEAVES), cpu: u(LIMITS.cpus - 1).nullable() }),
  z.strictObject({ kind: z.literal('seamldr_info'), cpu: u(LIMITS.cpus - 1) }),
  z.strictObject({ kind: z.literal('install'), cpu: u(LIMITS.cpus - 1) }),
  z.strictObject({ kind: z.literal('no_entropy'), count: u(255) }),
  z.strictObject({ kind: z.literal('tdx_no_entropy'), count: u(255) }),
]);

const image = z.strictObject({
  release,
  format: z.enum(['v1', 'v2']).optional(),
  svnDelta: intIn(-255, 255),
  moduleHv: u(0xffff),
  minUpdateHv: u(0xffff),
  noDowngrade: z.boolean(),
  debug: z.boolean(),
  corruption: z.discriminatedUnion('kind', CORRUPTIONS).nullable(),
  real: z.boolean().optional(),
});

const cpu = u(LIMITS.cpus - 1);
/** A TD command's injected fault, on one of its own leaves. */
const tdFault = <L extends TdFaultLeaf>(...leaves: [L, ...L[]]) => z.enum(leaves).nullable().optional();
const td = u(LIMITS.pages);
const store = z.strictObject({ page: u(LIMITS.pages - 1), offset: u(4095), value: u(255) });

/**
 * The command table (properties/commands/index.ts Command): one line per command kind. A new
 * command kind is one more line here.
 */
const COMMANDS = [
  z.strictObject({ kind: z.literal('upload'), image, fault: faultPlan.nullable() }),
  z.strictObject({ kind: z.literal('cancel') }),
  z.strictObject({ kind: z.literal('read_error') }),
  z.strictObject({ kind: z.literal('read_status') }),
  z.strictObject({ kind: z.literal('read_version') }),
  z.strictObject({ kind: z.literal('read_seamldr'), attr: z.enum(['version', 'num_remaining_updates']), cpu: cpu.optional() }),
  z.strictObject({ kind: z.literal('cpu_offline'), cpu }),
  z.strictObject({ kind: z.literal('cpu_online'), cpu }),
  z.strictObject({ kind: z.literal('td_create'), cpu, fault: tdFault('MNG_CREATE', 'MNG_KEY_CONFIG', 'MNG_INIT') }),
  z.strictObject({ kind: z.literal('td_add_page'), td, fill: u(255), cpu, fault: tdFault('MEM_PAGE_ADD', 'MR_EXTEND') }),
  z.strictObject({ kind: z.literal('td_finalize'), td, cpu, fault: tdFault('MR_FINALIZE') }),
  z.strictObject({ kind: z.literal('td_run'), td, stores: z.array(store).max(64), cpu, fault: tdFault('VP_ENTER') }),
  z.strictObject({ kind: z.literal('td_teardown'), td, cpu, fault: tdFault('MNG_KEY_FREEID') }),
  z.strictObject({
    kind: z.literal('tool_update'),
    version: release.optional(),
    allowDebug: z.boolean().optional(),
    layout: z.enum(['v2', 'merged']).optional(),
  }),
] as const;

const command = z.discriminatedUnion('kind', COMMANDS);

const host = z.strictObject({
  nrCpus: intIn(1, LIMITS.cpus),
  boot: z.strictObject({ release, moduleHv: u(0xffff), minUpdateHv: u(0xffff), noDowngrade: z.boolean(), real: z.boolean().optional() }),
  slots: u(255),
  debugUnlocked: z.boolean(),
  erratum: z.boolean().optional(),
  seamldr: z.enum(['1.5.00', '1.5.02', '2.0.00', '2.0.03']).optional(),
  cpu: u(0xffffffff).optional(),
  bootFault: z.enum(BOOT_FAULT_LEAVES).nullable().optional(),
});

export const scenarioSchema = z
  .strictObject({
    host,
    commands: z.array(command).max(LIMITS.commands, `more than ${LIMITS.commands} commands (the limit per scenario)`),
    schedule: z.array(u(U31)).max(LIMITS.schedule, `more than ${LIMITS.schedule} choices (the limit per schedule)`),
    pct: z.strictObject({ priorities: z.array(u(U31)).max(64), changePoints: z.array(u(U31)).max(64) }).optional(), // harness/schedulers.ts
    picks: z
      .array(z.string().regex(/^[\w:/.-]{1,64}$/, 'expected a task name or issue'))
      .max(LIMITS.schedule, `more than ${LIMITS.schedule} picks (the limit per schedule)`)
      .optional(),
  })
  // an update costs about CPUs^2 steps (README "Benchmark"): many commands on many CPUs is hours
  .refine((s) => s.commands.length * s.host.nrCpus <= LIMITS.cpuCommands, {
    path: ['commands'],
    error: (i) =>
      `${(i.input as Scenario).commands.length} commands on ${(i.input as Scenario).host.nrCpus} CPUs: more than ${LIMITS.cpuCommands} commands x CPUs`,
  }) satisfies z.ZodType<Scenario>;

const known = (what: string, ok: (v: string) => boolean, names: () => string) =>
  z.string().refine(ok, { error: (i) => `${show(i.input)} is not ${what} (known: ${names()}); the entry is out of date` });

export const entrySchema = z.strictObject({
  format: z.int(),
  tool: z.literal(TOOL),
  version: z.string().regex(/^\d+\.\d+\.\d+/, 'expected a version like 1.2.3'),
  property: known(
    'a property',
    (v) => findProperty(v) !== undefined,
    () => PROPERTIES.map((p) => p.id).join(', '),
  ),
  kernel: known(
    'an emulated kernel revision',
    (v) => findRevision(v) !== undefined,
    () => REVISIONS.map((r) => r.name).join(', '),
  ),
  bug: known(
    'a seeded bug',
    (v) => SEEDED_BUGS.some((b) => b.name === v),
    () => SEEDED_BUGS.map((b) => b.name).join(', '),
  ).nullable(),
  expect: z.strictObject({
    violation: z.string().refine((id) => CHECK_IDS.includes(id), 'expected the id of a check: an invariant (I-N), a model check, typeOk or crash'),
    message: z.string().optional(),
  }),
  scenario: scenarioSchema.refine((s) => s.commands.length > 0, 'a scenario needs at least one command'),
});

export class CorpusError extends InputError {}

/**
 * Parse one corpus file of one of `formats`; throws CorpusError with one line naming the file
 * and the field.
 */
export function parseEntry(text: string, file: string, formats: readonly number[] = [CORPUS_FORMAT]): CorpusEntry {
  let e: CorpusEntry;
  try {
    e = parseWith(entrySchema, parseJsonText(text, file), file) as CorpusEntry;
  } catch (e) {
    if (e instanceof InputError) throw new CorpusError(e.message);
    throw e;
  }
  if (!formats.includes(e.format))
    throw new CorpusError(
      `${file}: format: format ${e.format} is out of date: this tool reads format ${CORPUS_FORMAT} (npm run corpus:migrate rewrites format 1)`,
    );
  return e;
}

export function readEntry(file: string, formats: readonly number[] = [CORPUS_FORMAT]): CorpusEntry {
  try {
    return parseEntry(readLimited(file, 'a corpus file'), file, formats);
  } catch (e) {
    if (e instanceof InputError && !(e instanceof CorpusError)) throw new CorpusError(e.message);
    throw e;
  }
}

/** The corpus files of a directory, sorted (temporary files of an atomic write are not `.json`). */
export function corpusFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .sort()
    .map((f) => join(dir, f));
}

// ---- writing ----

/** JSON with object keys in a fixed order, so the hash does not depend on how an object was built. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
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

export function makeEntry(
  property: string,
  revision: RevisionRecord,
  bug: BugName | null,
  violation: { id: string; message: string },
  scenario: Scenario,
): CorpusEntry {
  // The schedule by name, where that replays the same violation (two tasks of one name at a decision might not).
  const bugs = bug ? new Set([bug]) : NO_BUGS;
  const byName = named(scenario, runScenario(scenario, { revision, bugs }));
  if (runScenario(byName, { revision, bugs }).violation?.id === violation.id) scenario = byName;
  return {
    format: CORPUS_FORMAT,
    tool: TOOL,
    version: TOOL_VERSION,
    property,
    kernel: revision.name,
    bug,
    expect: { violation: violation.id, message: violation.message },
    scenario: inSchemaOrder(scenario),
  };
}

/** The scenario with its fields in the schema's order (what generators and shrinkers built varies). */
export function inSchemaOrder(s: Scenario): Scenario {
  const plain = JSON.parse(JSON.stringify(s)) as unknown;
  try {
    return scenarioSchema.parse(plain) as Scenario;
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
