// TDs as the contract sees them: each KVM SEAMCALL for a TD either succeeds as the TD's phase
// allows, or fails and KVM gives up on the TD (KVM_BUG_ON). Guard, update, unchanged.
// `injected`: the environment failed the call (an injected fault, busy: spec §5.3 class 0x02).
// Whatever the TD's state, the call then fails, and it changes nothing but what KVM does with
// the TD: no page, measurement or phase of it, no other TD, nothing of the module or an update.
import type { ModelState, ModelTd, PageVal, TdPhase } from './state.ts';

export interface GuestWrite {
  readonly gpa: number;
  readonly offset: number;
  readonly value: number;
}

/** The TD an ioctl acts on: KVM's, or one its teardown leaked while the ioctl held the VM. */
const tdOf = (s: ModelState, id: number): ModelTd | undefined => s.tds.get(id) ?? s.leaked.get(id);

/** Guard shared by the build SEAMCALLs: the module runs, the TD is alive and in `phase`. */
function usable(s: ModelState, td: ModelTd | undefined, phase: TdPhase): td is ModelTd {
  return s.module.status === 'ready' && td !== undefined && td.alive && td.phase === phase && !td.buildBroken;
}

function fail(td: ModelTd | undefined): false {
  if (td) td.alive = false;
  return false;
}

/** TDH.MNG.CREATE: a new TD, launched on the running module's TCB; failed, the module holds no TD. */
export function tdCreate(s: ModelState, id: number, injected = false): boolean {
  const ready = s.module.status === 'ready' && !injected;
  const launch =
    s.module.status === 'ready' ? { version: s.module.spec.version, seamsvn: s.seamsvn } : { version: { major: 0, minor: 0, update: 0 }, seamsvn: 0 };
  s.tds.set(id, { phase: 'created', alive: ready, created: ready, buildBroken: false, pages: new Map(), mrtd: null, launch });
  return ready;
}

export function tdKeyConfig(s: ModelState, id: number, injected = false): boolean {
  const td = tdOf(s, id);
  if (injected || !usable(s, td, 'created')) return fail(td);
  td.phase = 'keyed';
  return true;
}

/** TDH.MNG.INIT: the measurement starts. */
export function tdInit(s: ModelState, id: number, injected = false): boolean {
  const td = tdOf(s, id);
  if (injected || !usable(s, td, 'keyed')) return fail(td);
  td.phase = 'building';
  td.mrtd = null;
  return true;
}

/**
 * TDH.MEM.PAGE.ADD: the page becomes the TD's; its address is measured. Busy, it is the one TD
 * leaf KVM does not give up on: the ioctl returns -EBUSY for userspace to retry, and the TD is
 * as it was and usable (spec §3.7: tdh_mem_page_add's non-busy errors are KVM_BUG_ON [T-v7 #76]).
 */
export function tdPageAdd(s: ModelState, id: number, gpa: number, fill: number, injected = false): boolean {
  if (injected) return false;
  const td = tdOf(s, id);
  if (!usable(s, td, 'building') || td.pages.has(gpa)) return fail(td);
  td.pages.set(gpa, { fill, stores: new Map() });
  td.mrtd = { op: 'page_add', gpa, prev: td.mrtd };
  return true;
}

/** TDH.MR.EXTEND: the page's contents are measured. */
export function tdExtend(s: ModelState, id: number, gpa: number, injected = false): boolean {
  const td = tdOf(s, id);
  const page = td?.pages.get(gpa);
  if (injected || !usable(s, td, 'building') || page === undefined) return fail(td);
  td.mrtd = { op: 'extend', gpa, fill: page.fill, prev: td.mrtd };
  return true;
}

export function tdFinalize(s: ModelState, id: number, injected = false): boolean {
  const td = tdOf(s, id);
  if (injected || !usable(s, td, 'building')) return fail(td);
  td.phase = 'finalized';
  return true;
}

function store(p: PageVal, offset: number, value: number): PageVal {
  return { fill: p.fill, stores: new Map(p.stores).set(offset, value) };
}

/** TDH.VP.ENTER: the guest runs and stores to its own memory; a store outside it fails the entry. */
export function tdRun(s: ModelState, id: number, writes: readonly GuestWrite[], injected = false): boolean {
  const td = tdOf(s, id);
  const outside = (w: GuestWrite) => !td!.pages.has(w.gpa) || !Number.isInteger(w.offset) || w.offset < 0 || w.offset >= 4096;
  if (injected || s.module.status !== 'ready' || !td?.alive || td.phase !== 'finalized' || writes.some(outside)) return fail(td);
  for (const w of writes) td.pages.set(w.gpa, store(td.pages.get(w.gpa)!, w.offset, w.value));
  return true;
}

/**
 * Teardown: KVM forgets the TD; the module reclaims it if it holds it and still runs. When
 * TDH.MNG.KEY.FREEID fails instead, the module keeps the TD and its HKID leaks; one it holds
 * mid-build stays a build in progress for every later update (spec §3.7). A second teardown
 * already in flight on the same VM may still free it.
 */
export function tdTeardown(s: ModelState, id: number, injected = false): boolean {
  const td = tdOf(s, id);
  const held = s.module.status === 'ready' && td !== undefined && td.created;
  s.tds.delete(id);
  s.leaked.delete(id);
  if (held && injected) s.leaked.set(id, td);
  return held && !injected;
}
