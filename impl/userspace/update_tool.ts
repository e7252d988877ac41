// The operator's update tool as a task on the emulated host: it reads the running module and
// P-SEAMLDR versions from sysfs, chooses a module with the selection policy (spec §3.5),
// refuses when nothing is loadable, otherwise uploads it through the fw_upload node, polls
// `status` until the upload is over, reads `error` and `version`, and reports (spec §2.1,
// §4.2). It works through the emulated sysfs only (./sysfs.ts) and yields between accesses,
// so it interleaves with everything else on the host.
// Mirrors: an operator's userspace tool, written for the sysfs layout of one kernel revision
// (spec §2.7: v2 `seamldr_upload` and `seamldr/version`, merged `tdx_module` and
// `seamldr_version`), as Intel's selection tool is written for one.
import { ENXIO } from '../kernel/errno.ts';
import type { LoadResult } from '../kernel/fw_upload.ts';
import { step, wait, waitQueue, type Yield } from '../kernel/sched.ts';
import type { Host } from '../host.ts';
import { selectModule, type MappingEntry, type ModuleFacts, type PlatformFacts, type Selection } from './policy.ts';
import { FIRMWARE_DIR, sysfsExists, sysfsLoad, sysfsRead, TDX_HOST_DIR } from './sysfs.ts';

/** Where the tool looks for the update interface. */
export interface ToolPaths {
  /** The kernel revision whose layout this is. */
  readonly layout: 'v2' | 'merged';
  readonly version: string;
  readonly seamldrVersion: string;
  /** The fw_upload node (a directory with loading, data, status, error). */
  readonly fwNode: string;
}

/** A tool written for the v2 series (2025-09-30) [T-v2 p06-p08]. */
export const V2_PATHS: ToolPaths = {
  layout: 'v2',
  version: `${TDX_HOST_DIR}/version`,
  seamldrVersion: `${TDX_HOST_DIR}/seamldr/version`,
  fwNode: `${FIRMWARE_DIR}/seamldr_upload`,
};

/** A tool written for the merged driver (v8 flattened the attributes; v4 renamed the node). */
export const MERGED_PATHS: ToolPaths = {
  layout: 'merged',
  version: `${TDX_HOST_DIR}/version`,
  seamldrVersion: `${TDX_HOST_DIR}/seamldr_version`,
  fwNode: `${FIRMWARE_DIR}/tdx_module`,
};

export interface ToolOptions {
  /** Load this release instead of the policy's default choice (it must still be loadable). */
  readonly version?: string;
  /** Debug modules may be chosen. */
  readonly allowDebug?: boolean;
}

/** A sysfs access of the tool, for the caller that maps the tool's actions to the model. */
export type ToolEvent =
  | { readonly kind: 'read'; readonly path: string; readonly result: string | number }
  | { readonly kind: 'load'; readonly version: string; readonly bytes: Uint8Array; readonly result: LoadResult | number };

export interface ToolIo {
  /** The image of a release, as the operator has it (the caller builds images). */
  image(version: string): Uint8Array;
  /** The layout the tool was written for: V2_PATHS unless given. */
  readonly paths?: ToolPaths;
  /** Sees each sysfs access; a Yield it returns is yielded right after the access, by this task. */
  observe?(e: ToolEvent): Yield | null;
}

/**
 * How a run of the tool ended:
 * no-interface: a file it needs does not exist; unreadable: a version could not be read;
 * refused: nothing (or not the requested release) is loadable, nothing written; busy: the
 * upload did not start; timeout: `status` never went idle within the bound; applied: `error`
 * is empty and `version` is the chosen one; failed: the update failed, the module still runs;
 * lost: the update failed and `version` reads -ENXIO (spec §4.2: TDs are lost).
 */
export type ToolOutcome = 'no-interface' | 'unreadable' | 'refused' | 'busy' | 'timeout' | 'applied' | 'failed' | 'lost';

export interface ToolReport {
  readonly outcome: ToolOutcome;
  /** The sysfs layout the tool was written for. */
  readonly layout: ToolPaths['layout'];
  readonly message: string;
  readonly running: string | null;
  readonly seamldr: string | null;
  /** CPUID(1).EAX, which userspace reads with the CPUID instruction, not from sysfs. */
  readonly cpu: number;
  readonly selection: Selection | null;
  readonly chosen: string | null;
  readonly load: LoadResult | number | null;
  /** `error` after the upload. */
  readonly error: string | number | null;
  /** `version` after the upload. */
  readonly after: string | number | null;
}

/** Reads of `status` before the tool gives up on an upload (each waits for a change). */
export const MAX_STATUS_POLLS = 16;

type Known = Pick<ToolReport, 'layout' | 'running' | 'seamldr' | 'cpu' | 'selection' | 'chosen' | 'load' | 'error' | 'after'>;

function report(p: Known, outcome: ToolOutcome, message: string): ToolReport {
  return { outcome, message, ...p };
}

/** One sysfs read, shown to the observer, followed by a preemption point. */
function* read(h: Host, io: ToolIo, path: string): Generator<Yield, string | number, void> {
  const result = yield* sysfsRead(h, path);
  const y = io.observe?.({ kind: 'read', path, result });
  if (y) yield y;
  yield step(`tool: read ${path.split('/').pop()}`);
  return result;
}

/** The policy's pick: the requested release if loadable, else the default choice; or why none. */
function pick(s: Selection, opts: ToolOptions): { version: string } | { refused: string } {
  if (opts.version === undefined) {
    return s.choice !== null ? { version: s.choice } : { refused: 'no release in the mapping is loadable here: nothing written' };
  }
  const c = s.candidates.find((x) => x.version === opts.version);
  if (c === undefined) return { refused: `${opts.version} is not in the mapping: nothing written` };
  return c.loadable ? { version: c.version } : { refused: `${c.version} is not loadable (${c.reasons.join('; ')}): nothing written` };
}

// The policy's verdicts by mapping file and platform: a pure function of them, asked again at
// every run of the tool, and each asks about the same few platforms. Bounded; a report shares its
// Selection, which nothing writes.
const selections = new WeakMap<readonly MappingEntry[], Map<string, { modules: readonly ModuleFacts[]; selection: Selection }>>();
const SELECTIONS_MAX = 1024;

function selected(p: PlatformFacts, mapping: readonly MappingEntry[], modules: readonly ModuleFacts[]): Selection {
  let byPlatform = selections.get(mapping);
  if (!byPlatform) selections.set(mapping, (byPlatform = new Map()));
  const key = `${p.current} ${p.seamldr} ${p.cpu} ${p.allowDebug}`;
  let s = byPlatform.get(key);
  if (s?.modules !== modules) {
    if (byPlatform.size >= SELECTIONS_MAX) byPlatform.clear();
    s = { modules, selection: selectModule(p, mapping, modules) };
    byPlatform.set(key, s);
  }
  return s.selection;
}

/** `tool [--version V] [--allow-debug]` on the host: see the header. */
export function* updateTool(
  h: Host,
  opts: ToolOptions,
  mapping: readonly MappingEntry[],
  modules: readonly ModuleFacts[],
  io: ToolIo,
): Generator<Yield, ToolReport, void> {
  const paths = io.paths ?? V2_PATHS;
  const r: Known = {
    layout: paths.layout,
    running: null,
    seamldr: null,
    cpu: h.platform.cpuFms,
    selection: null,
    chosen: null,
    load: null,
    error: null,
    after: null,
  };
  const missing = [paths.version, paths.seamldrVersion, `${paths.fwNode}/loading`].find((p) => !sysfsExists(h, p));
  if (missing !== undefined) return report(r, 'no-interface', `no ${missing}: this kernel does not expose the update interface the tool was written for`);
  const running = yield* read(h, io, paths.version);
  if (typeof running !== 'string') return report(r, 'unreadable', `cannot read ${paths.version} (${running}): the module does not run; nothing written`);
  const seamldr = yield* read(h, io, paths.seamldrVersion);
  if (typeof seamldr !== 'string') return report({ ...r, running }, 'unreadable', `cannot read ${paths.seamldrVersion} (${seamldr}); nothing written`);
  const selection = selected({ current: running, seamldr, cpu: r.cpu, allowDebug: opts.allowDebug ?? false }, mapping, modules);
  const p = pick(selection, opts);
  const known = { ...r, running, seamldr, selection };
  if ('refused' in p) return report(known, 'refused', p.refused);
  return yield* upload(h, io, paths, { ...known, chosen: p.version });
}

/** loading, data, loading; then `status` until idle, `error`, `version`. */
function* upload(h: Host, io: ToolIo, paths: ToolPaths, r: Known & { chosen: string }): Generator<Yield, ToolReport, void> {
  const bytes = io.image(r.chosen);
  const load = sysfsLoad(h, paths.fwNode, bytes);
  const y = io.observe?.({ kind: 'load', version: r.chosen, bytes, result: load });
  if (y) yield y;
  yield step(`tool: load ${r.chosen}`);
  if (load !== 'started') return report({ ...r, load }, 'busy', `the upload of ${r.chosen} did not start (${load})`);
  if (!(yield* pollIdle(h, io, `${paths.fwNode}/status`)))
    return report({ ...r, load }, 'timeout', `${paths.fwNode}/status did not go idle after ${MAX_STATUS_POLLS} reads`);
  const error = yield* read(h, io, `${paths.fwNode}/error`);
  const after = yield* read(h, io, paths.version);
  return judgeUpload({ ...r, load, error, after });
}

/**
 * Reads `status` until it is idle, at most MAX_STATUS_POLLS times. Between two reads the tool
 * sleeps; here that is a wait until the status has changed, so a poll never spins through the
 * scheduler and the number of reads stays bounded by the upload's phases.
 */
function* pollIdle(h: Host, io: ToolIo, path: string): Generator<Yield, boolean, void> {
  for (let i = 0; i < MAX_STATUS_POLLS; i++) {
    const status = yield* read(h, io, path);
    if (status === 'idle') return true;
    yield wait(() => h.tdxHost.fw?.progress !== status, 'tool: sleep until status changes', h.tdxHost.fw ?? waitQueue());
  }
  return false;
}

/** What `error` and `version` say about the upload (spec §4.2: only `version` tells fatal from harmless). */
function judgeUpload(r: Known & { chosen: string }): ToolReport {
  if (r.after === -ENXIO) return report(r, 'lost', `the update to ${r.chosen} failed (${r.error}) and version reads -ENXIO: the module and its TDs are lost`);
  if (r.error === '' && r.after === r.chosen) return report(r, 'applied', `${r.running} -> ${r.chosen} applied`);
  return report(
    r,
    'failed',
    `the update to ${r.chosen} failed (${r.error === '' ? 'no error' : r.error}); ${r.running === r.after ? `${r.after} still runs` : `version reads ${r.after}`}`,
  );
}
