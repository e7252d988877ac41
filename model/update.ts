// The update contract: an update attempt ends Applied, Refused (nothing changed) or Lost
// (only when something fails after the old module was shut down). Each action below is one
// linearization point of the implementation: guard, update, and what stays unchanged.
import { MRTD_INIT } from './measure.ts';
import type { ModelState } from './state.ts';
import type { FaultPlan, ModelImage, ModuleSpec } from './types.ts';

export type Outcome = 'applied' | 'refused' | 'lost';

/** errno the kernel returns: a number, or 'fails' where only "non-zero" is promised. */
export type Errno = number | 'fails';

export interface UpdatePrediction {
  readonly outcome: Outcome;
  readonly errno: Errno;
  /** Why, in the contract's words (shown in counterexamples). */
  readonly because: string;
}

const EBUSY = -16, EINVAL = -22, ENOSPC = -28, ECANCELED = -125;

/** fw_load: `loading` 1, `data`, `loading` 0. Guard: none. */
export function fwLoad(s: ModelState, image: ModelImage, fault: FaultPlan | null): 'started' | 'empty' | 'ignored' {
  if (s.upload.busy) return 'ignored'; // unchanged: a second upload in flight is silently ignored
  if (image.size === 0) return 'empty'; // unchanged, including the previous error
  s.upload = { busy: true, error: '', remainingSize: image.size, cancelRequested: false, cancelledAtWrite: false, pending: { image, fault }, ended: null };
  return 'started';
}

/** fw_prepare: a cancel from before this upload does not count. */
export function fwPrepare(s: ModelState): 'none' {
  s.upload.cancelRequested = false;
  return 'none';
}

/** fw_write: the driver looks at cancel once, before it starts the update. */
export function fwWrite(s: ModelState): boolean {
  s.upload.cancelledAtWrite = s.upload.cancelRequested;
  return s.upload.cancelledAtWrite;
}

/** cancel: takes effect only on an upload in flight, where cancel is supported; idle gives -ENODEV. */
export function cancel(s: ModelState): number {
  if (!s.upload.busy) return -19;
  if (s.params.cancelSupport) s.upload.cancelRequested = true;
  return 0;
}

/** Checks made before anything changes (spec §2.7 v2 prechecks, §3.2 image checks). */
function refusal(s: ModelState, image: ModelImage, fault: FaultPlan | null): UpdatePrediction | null {
  const refuse = (errno: Errno, because: string): UpdatePrediction => ({ outcome: 'refused', errno, because });
  if (s.upload.cancelledAtWrite) return refuse(ECANCELED, 'cancelled before the update started');
  if (s.params.slotsPrecheck && s.slots === 0) return refuse(ENOSPC, 'no update slots left');
  if (image.defect === 'header') return refuse(EINVAL, 'the kernel rejects the image');
  if (s.params.cpuOnlinePrecheck && s.online.some((o) => !o)) return refuse(EBUSY, 'a CPU is offline');
  if (s.module.status === 'lost') return refuse('fails', 'the module was already lost');
  if (fault?.kind === 'leaf' && fault.leaf === 'SHUTDOWN') return refuse('fails', 'TDH.SYS.SHUTDOWN fails; the old module keeps running');
  const old = s.module.spec, hv = s.handoffHv;
  if (hv < old.minUpdateHv || hv > old.moduleHv || (old.noDowngrade && hv !== old.moduleHv)) {
    return refuse('fails', `the module refuses handoff version ${hv}`);
  }
  if (s.params.avoidCompat && !old.updateCompat) return refuse('fails', 'the module reads AVOID_COMPAT_SENSITIVE as a handoff version');
  if (s.params.avoidCompat && [...s.tds.values()].some((td) => td.phase === 'building')) return refuse(EBUSY, 'a TD is being built');
  return null;
}

/** Why P-SEAMLDR installs nothing, if it does not (spec §2.5 step 2, §3.3). */
function installFailure(s: ModelState, image: ModelImage, fault: FaultPlan | null): string | null {
  const m = image.module;
  if (s.online.some((o) => !o)) return 'a CPU is offline, so P-SEAMLDR never sees the last LP';
  if (fault?.kind === 'install') return `SEAMLDR.INSTALL fails on CPU ${fault.cpu}`;
  if (image.defect === 'signature') return 'P-SEAMLDR rejects the sigstruct';
  if (m.debug && !s.host.debugUnlocked) return 'a debug module on a production platform';
  if (m.seamsvn < s.seamsvn) return `SEAMSVN ${m.seamsvn} is lower than ${s.seamsvn}`;
  if (!m.cpuids.includes(s.host.cpuFms & ~0xf)) return 'the CPU is not in the module\'s CPUID table';
  if (fault?.kind === 'no_entropy' && fault.count > 0) {
    // v2 retries once on the same CPU; a retry opens a new P-SEAMLDR session that again needs
    // every LP, so only a one-CPU platform recovers (derived from spec §2.5 P-SEAMLDR session).
    const recovers = s.params.entropyRetry && fault.count === 1 && s.host.nrCpus === 1;
    if (!recovers) return 'P-SEAMLDR has no entropy';
  }
  if (s.slots === 0) return 'P-SEAMLDR has no update slots';
  if (image.defect === 'hash') return 'the module does not match its sigstruct hash';
  return null;
}

/** Why the new module does not become ready after a successful install, if it does not. */
function bringUpFailure(s: ModelState, m: ModuleSpec, fault: FaultPlan | null): { because: string; lpInitWorks: boolean } | null {
  if (fault?.kind === 'leaf' && fault.leaf === 'SYS_INIT') return { because: 'TDH.SYS.INIT fails', lpInitWorks: false };
  if (fault?.kind === 'leaf' && fault.leaf === 'LP_INIT') return { because: 'TDH.SYS.LP.INIT fails', lpInitWorks: true };
  if (s.handoffHv < m.minUpdateHv || s.handoffHv > m.moduleHv) {
    return { because: `the new module cannot import handoff version ${s.handoffHv}`, lpInitWorks: true };
  }
  if (fault?.kind === 'leaf' && fault.leaf === 'UPDATE') return { because: 'TDH.SYS.UPDATE fails', lpInitWorks: true };
  return null;
}

function lose(s: ModelState, lpInitWorks: boolean): void {
  s.module = { status: 'lost', lpInitWorks };
  for (const td of s.tds.values()) td.alive = false;
}

/**
 * The new module runs; TDs carry over. A TD mid-build loses its measurement context: an old
 * module restarts it, one with UPDATE_COMPAT refuses to go on with it (spec §3.7).
 */
function apply(s: ModelState, m: ModuleSpec): void {
  s.module = { status: 'ready', spec: m };
  if (s.params.currentHandoffHv) s.handoffHv = m.moduleHv;
  for (const td of s.tds.values()) {
    if (td.phase !== 'building') continue;
    if (m.updateCompat) td.buildBroken = true;
    else td.mrtd = MRTD_INIT;
  }
}

/** update: what the driver's write op (seamldr_install_module) returns and does. */
export function update(s: ModelState): UpdatePrediction {
  const p = decide(s);
  s.upload.ended = { applied: p.outcome === 'applied', errno: p.errno };
  return p;
}

function decide(s: ModelState): UpdatePrediction {
  const { image, fault } = s.upload.pending!;
  const refused = refusal(s, image, fault);
  if (refused) return refused;
  const notInstalled = installFailure(s, image, fault);
  if (notInstalled) {
    lose(s, false);
    return { outcome: 'lost', errno: 'fails', because: notInstalled };
  }
  s.slots--;
  s.seamsvn = image.module.seamsvn;
  const notUp = bringUpFailure(s, image.module, fault);
  if (notUp) {
    lose(s, notUp.lpInitWorks);
    return { outcome: 'lost', errno: 'fails', because: notUp.because };
  }
  apply(s, image.module);
  return { outcome: 'applied', errno: 0, because: 'the new module runs' };
}

/** fw_done: the worker finished; `error` tells success from failure, not harmless from fatal. */
export function fwDone(s: ModelState): string {
  const { image } = s.upload.pending!;
  const { applied, errno } = s.upload.ended!;
  const err = errno === ECANCELED ? 'user-abort' : errno === EBUSY && s.params.deviceBusyError ? 'device-busy' : 'firmware-invalid';
  s.upload = {
    busy: false,
    error: applied ? '' : `transferring:${err}`,
    remainingSize: applied ? 0 : image.size,
    cancelRequested: false,
    cancelledAtWrite: false,
    pending: null,
    ended: null,
  };
  return s.upload.error;
}

/** `cat error`: -EBUSY while in flight. */
export function readError(s: ModelState): string | number {
  return s.upload.busy ? EBUSY : s.upload.error;
}
