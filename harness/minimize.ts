// A deterministic canonicalizing pass after fast-check's shrinking. fast-check stops at a
// local minimum that depends on where it started (the seed); this pass moves the scenario down
// one fixed total order ("simpler than") until no neighbour in that order still fails:
//
//   fewer commands  <  fewer CPUs  <  simpler host  <  fewer non-default scheduling choices
//   <  simpler command kinds  <  fewer upload features  <  earlier and smaller scheduling
//   choices  <  smaller values
//
// Neighbours are tried in passes, and within a pass smallest first: delta debugging over the
// commands (chunks, then single commands), the CPU count, the host, each command replaced by a
// canonical one (a plain upload, one with a single fault, corruption or flag, a read, ...),
// swaps, the schedule (cleared, cut, single choices removed or lowered), the values inside each
// command (fault parameters, CPU indexes, corruption offsets); then moves that change two
// things at once, because one alone leaves a different local minimum: a simpler host with
// another command of the same kind, and a command dropped, replaced or swapped together with a
// re-chosen schedule (removing a command shifts every scheduling choice after it). Every
// accepted step makes the scenario strictly smaller in the order, so the pass ends; since it
// takes the smallest failing neighbour, the same bug reached from different seeds ends in the
// same scenario (measured by `npm run canonical`).
import { CORRUPTION_KINDS } from '../impl/firmware/image.ts';
import type { RevisionRecord } from '../properties/revisions/index.ts';
import type { Command, CommandKind } from '../properties/commands/index.ts';
import { hasRealBlob, realReleasesOf, type ImageRef } from '../properties/images.ts';
import { RELEASES } from '../properties/releases.ts';
import type { HostData, Scenario } from '../properties/scenario.ts';

/** How many scenario runs one minimization may spend (a guard; typical runs need 50-400). */
export const MAX_RUNS = 4000;

export interface MinimizeOptions {
  readonly maxRuns?: number;
  /** Polled between runs: stop early and keep the best so far (Ctrl-C). */
  readonly stop?: () => boolean;
  /** The revision under test: its native image format is the simplest. */
  readonly revision?: RevisionRecord;
  /** Keep this CPU count (`verify --cpus N`): the platform the user asked about. */
  readonly cpus?: number;
}

export interface Minimized {
  readonly scenario: Scenario;
  /** Scenario runs spent. */
  readonly runs: number;
  /** Steps taken (each one a strictly smaller failing scenario). */
  readonly steps: number;
  /** False when the run budget or a stop cut it short (the result may not be canonical). */
  readonly complete: boolean;
}

type Upload = Extract<Command, { kind: 'upload' }>;
type Corruption = NonNullable<ImageRef['corruption']>;
type Fault = NonNullable<Upload['fault']>;
type Key = readonly number[];

// ---- the order ----

const KIND_ORDER: readonly CommandKind[] = [
  'read_version',
  'read_error',
  'read_status',
  'read_seamldr',
  'cancel',
  'cpu_offline',
  'cpu_online',
  'td_create',
  'td_add_page',
  'td_finalize',
  'td_run',
  'td_teardown',
  'upload',
  'tool_update',
];

const CORRUPTION_PARAMS = ['length', 'index', 'pages', 'extra', 'byte', 'bit'] as const;
const LEAVES = ['SHUTDOWN', 'SYS_INIT', 'LP_INIT', 'UPDATE'] as const;

/** An upload's features, simplest first: injected faults read best, then corruptions, then build flags. */
const FEATURES: readonly string[] = [
  ...LEAVES.map((l) => `fault leaf ${l}`),
  'fault install',
  'fault no_entropy',
  'fault tdx_no_entropy',
  ...CORRUPTION_KINDS.map((k) => `corruption ${k}`),
  'debug',
  'svn',
  'noDowngrade',
  'hv',
  'release',
  'format',
];
const featureRank = (f: string): number => FEATURES.indexOf(f) + 1 || FEATURES.length + 1;

const releaseIndex = (r: string): number => {
  const i = RELEASES.findIndex((x) => x.version === r);
  return i < 0 ? RELEASES.length : i;
};

const nativeFormat = (revision?: RevisionRecord): string => revision?.checks.imageFormat ?? 'v1';

function uploadFeatures(c: Upload, boot: string, native: string): string[] {
  const i = c.image,
    out: string[] = [];
  if (c.fault) out.push(c.fault.kind === 'leaf' ? `fault leaf ${c.fault.leaf}` : `fault ${c.fault.kind}`);
  if (i.corruption) out.push(`corruption ${i.corruption.kind}`);
  if (i.debug) out.push('debug');
  if (i.svnDelta) out.push('svn');
  if (i.noDowngrade) out.push('noDowngrade');
  if (i.moduleHv || i.minUpdateHv) out.push('hv');
  if (i.release !== boot) out.push('release');
  if ((i.format ?? 'v1') !== native) out.push('format');
  return out;
}

/** What a command is made of, before its values: for an upload, how many features and which. */
function structure(c: Command, boot: string, native: string): number[] {
  if (c.kind !== 'upload') return [];
  const ranks = uploadFeatures(c, boot, native)
    .map(featureRank)
    .sort((a, b) => a - b);
  return [ranks.length, ...ranks];
}

const signed = (x: number): number => (x < 0 ? -2 * x - 1 : 2 * x);

/** The values inside a command, in the order they are compared. */
function details(c: Command): number[] {
  switch (c.kind) {
    case 'upload': {
      const i = c.image,
        f = c.fault,
        k = i.corruption as Record<string, unknown> | null;
      return [
        releaseIndex(i.release),
        i.format === undefined ? 0 : 1,
        signed(i.svnDelta),
        i.moduleHv,
        i.minUpdateHv,
        f === null ? 0 : 'count' in f ? f.count : f.cpu === null ? 0 : f.cpu + 1,
        ...CORRUPTION_PARAMS.map((p) => (k && typeof k[p] === 'number' ? (k[p] as number) : 0)),
      ];
    }
    case 'read_seamldr':
      return [c.attr === 'version' ? 0 : 1, c.cpu === undefined ? 0 : c.cpu + 1];
    case 'cpu_offline':
    case 'cpu_online':
      return [c.cpu];
    case 'td_create':
      return [c.fault ? 1 : 0, c.cpu];
    case 'td_add_page':
      return [c.fault ? 1 : 0, c.td, c.cpu, c.fill];
    case 'td_finalize':
    case 'td_teardown':
      return [c.fault ? 1 : 0, c.td, c.cpu];
    case 'td_run':
      return [c.fault ? 1 : 0, c.stores.length, c.td, c.cpu, ...c.stores.flatMap((s) => [s.page, s.offset, s.value])];
    default:
      return [];
  }
}

/** A schedule by its choices that are not the default: how many, then where and which. */
function scheduleKey(schedule: readonly number[]): number[] {
  const nz = schedule.flatMap((v, i) => (v ? [i, v] : []));
  return [nz.length / 2, ...nz];
}

function trimmed(schedule: readonly number[]): readonly number[] {
  let n = schedule.length;
  while (n > 0 && schedule[n - 1] === 0) n--;
  return schedule.slice(0, n);
}

function hostDetails(h: HostData): number[] {
  return [
    h.slots,
    h.debugUnlocked ? 1 : 0,
    h.erratum ? 1 : 0,
    h.seamldr === undefined ? 0 : 1,
    h.cpu === undefined ? 0 : 1,
    releaseIndex(h.boot.release),
    h.boot.noDowngrade ? 1 : 0,
    h.boot.moduleHv,
    h.boot.minUpdateHv,
    h.bootFault ? 1 : 0,
  ];
}

/** The position of a scenario in the "simpler than" order: compared lexicographically. */
export function scenarioKey(s: Scenario, revision?: RevisionRecord): Key {
  const native = nativeFormat(revision),
    boot = s.host.boot.release,
    sched = s.schedule;
  return [
    s.commands.length,
    s.host.nrCpus,
    ...hostDetails(s.host),
    sched.filter((x) => x !== 0).length,
    ...s.commands.map((c) => KIND_ORDER.indexOf(c.kind) + 1 || KIND_ORDER.length + 1),
    ...s.commands.flatMap((c) => structure(c, boot, native)),
    ...scheduleKey(sched),
    ...s.commands.flatMap(details),
    s.schedule.length,
  ];
}

export function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

// ---- neighbours ----

const without = <T>(xs: readonly T[], from: number, n = 1): T[] => [...xs.slice(0, from), ...xs.slice(from + n)];
const replace = <T>(xs: readonly T[], i: number, x: T): T[] => [...xs.slice(0, i), x, ...xs.slice(i + 1)];

/** Smaller values to try for a number, smallest first: 0..3, halvings, and v minus powers of two. */
function smaller(v: number): number[] {
  const out = new Set<number>();
  for (let x = 0; x < Math.min(v, 4); x++) out.add(x);
  for (let x = v >> 1; x > 0; x >>= 1) out.add(x);
  for (let d = 1; d <= v; d *= 2) out.add(v - d);
  return [...out].filter((x) => x >= 0 && x < v).sort((a, b) => a - b);
}

/** Delta debugging over the command list: remove chunks of halving size, then single commands. */
function dropCommands(s: Scenario): Scenario[] {
  const n = s.commands.length,
    out: Scenario[] = [];
  for (let size = n >> 1; size >= 1; size >>= 1) {
    for (let i = 0; i + size <= n; i += size === 1 ? 1 : size >> 1 || 1) out.push({ ...s, commands: without(s.commands, i, size) });
  }
  if (n > 1) for (let i = 0; i < n; i++) out.push({ ...s, commands: without(s.commands, i) });
  return out;
}

/** CPU indexes of commands and faults at or above n moved to the highest CPU below n. */
function clampCpus(s: Scenario, n: number): Command[] {
  const c1 = (cpu: number) => (cpu >= n ? n - 1 : cpu);
  return s.commands.map((c): Command => {
    if (c.kind === 'upload') return c.fault && 'cpu' in c.fault && c.fault.cpu !== null ? { ...c, fault: { ...c.fault, cpu: c1(c.fault.cpu) } } : c;
    return 'cpu' in c && c.cpu !== undefined ? { ...c, cpu: c1(c.cpu) } : c;
  });
}

/** Fewer CPUs, with the commands' CPU indexes as they are (taken modulo the count) or moved down. */
function fewerCpus(s: Scenario): Scenario[] {
  return Array.from({ length: s.host.nrCpus - 1 }, (_, i) => {
    const host = { ...s.host, nrCpus: i + 1 };
    return [
      { ...s, host },
      { ...s, host, commands: clampCpus(s, i + 1) },
    ];
  }).flat();
}

/** An image with nothing special: the boot release, in the format the kernel under test takes. */
function plainImage(release: string, revision?: RevisionRecord): ImageRef {
  const image: ImageRef = { release, svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false, corruption: null };
  const native = nativeFormat(revision);
  return native === 'v1' ? image : { ...image, format: native as ImageRef['format'] };
}

function corruptionOf(kind: string, v: number): Corruption {
  const params: Record<string, readonly string[]> = {
    truncate: ['length'],
    short_blob: ['length'],
    reserved_nonzero: ['index'],
    sig_size: ['pages'],
    page_count_overflow: ['extra'],
    sigstruct_bitflip: ['byte', 'bit'],
    module_bitflip: ['byte', 'bit'],
  };
  return Object.fromEntries([['kind', kind], ...(params[kind] ?? []).map((p) => [p, v])]) as Corruption;
}

/** Canonical commands: what any command of a counterexample may be replaced by. */
function catalog(s: Scenario, revision?: RevisionRecord): Command[] {
  const boot = s.host.boot.release,
    cpus = Array.from({ length: Math.min(s.host.nrCpus, 8) }, (_, i) => i);
  const plain = plainImage(boot, revision);
  const faults: Fault[] = [
    ...LEAVES.map((leaf) => ({ kind: 'leaf' as const, leaf, cpu: null })),
    ...LEAVES.flatMap((leaf) => cpus.map((cpu) => ({ kind: 'leaf' as const, leaf, cpu }))),
    ...cpus.map((cpu) => ({ kind: 'install' as const, cpu })),
    { kind: 'no_entropy', count: 1 },
    { kind: 'no_entropy', count: 2 },
  ];
  const other = nativeFormat(revision) === 'v1' ? 'v2' : 'v1';
  const images: ImageRef[] = [
    plain,
    // parameters 0 and 1 of every kind: an earlier kind that needs 1 (truncate to 1 byte) is
    // reached from a later one at 0 (short_blob of 0 bytes), so both end at the same form
    ...CORRUPTION_KINDS.flatMap((k) => [0, 1].map((v) => ({ ...plain, corruption: corruptionOf(k, v) }))),
    { ...plain, debug: true },
    { ...plain, svnDelta: -1 },
    { ...plain, svnDelta: 1 },
    { ...plain, noDowngrade: true },
    { ...plain, moduleHv: 1 },
    { ...plain, moduleHv: 1, minUpdateHv: 1 },
    ...RELEASES.filter((r) => r.version !== boot).map((r) => ({ ...plain, release: r.version })),
    other === 'v1' ? (({ format: _, ...v1 }) => v1)(plain) : { ...plain, format: other as ImageRef['format'] },
  ];
  return [
    { kind: 'read_version' },
    { kind: 'read_error' },
    { kind: 'read_status' },
    ...cpus.flatMap((cpu) => [
      { kind: 'read_seamldr' as const, attr: 'version' as const, cpu },
      { kind: 'read_seamldr' as const, attr: 'num_remaining_updates' as const, cpu },
    ]),
    { kind: 'cancel' },
    ...cpus.flatMap((cpu) => [
      { kind: 'cpu_offline' as const, cpu },
      { kind: 'cpu_online' as const, cpu },
      { kind: 'td_create' as const, cpu },
      { kind: 'td_add_page' as const, td: 0, fill: 0, cpu },
      { kind: 'td_finalize' as const, td: 0, cpu },
      { kind: 'td_run' as const, td: 0, stores: [], cpu },
      { kind: 'td_teardown' as const, td: 0, cpu },
    ]),
    ...images.map((image) => ({ kind: 'upload' as const, image, fault: null })),
    ...faults.map((fault) => ({ kind: 'upload' as const, image: plain, fault })),
    { kind: 'tool_update' },
  ];
}

function replaceByCatalog(s: Scenario, revision?: RevisionRecord, lowerKindOnly = false): Scenario[] {
  const cat = catalog(s, revision);
  const rank = (c: Command) => KIND_ORDER.indexOf(c.kind);
  return s.commands.flatMap((old, i) => cat.filter((c) => !lowerKindOnly || rank(c) < rank(old)).map((c) => ({ ...s, commands: replace(s.commands, i, c) })));
}

function swaps(s: Scenario): Scenario[] {
  const out: Scenario[] = [];
  for (let i = 0; i < s.commands.length; i++) {
    for (let j = i + 1; j < s.commands.length; j++) {
      const commands = replace(replace(s.commands, i, s.commands[j]!), j, s.commands[i]!);
      out.push({ ...s, commands }, { ...s, commands, schedule: [] });
    }
  }
  return out;
}

/** Every schedule with one non-default choice (1 or 2) in its first positions. */
function singleChoices(t: readonly number[]): number[][] {
  const positions = Math.min(Math.max(t.length, 8) + 2, 24),
    out: number[][] = [];
  for (let p = 0; p < positions; p++) for (const v of [1, 2]) out.push([...Array<number>(p).fill(0), v]);
  return out;
}

function simplerSchedule(s: Scenario): Scenario[] {
  const t = trimmed(s.schedule),
    out: Scenario[] = [];
  for (const schedule of singleChoices(t)) out.push({ ...s, schedule });
  for (let n = 0; n < t.length; n++) out.push({ ...s, schedule: t.slice(0, n) });
  if (t.length < s.schedule.length) out.push({ ...s, schedule: t });
  for (let i = 0; i < t.length; i++) {
    out.push({ ...s, schedule: without(t, i) });
    for (const x of smaller(t[i]!)) out.push({ ...s, schedule: replace(t, i, x) });
  }
  return out;
}

function simplerImage(i: ImageRef, boot: string, revision?: RevisionRecord): ImageRef[] {
  const out: ImageRef[] = [];
  if (i.corruption) {
    out.push({ ...i, corruption: null });
    const k = i.corruption as unknown as Record<string, number>;
    for (const p of CORRUPTION_PARAMS)
      if (typeof k[p] === 'number') for (const x of smaller(k[p]!)) out.push({ ...i, corruption: { ...i.corruption, [p]: x } as Corruption });
  }
  if (i.debug) out.push({ ...i, debug: false });
  if (i.svnDelta) out.push({ ...i, svnDelta: 0 }, ...(Math.abs(i.svnDelta) > 1 ? [{ ...i, svnDelta: Math.sign(i.svnDelta) }] : []));
  if (i.noDowngrade) out.push({ ...i, noDowngrade: false });
  if (i.moduleHv || i.minUpdateHv) {
    out.push({ ...i, moduleHv: 0, minUpdateHv: 0 });
    for (const x of smaller(i.moduleHv)) if (x >= i.minUpdateHv) out.push({ ...i, moduleHv: x });
    for (const x of smaller(i.minUpdateHv)) out.push({ ...i, minUpdateHv: x });
  }
  if (i.release !== boot) {
    out.push({ ...i, release: boot });
    for (const r of RELEASES.slice(0, releaseIndex(i.release))) out.push({ ...i, release: r.version });
  }
  if (i.format !== undefined) {
    const { format: _, ...rest } = i;
    out.push(rest);
    if (i.format !== nativeFormat(revision)) out.push({ ...i, format: nativeFormat(revision) as ImageRef['format'] });
  }
  return out;
}

function simplerFault(f: Fault, nrCpus: number): (Fault | null)[] {
  const out: (Fault | null)[] = [null];
  if ('count' in f) for (const x of smaller(f.count)) if (x >= 1) out.push({ ...f, count: x });
  if (f.kind === 'leaf' && f.cpu !== null) out.push({ ...f, cpu: null }, { ...f, cpu: f.cpu % nrCpus }, ...smaller(f.cpu).map((cpu) => ({ ...f, cpu })));
  if (f.kind === 'install') out.push({ ...f, cpu: f.cpu % nrCpus }, ...smaller(f.cpu).map((cpu) => ({ ...f, cpu })));
  return out;
}

/** A TD command without its injected fault: a counterexample that needs none reads best without. */
function withoutFault<C extends Command & { readonly fault?: unknown }>(c: C): C[] {
  return c.fault ? [{ ...c, fault: null }] : [];
}

/** The values inside one command made smaller, one at a time. */
function simplerCommand(c: Command, nrCpus: number, boot: string, revision?: RevisionRecord): Command[] {
  const cpus = (cpu: number) => [cpu % nrCpus, ...smaller(cpu)];
  switch (c.kind) {
    case 'upload':
      return [
        ...simplerImage(c.image, boot, revision).map((image) => ({ ...c, image })),
        ...(c.fault ? simplerFault(c.fault, nrCpus).map((fault) => ({ ...c, fault })) : []),
      ];
    case 'read_seamldr':
      return [...(c.attr !== 'version' ? [{ ...c, attr: 'version' as const }] : []), ...(c.cpu ? cpus(c.cpu).map((cpu) => ({ ...c, cpu })) : [])];
    case 'cpu_offline':
    case 'cpu_online':
      return cpus(c.cpu).map((cpu) => ({ ...c, cpu }));
    case 'td_create':
      return [...withoutFault(c), ...cpus(c.cpu).map((cpu) => ({ ...c, cpu }))];
    case 'td_add_page':
      return [
        ...withoutFault(c),
        ...smaller(c.td).map((td) => ({ ...c, td })),
        ...cpus(c.cpu).map((cpu) => ({ ...c, cpu })),
        ...smaller(c.fill).map((fill) => ({ ...c, fill })),
      ];
    case 'td_finalize':
    case 'td_teardown':
      return [...withoutFault(c), ...smaller(c.td).map((td) => ({ ...c, td })), ...cpus(c.cpu).map((cpu) => ({ ...c, cpu }))];
    case 'td_run':
      return [
        ...withoutFault(c),
        ...c.stores.map((_, i) => ({ ...c, stores: without(c.stores, i) })),
        ...smaller(c.td).map((td) => ({ ...c, td })),
        ...cpus(c.cpu).map((cpu) => ({ ...c, cpu })),
        ...c.stores.flatMap((st, i) =>
          (['page', 'offset', 'value'] as const).flatMap((k) => smaller(st[k]).map((x) => ({ ...c, stores: replace(c.stores, i, { ...st, [k]: x }) }))),
        ),
      ];
    default:
      return [];
  }
}

function simplerCommands(s: Scenario, revision?: RevisionRecord): Scenario[] {
  return s.commands.flatMap((c, i) =>
    simplerCommand(c, s.host.nrCpus, s.host.boot.release, revision).map((x) => ({ ...s, commands: replace(s.commands, i, x) })),
  );
}

/** Every Intel blob the scenario boots or uploads is loaded: a pass that moves a release keeps the ref real. */
const blobsLoaded = (s: Scenario): boolean => realReleasesOf(s).every(hasRealBlob);

/** The boot release moved earlier; uploads of the old boot release follow it. */
function rebase(s: Scenario, release: string): Scenario {
  const old = s.host.boot.release;
  const commands = s.commands.map((c) => (c.kind === 'upload' && c.image.release === old ? { ...c, image: { ...c.image, release } } : c));
  return { ...s, host: { ...s.host, boot: { ...s.host.boot, release } }, commands };
}

function simplerHost(s: Scenario): Scenario[] {
  const h = s.host,
    out: Scenario[] = [];
  const withHost = (host: HostData) => out.push({ ...s, host });
  for (const x of smaller(h.slots)) withHost({ ...h, slots: x });
  if (h.debugUnlocked) withHost({ ...h, debugUnlocked: false });
  if (h.erratum !== undefined) {
    const { erratum: _, ...rest } = h;
    withHost(rest);
  }
  // The family's usual loader and CPU (scenario.ts) are simpler than any drawn one.
  if (h.seamldr !== undefined) {
    const { seamldr: _, ...rest } = h;
    withHost(rest);
  }
  if (h.cpu !== undefined) {
    const { cpu: _, ...rest } = h;
    withHost(rest);
  }
  if (h.bootFault) {
    const { bootFault: _, ...rest } = h;
    withHost(rest);
  }
  for (const r of RELEASES.slice(0, releaseIndex(h.boot.release)))
    out.push(rebase(s, r.version), { ...s, host: { ...h, boot: { ...h.boot, release: r.version } } });
  if (h.boot.noDowngrade) withHost({ ...h, boot: { ...h.boot, noDowngrade: false } });
  if (h.boot.moduleHv || h.boot.minUpdateHv) {
    withHost({ ...h, boot: { ...h.boot, moduleHv: 0, minUpdateHv: 0 } });
    for (const x of smaller(h.boot.moduleHv)) if (x >= h.boot.minUpdateHv) withHost({ ...h, boot: { ...h.boot, moduleHv: x } });
    for (const x of smaller(h.boot.minUpdateHv)) withHost({ ...h, boot: { ...h.boot, minUpdateHv: x } });
  }
  return out;
}

/**
 * Two things at once: a simpler host and one command replaced by a canonical one of its kind.
 * Without it a bug shown by "odd host, plain upload" and by "plain host, upload with a fault"
 * would end in two different local minima.
 */
function hostAndCommand(s: Scenario, revision?: RevisionRecord): Scenario[] {
  const hosts = [...fewerCpus(s), ...simplerHost(s)];
  // Fewer CPUs with another host too, one update slot among them: a bug that shows one way on
  // one CPU and another on two (stale-curstate: a livelock alone, a repeated SHUTDOWN with a
  // second CPU and no slots) ends the same.
  const both = fewerCpus(s).flatMap((x) => [{ ...x, host: { ...x.host, slots: 1 } }, ...simplerHost(x)]);
  // A command dropped with the host made ordinary (one update slot, fewer CPUs), and with one of
  // the rest replaced too: sysinit-unlocked shows on "no slots, a CPU offline, upload" and on "one
  // slot, upload" (canonical, seed 8); prerr-silent on "no slots, upload, offline, online" and on
  // "one slot, upload failing TDH.SYS.INIT".
  const dropped = dropCommands(s).flatMap((d) => [d, ...fewerCpus(d)].map((x) => ({ ...x, host: { ...x.host, slots: 1 } })));
  return [
    ...both,
    ...dropped,
    ...[...hosts, ...dropped].flatMap((h) => {
      const cat = catalog(h, revision);
      return h.commands.flatMap((c, i) => cat.filter((x) => x.kind === c.kind).map((x) => ({ ...h, commands: replace(h.commands, i, x) })));
    }),
  ];
}

/**
 * Schedules to pair with a changed command list: the same one, none, the same with one choice
 * left out, and every schedule with a single non-default choice (1 or 2) in its first positions.
 * Removing or replacing a command moves the choices that follow it; these follow it back.
 */
function scheduleVariants(s: Scenario): number[][] {
  const t = trimmed(s.schedule);
  const out: number[][] = [[...t], []];
  for (let j = 0; j < t.length; j++) out.push(without(t, j));
  return [...out, ...singleChoices(t)];
}

/** A structural step (fewer commands, a simpler kind, another order) together with another schedule. */
function structureAndSchedule(s: Scenario, revision?: RevisionRecord): Scenario[] {
  const dropped = dropCommands(s);
  const structural = [...dropped, ...dropped.flatMap(swaps), ...replaceByCatalog(s, revision, true), ...swaps(s)];
  const schedules = scheduleVariants(s);
  return structural.flatMap((c) => schedules.map((schedule) => ({ ...c, schedule })));
}

type Pass = (s: Scenario, revision?: RevisionRecord) => Scenario[];

/** In this order; after any step the passes start again from the first. */
const PASSES: readonly Pass[] = [
  dropCommands,
  fewerCpus,
  simplerHost,
  replaceByCatalog,
  swaps,
  simplerSchedule,
  simplerCommands,
  hostAndCommand,
  structureAndSchedule,
];

/** The same scenario written one way: optional fields at their default are left out. */
export function normalize(s: Scenario): Scenario {
  const { erratum, ...host } = s.host;
  const commands = s.commands.map((c): Command => {
    if (c.kind === 'read_seamldr') return { ...c, cpu: c.cpu ?? 0 };
    if (c.kind !== 'upload' || c.image.format !== 'v1') return c;
    const { format: _, ...image } = c.image;
    return { ...c, image };
  });
  return { ...s, host: erratum ? { ...host, erratum } : host, commands, schedule: [...s.schedule] }; // keeps a PCT run's data
}

/**
 * The smallest scenario in the order that `fails` still holds for, reached from `s` by taking
 * the smallest failing neighbour each time. `fails(s)` must hold for the scenario given.
 */
export function minimize(s: Scenario, fails: (s: Scenario) => boolean, o: MinimizeOptions = {}): Minimized {
  const maxRuns = o.maxRuns ?? MAX_RUNS;
  const tried = new Set<string>();
  s = normalize(s);
  let best = s,
    bestKey = scenarioKey(s, o.revision),
    runs = 0,
    steps = 0;
  const out = (complete: boolean): Minimized => ({ scenario: best, runs, steps, complete });
  search: for (;;) {
    for (const pass of PASSES) {
      const candidates = pass(best, o.revision)
        .filter((c) => (o.cpus === undefined || c.host.nrCpus === o.cpus) && blobsLoaded(c))
        .map(normalize)
        .map((c) => ({ c, key: scenarioKey(c, o.revision), id: JSON.stringify(c) }))
        .filter((x) => compareKeys(x.key, bestKey) < 0 && !tried.has(x.id))
        .sort((a, b) => compareKeys(a.key, b.key));
      for (const x of candidates) {
        if (tried.has(x.id)) continue;
        if (runs >= maxRuns || o.stop?.()) return out(false);
        tried.add(x.id);
        runs++;
        if (fails(x.c)) {
          best = x.c;
          bestKey = x.key;
          steps++;
          continue search;
        }
      }
    }
    return out(true);
  }
}
