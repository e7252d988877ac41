// The update contract (DESIGN.md; spec §4.1, §7 I-7): an update attempt ends Applied, Refused
// (nothing changed) or Lost (only when something fails after the old module was shut down).
// The conditions below are stated as sets, not as a sequence of checks: every refusal reason
// that holds is an allowed result, since the contract promises no order between them.
import { only, type Allowed, type Choices } from './allowed.ts';
import { idleUpload, type ModelState, type ModelTd } from './state.ts';
import {
  EBUSY,
  ECANCELED,
  EINVAL,
  EIO,
  ENODEV,
  ENOSPC,
  RDRAND_RETRY_LOOPS,
  type Errno,
  type FaultLeaf,
  type FaultPlan,
  type ModelImage,
  type ModuleSpec,
} from './types.ts';

export type Outcome = 'applied' | 'refused' | 'lost';

export interface UpdateResult {
  readonly outcome: Outcome;
  readonly errno: Errno;
}

/**
 * fw_load: `loading` 1, `data`, `loading` 0 (fw_upload_start). While an upload is in flight a
 * second is ignored, or, when it comes as the worker finishes (after the loading state is
 * reset, before progress is idle), refused -EBUSY with the loading state left done, which
 * ignores every later load (spec §2.1; sysfs_upload.c fw_upload_main, sysfs.c
 * firmware_loading_store). properties/goals.ts upload-not-wedged asks for better.
 */
export function fwLoad(s: ModelState, image: ModelImage, fault: FaultPlan | null): Choices<'started' | 'empty' | 'ignored' | 'busy'> {
  if (s.upload.wedged) return only('ignored', 'the loading state was left done');
  if (s.upload.busy)
    return [
      { result: 'ignored', because: 'a second upload in flight is ignored' },
      { result: 'busy', because: 'refused as the upload in flight finishes', next: (t) => void (t.upload.wedged = true) },
    ];
  if (image.size === 0) return only('empty', 'nothing starts; the previous error stays readable');
  return only('started', 'no upload in flight', (t) => {
    t.upload = { ...idleUpload('', image.size), busy: true, pending: { image, fault } };
    if (fault?.kind === 'seamldr_info') t.infoFault = fault.cpu % t.host.nrCpus;
  });
}

/** fw_prepare: a cancel from before this upload does not count (v3 fix of B20). */
export function fwPrepare(s: ModelState): 'none' {
  s.upload.cancelRequested = false;
  return 'none';
}

/** fw_write: the driver looks at cancel once, before it starts the update. */
export function fwWrite(s: ModelState): boolean {
  s.upload.cancelledAtWrite = s.upload.cancelRequested;
  return s.upload.cancelledAtWrite;
}

/** cancel: -ENODEV when idle; in flight it is accepted, and counts only with cancel support. */
export function cancel(s: ModelState): number {
  if (!s.upload.busy) return ENODEV;
  if (s.params.cancelSupport) s.upload.cancelRequested = true;
  return 0;
}

interface Reason {
  readonly errno: Errno;
  readonly because: string;
}

/** Every TD the module holds, or might: KVM's, and those whose teardown failed (leaked). */
const held = (s: ModelState) => [...s.tds.values(), ...s.leaked.values()];

// A TD KVM gave up on is still mid-build in the module until it is torn down, and a leaked one for good.
const building = (s: ModelState) => held(s).some((td) => td.phase === 'building');

/** The old module refuses to hand off at version hv (spec §2.5 TDH.SYS.SHUTDOWN HV check). */
const refusesHandoff = (m: ModuleSpec, hv: number) => hv < m.minUpdateHv || hv > m.moduleHv || (m.noDowngrade && hv !== m.moduleHv);

/** Why nothing may change: conditions the kernel or the running module see before shutdown. */
function refusals(s: ModelState, image: ModelImage, fault: FaultPlan | null): Reason[] {
  const p = s.params,
    r: Reason[] = [];
  if (s.upload.cancelledAtWrite) r.push({ errno: ECANCELED, because: 'cancelled before the update started' });
  if (p.slotsPrecheck && s.slots === 0) r.push({ errno: ENOSPC, because: 'no update slots left (v2 precheck)' });
  if (image.defect === 'header') r.push({ errno: EINVAL, because: 'the kernel rejects the image' });
  if (p.cpuOnlinePrecheck && s.online.includes(false)) r.push({ errno: EBUSY, because: 'a CPU is offline (v2 precheck)' });
  if (s.module.status === 'lost') return [...r, { errno: 'nonzero', because: 'the module was already lost: nothing can be shut down' }];
  const old = s.module.spec;
  if (fault?.kind === 'leaf' && fault.leaf === 'SHUTDOWN') r.push({ errno: 'nonzero', because: 'TDH.SYS.SHUTDOWN fails; the old module keeps running' });
  // The update's first call into the module (merged: the MODULE_HV read; v2: TDH.SYS.SHUTDOWN).
  if (fault?.kind === 'tdx_no_entropy')
    r.push({
      errno: 'nonzero',
      because: `the TDX module has no entropy ${fault.count} times: its first call fails after the last retry; nothing is shut down`,
    });
  // Merged: no shutdown without the handoff version (spec §2.5 step 1, §4.1 row 3).
  if (p.handoffHvReadAtShutdown && fault?.kind === 'leaf' && fault.leaf === 'RD_MODULE_HV')
    r.push({ errno: 'nonzero', because: 'TDH.SYS.RD of MODULE_HV fails; nothing is shut down' });
  if (refusesHandoff(old, s.handoffHv)) r.push({ errno: 'nonzero', because: `the running module refuses handoff version ${s.handoffHv}` });
  if (p.avoidCompat && !old.updateCompat) r.push({ errno: 'nonzero', because: 'the running module reads AVOID_COMPAT_SENSITIVE as a handoff version' });
  if (p.avoidCompat && old.updateCompat && building(s)) r.push({ errno: EBUSY, because: 'a TD is being built (AVOID_COMPAT_SENSITIVE)' });
  return r;
}

/** The leaves between shutdown and the new module's TDH.SYS.UPDATE: failing any loses the module. */
const DESTRUCTIVE: ReadonlySet<FaultLeaf> = new Set(['SYS_INIT', 'LP_INIT', 'UPDATE']);

/** What makes an update that got past shutdown fail: the new module never runs (spec §4.1 rows 5-8). */
function losses(s: ModelState, image: ModelImage, fault: FaultPlan | null): string[] {
  const m = image.module,
    r: string[] = [];
  if (s.online.includes(false)) r.push('a CPU is offline: not every LP takes part');
  if (fault?.kind === 'install' || (fault?.kind === 'leaf' && DESTRUCTIVE.has(fault.leaf)))
    r.push(`${fault.kind === 'leaf' ? fault.leaf : 'SEAMLDR.INSTALL'} fails`);
  if (fault?.kind === 'no_entropy' && !(s.params.entropyRetry && fault.count === 1)) r.push('P-SEAMLDR has no entropy');
  if (image.defect === 'signature' || image.defect === 'hash') r.push(`P-SEAMLDR rejects the image (${image.defect})`);
  if (m.debug && !s.host.debugUnlocked) r.push('a debug module on a production platform');
  if (m.seamsvn < s.seamsvn) r.push(`SEAMSVN ${m.seamsvn} is lower than ${s.seamsvn}`);
  if (!m.cpuids.includes(s.host.cpuFms & ~0xf)) r.push("the CPU is not in the module's CPUID table");
  if (s.slots === 0) r.push('no update slots left');
  if (s.handoffHv < m.minUpdateHv || s.handoffHv > m.moduleHv) r.push(`the new module cannot import handoff version ${s.handoffHv}`);
  if (s.module.status === 'ready' && !takesOver(m, s.module.spec)) r.push('the new module cannot take TDs over from the running one (not TD-preserving)');
  return r;
}

/** Intel's TD-preserving rule on versions (spec §3.5): same major.minor, and not older than the new module's minimum. */
function takesOver(m: ModuleSpec, old: ModuleSpec): boolean {
  const a = old.version,
    min = m.minTdPreserving;
  return a.major === m.version.major && a.minor === m.version.minor && a.update >= min.update;
}

function ended(s: ModelState, applied: boolean, actual: unknown): void {
  s.upload.ended = { applied, errno: typeof actual === 'number' ? actual : -1 };
}

/**
 * Lost: every TD is dead and `version` reads -ENXIO. Whether P-SEAMLDR installed the new module
 * (a slot is used) and whether it got far enough for CPUs to come online later is the
 * firmware's business: every combination the spec allows is a successor (spec §4.1 rows 5-8).
 */
function lost(s: ModelState, because: string): Allowed<UpdateResult>[] {
  const lose = (slotUsed: boolean, lpInitWorks: boolean) => (t: ModelState, actual: unknown) => {
    t.module = { status: 'lost', lpInitWorks };
    for (const td of held(t)) td.alive = false;
    if (slotUsed) t.slots--;
    ended(t, false, actual);
  };
  const result: UpdateResult = { outcome: 'lost', errno: 'nonzero' };
  const none = { result, because: `${because}; no module was installed`, next: lose(false, false) };
  if (s.slots === 0) return [none];
  return [
    none,
    { result, because: `${because}; a module was installed but never initialized`, next: lose(true, false) },
    { result, because: `${because}; a module was installed and initialized, never made ready`, next: lose(true, true) },
  ];
}

/**
 * Where this attempt stands in a chain of updates, added to the reasons of its result so that the
 * coverage table shows chains (issue 14 part 5). Only an applied update uses a slot and keeps a
 * module, so while one runs the slots used are the updates applied.
 */
function chainContext(s: ModelState, m: ModuleSpec): string[] {
  if (s.module.status !== 'ready') return [];
  const old = s.module.spec,
    done = s.host.numRemainingUpdates - s.slots;
  if (done < 1) return [];
  const r = [done === 1 ? 'after one applied update' : 'after two or more applied updates'];
  if (old.updateCompat !== m.updateCompat) r.push('to a module whose features differ, after an applied update');
  const v = old.version,
    onOld = (td: ModelTd) => td.launch.version.major === v.major && td.launch.version.minor === v.minor && td.launch.version.update === v.update;
  if ([...s.tds.values()].some((td) => td.phase === 'building' && onOld(td))) r.push('right after a TD build began on a module an update installed');
  return r;
}

/**
 * What a failed TDH.SYS.RD after TDH.SYS.UPDATE leaves stale (spec §8 B12, §4.1 row 9: the
 * update stands, only warned about): the version the kernel reports, and where the kernel
 * caches MODULE_HV instead of reading it at shutdown (v2), the handoff version it will ask for.
 */
function staleAfterRead(s: ModelState, fault: FaultPlan | null): { version: boolean; hv: boolean } {
  const leaf = fault?.kind === 'leaf' ? fault.leaf : null;
  const read = leaf?.startsWith('RD_') ?? false;
  return { version: read && leaf !== 'RD_MODULE_HV', hv: read && s.params.currentHandoffHv && !s.params.handoffHvReadAtShutdown };
}

/**
 * Applied: the new module runs, one slot is used, TDs carry over. A TD mid-build loses its
 * measurement context: an old module restarts it, one with UPDATE_COMPAT refuses to go on (§3.7).
 */
function applied(s: ModelState, m: ModuleSpec, fault: FaultPlan | null): Allowed<UpdateResult>[] {
  const stale = staleAfterRead(s, fault),
    oldVersion = s.module.status === 'ready' ? s.module.spec.version : undefined;
  const because = ['the new module runs', ...chainContext(s, m)].join('; ');
  const next = (keepHv: boolean) => (t: ModelState, actual: unknown) => {
    t.module = stale.version && oldVersion ? { status: 'ready', spec: m, staleVersion: oldVersion } : { status: 'ready', spec: m };
    t.slots--;
    t.seamsvn = m.seamsvn;
    if (t.params.currentHandoffHv && !keepHv) t.handoffHv = m.moduleHv;
    for (const td of held(t)) {
      if (td.phase !== 'building') continue;
      if (m.updateCompat) td.buildBroken = true;
      else td.mrtd = null;
    }
    ended(t, true, actual);
  };
  const result: UpdateResult = { outcome: 'applied', errno: 0 };
  const fresh = { result, because, next: next(false) };
  if (!stale.hv) return [fresh];
  return [fresh, { result, because: `${because}; the kernel keeps the old handoff version: its re-read failed`, next: next(true) }];
}

/**
 * An armed SEAMLDR.INFO failure (spec §2.2, v2 p10). v2's slots precheck issues SEAMLDR.INFO
 * first, in the worker on CPU 0, and fails with -EIO when it fails; a P-SEAMLDR read on that CPU
 * may have taken the failure first, so the update may also go on as without it. An update that
 * got to shutdown or beyond disarms it (the fault lives until the update begins).
 */
function withInfoFault(s: ModelState, results: Choices<UpdateResult>): Choices<UpdateResult> {
  if (s.infoFault === null) return results;
  const disarm = (r: Allowed<UpdateResult>): Allowed<UpdateResult> => ({
    ...r,
    next: (t, a) => {
      r.next?.(t, a);
      t.infoFault = null;
    },
  });
  const past = results.map((r) => (r.result.outcome === 'refused' ? r : disarm(r)));
  if (s.infoFault !== 0 || !s.params.slotsPrecheck) return past;
  const failed = {
    result: { outcome: 'refused' as const, errno: EIO },
    because: 'SEAMLDR.INFO fails in the v2 precheck',
    next: (t: ModelState, a: unknown) => ended(t, false, a),
  };
  return [disarm(failed), ...past];
}

/** update: what the driver's write op (seamldr_install_module) may return, and what follows. */
export function update(s: ModelState): Choices<UpdateResult> {
  return withInfoFault(s, updateResults(s));
}

function updateResults(s: ModelState): Choices<UpdateResult> {
  const { image, fault: plan } = s.upload.pending!;
  // Fewer than RDRAND_RETRY_LOOPS TDX_RND_NO_ENTROPY are retried away: as if there were no fault.
  const fault = plan?.kind === 'tdx_no_entropy' && plan.count < RDRAND_RETRY_LOOPS ? null : plan;
  const refused = refusals(s, image, fault);
  if (refused.length) {
    return refused.map((r) => ({
      result: { outcome: 'refused' as const, errno: r.errno },
      because: [r.because, ...chainContext(s, image.module)].join('; '),
      next: (t: ModelState, a: unknown) => ended(t, false, a),
    }));
  }
  const lossy = losses(s, image, fault);
  if (lossy.length) return lost(s, lossy.join('; '));
  // v2 retries SEAMLDR.INSTALL once on no entropy: the retry may or may not succeed.
  if (fault?.kind === 'no_entropy') return [...applied(s, image.module, fault), ...lost(s, 'P-SEAMLDR had no entropy, and the retry failed too')];
  return applied(s, image.module, fault);
}

/** fw_done: the worker goes idle; `error` tells success from failure, not harmless from fatal (§4.2). */
export function fwDone(s: ModelState): string {
  const { image } = s.upload.pending!;
  const { applied: ok, errno } = s.upload.ended!;
  const err = errno === ECANCELED ? 'user-abort' : errno === EBUSY && s.params.deviceBusyError ? 'device-busy' : 'firmware-invalid';
  s.upload = idleUpload(ok ? '' : `transferring:${err}`, ok ? 0 : image.size, s.upload.wedged);
  return s.upload.error;
}

/** `cat error`: -EBUSY while in flight. */
export function readError(s: ModelState): Choices<string | number> {
  return s.upload.busy ? only(EBUSY, 'an upload is in flight') : only(s.upload.error, "the last upload's error");
}

/** `cat status` (spec §4.2): idle, or where the upload in flight may be. */
export function readStatus(s: ModelState): Choices<string> {
  const u = s.upload;
  const may = (states: string[], because: string) => states.map((result) => ({ result, because }));
  if (!u.busy) return only('idle', 'no upload in flight');
  if (u.ended === null) return may(['receiving', 'preparing', 'transferring'], 'the update has not returned yet');
  return may(u.ended.applied ? ['transferring', 'programming'] : ['transferring'], 'the update returned; the worker is finishing');
}
