// The kernel side of a runtime update: image checks, SEAMLDR_PARAMS, and the stop_machine
// state machine that walks every CPU through SHUTDOWN, CPU_INSTALL, CPU_INIT, RUN_UPDATE.
// Mirrors: torvalds/linux arch/x86/virt/vmx/tdx/seamldr.c @ b2128290, with the seed (v2)
// policies of spec §2.7 where `h.rev` selects them: v1 blob format, the slots and CPU-online
// prechecks, first-online-CPU lead, SEAMLDR no-entropy retry.
import {
  P_SEAMLDR_INFO, P_SEAMLDR_INSTALL, PAGE_SIZE, SEAMLDR_ENOENTROPY, SEAMLDR_INFO_OFF, SEAMLDR_MAX_NR_MODULE_PAGES,
  SEAMLDR_SCENARIO_UPDATE,
} from '../firmware/abi.ts';
import { seamldrInfo, type SeamldrInfo } from '../firmware/pseamldr.ts';
import { numOnlineCpus, onlineCpus } from '../platform/cpu.ts';
import { EBUSY, EINVAL, EIO, ENOSPC } from './errno.ts';
import { seamldrCall, statusToErrno } from './seamcall.ts';
import { stopMachine, type Yield } from './sched.ts';
import { tdxCpuEnable, tdxModuleRunUpdate, tdxModuleShutdown, tdxRefreshAfterUpdate } from './tdx.ts';
import type { Host } from '../host.ts';

/** enum module_update_state (merged) / TDP_* (v2). */
export const UPDATE_STATES = ['START', 'SHUTDOWN', 'CPU_INSTALL', 'CPU_INIT', 'RUN_UPDATE', 'DONE'] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];
const START = 0, SHUTDOWN = 1, CPU_INSTALL = 2, CPU_INIT = 3, RUN_UPDATE = 4, DONE = 5;

/** update_ctrl: the shared control block, under a raw spinlock (every access here is one step). */
export interface UpdateCtrl {
  state: number;
  numAck: number;
  numFailed: number;
  /** Participants: num_online_cpus() read under cpus_read_lock (or, with B4, before it). */
  nrParticipants: number;
}

/** The image as the kernel holds it: vmalloc'd pages plus the length userspace wrote. */
export interface ImageBuf {
  readonly pas: number[];
  readonly len: number;
}

/** tdx_blob v1 header (spec §3.2; Intel blob_structure.txt). */
const BLOB_VERSION = 0, BLOB_OFFSET_OF_MODULE = 4, BLOB_SIGNATURE = 8,
  BLOB_LENGTH = 16, BLOB_RESERVED0 = 20, BLOB_HEADER_SIZE = 4096;
const TDX_BLOB_SIGNATURE = 'TDX-BLOB';

/** Read n bytes of the image; a read past `len` is recorded (I-15) and yields garbage (0xff). */
function imageBytes(h: Host, img: ImageBuf, off: number, n: number): Uint8Array {
  if (off + n > img.len) h.trace.push({ kind: 'oob_read', offset: off, len: img.len });
  const out = new Uint8Array(n).fill(0xff);
  for (let i = off; i < Math.min(off + n, img.len);) {
    const page = h.mem.page(img.pas[Math.floor(i / PAGE_SIZE)]!)!;
    const from = i % PAGE_SIZE, take = Math.min(PAGE_SIZE - from, Math.min(off + n, img.len) - i);
    out.set(page.subarray(from, from + take), i - off);
    i += take;
  }
  return out;
}

function imageLe(h: Host, img: ImageBuf, off: number, n: number): number {
  return imageBytes(h, img, off, n).reduceRight((acc, b) => acc * 256 + b, 0);
}

/** The 16-bit sum of all little-endian words, carry discarded; a valid blob sums to 0 [T-v3 #108]. */
function blobChecksum(h: Host, img: ImageBuf): number {
  const b = imageBytes(h, img, 0, img.len);
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum = (sum + b[i]! + (i + 1 < b.length ? b[i + 1]! << 8 : 0)) & 0xffff;
  return sum;
}

export interface BlobLayout { sigPage: number; nrSigPages: number; modulePage: number; nrModulePages: number }

/** v2 p11 check order: version, checksum, length, signature, reserved, sig size, module size. */
export function parseBlobV1(h: Host, img: ImageBuf): { ret: number; layout: BlobLayout | null } {
  const bad = { ret: -EINVAL, layout: null };
  if (img.len < BLOB_HEADER_SIZE && !h.bugs.has('header-before-size')) return bad;
  if (imageLe(h, img, BLOB_VERSION, 2) !== 0x100) return bad;
  if (blobChecksum(h, img) !== 0) return bad;
  if (imageLe(h, img, BLOB_LENGTH, 4) !== img.len) return bad;
  if (String.fromCharCode(...imageBytes(h, img, BLOB_SIGNATURE, 8)) !== TDX_BLOB_SIGNATURE) return bad;
  // reserved0 and reserved1[] run to the end of the header; reserved2/3 are not checked.
  if (imageBytes(h, img, BLOB_RESERVED0, BLOB_HEADER_SIZE - BLOB_RESERVED0).some((b) => b !== 0)) return bad;
  const offset = imageLe(h, img, BLOB_OFFSET_OF_MODULE, 4);
  // Exactly one 4 KiB sigstruct page: v2 rejects N > 0 reserved3 pages [T-v2 #80-82].
  if (offset - BLOB_HEADER_SIZE !== PAGE_SIZE) return bad;
  const moduleSize = img.len - offset;
  if (moduleSize <= 0 || moduleSize > SEAMLDR_MAX_NR_MODULE_PAGES * PAGE_SIZE || moduleSize % PAGE_SIZE) return bad;
  return { ret: 0, layout: { sigPage: 1, nrSigPages: 1, modulePage: offset / PAGE_SIZE, nrModulePages: moduleSize / PAGE_SIZE } };
}

/** tdx_image v2 header (spec §3.2 merged format). */
const IMG_VERSION = 0, IMG_SIGNATURE = 4, IMG_SIG_PAGES = 12, IMG_MODULE_PAGES = 16, IMG_RESERVED = 20;
const SEAMLDR_MAX_NR_SIG_PAGES = 1;

/**
 * Merged check order: the early length check (v10), the size equation in u32 arithmetic,
 * version, page-count bounds, signature, reserved bytes. The checksum is not checked.
 */
export function parseImageV2(h: Host, img: ImageBuf): { ret: number; layout: BlobLayout | null } {
  const bad = { ret: -EINVAL, layout: null };
  if (img.len < BLOB_HEADER_SIZE && !h.bugs.has('header-before-size')) return bad;
  const s = imageLe(h, img, IMG_SIG_PAGES, 4), m = imageLe(h, img, IMG_MODULE_PAGES, 4);
  // sigstruct_len and module_len are u32: 2^20 + k pages wrap to k pages (bug B14's setting).
  const total = (BLOB_HEADER_SIZE + ((s * PAGE_SIZE) >>> 0) + ((m * PAGE_SIZE) >>> 0)) >>> 0;
  if (total !== img.len) return bad;
  if (imageLe(h, img, IMG_VERSION, 2) !== 0x200) return bad;
  if (s > SEAMLDR_MAX_NR_SIG_PAGES || (m > SEAMLDR_MAX_NR_MODULE_PAGES && !h.bugs.has('page-count-overflow'))) return bad;
  if (String.fromCharCode(...imageBytes(h, img, IMG_SIGNATURE, 8)) !== TDX_BLOB_SIGNATURE) return bad;
  if (imageBytes(h, img, IMG_RESERVED, BLOB_HEADER_SIZE - IMG_RESERVED).some((b) => b !== 0)) return bad;
  return { ret: 0, layout: { sigPage: 1, nrSigPages: s, modulePage: 1 + s, nrModulePages: m } };
}

/** init_seamldr_params(): SEAMLDR_PARAMS in a fresh page, PAs of the image pages in order (I-16). */
export function initSeamldrParams(h: Host, img: ImageBuf, l: BlobLayout): number {
  const pa = h.mem.allocPages(1)[0]!;
  const v = new DataView(h.mem.page(pa)!.buffer);
  v.setUint32(0, 0, true);
  v.setUint32(4, SEAMLDR_SCENARIO_UPDATE, true);
  if (l.nrSigPages) v.setBigUint64(8, BigInt(img.pas[l.sigPage]!), true);
  v.setBigUint64(120, BigInt(l.nrModulePages), true);
  for (let j = 0; j < l.nrModulePages; j++) {
    // module_pages_pa_list has 496 entries; writing past them is the overflow of bug B14.
    if (j === SEAMLDR_MAX_NR_MODULE_PAGES) {
      h.trace.push({ kind: 'oob_write', index: j, of: l.nrModulePages });
      break;
    }
    v.setBigUint64(128 + 8 * j, BigInt(img.pas[l.modulePage + j] ?? 0), true);
  }
  return pa;
}

/** seamldr_get_info() at boot, when nothing else runs: SEAMLDR.INFO, or null if it failed. */
export function seamldrGetInfoAtBoot(h: Host, cpu: number): SeamldrInfo | null {
  const r = seamldrInfo(h.seam, cpu);
  h.trace.push({ kind: 'seamcall', cpu, task: 'boot', leaf: P_SEAMLDR_INFO, rcx: 0n, status: r.status });
  return r.status === 0n ? r.info : null;
}

/** seamldr_get_info(): SEAMLDR.INFO into a SEAMLDR_INFO buffer, or null if it failed. */
export function* seamldrGetInfo(h: Host, cpu: number): Generator<Yield, SeamldrInfo | null, void> {
  const pa = h.mem.allocPages(1)[0]!; // v4+: an on-stack buffer per call [T-v3 #109]
  const r = yield* seamldrCall(h, cpu, P_SEAMLDR_INFO, { rcx: BigInt(pa) });
  const v = new DataView(h.mem.page(pa)!.buffer);
  h.mem.free(pa);
  if (r.status !== 0n) return null;
  const O = SEAMLDR_INFO_OFF;
  return {
    version: { major: v.getUint16(O.MAJOR, true), minor: v.getUint16(O.MINOR, true), update: v.getUint16(O.UPDATE, true) },
    numRemainingUpdates: v.getUint32(O.NUM_REMAINING_UPDATES, true),
    seamReady: v.getUint8(O.SEAM_READY) !== 0,
    seamDebug: v.getUint8(O.SEAM_DEBUG) !== 0,
  };
}

/** seamldr_install(): SEAMLDR.INSTALL on this CPU; v2 retries when P-SEAMLDR has no entropy [T-v2 p04]. */
function* seamldrInstall(h: Host, cpu: number, paramsPa: number): Generator<Yield, number, void> {
  let r = yield* seamldrCall(h, cpu, P_SEAMLDR_INSTALL, { rcx: BigInt(paramsPa) });
  if (h.rev.seamldrEntropyRetry && r.status === SEAMLDR_ENOENTROPY) {
    r = yield* seamldrCall(h, cpu, P_SEAMLDR_INSTALL, { rcx: BigInt(paramsPa) });
  }
  return statusToErrno(r.status);
}

/** The work of one state on one CPU; lead-only states do nothing elsewhere. */
function* stepWork(h: Host, cpu: number, lead: number, state: number, paramsPa: number): Generator<Yield, number | null, void> {
  switch (state) {
    case SHUTDOWN: return cpu === lead ? tdxModuleShutdown(h, cpu) : null;
    case CPU_INSTALL: return yield* seamldrInstall(h, cpu, paramsPa);
    case CPU_INIT: return tdxCpuEnable(h, cpu);
    case RUN_UPDATE: return cpu === lead ? tdxModuleRunUpdate(h, cpu) : null;
    default: return null;
  }
}

function* doStep(h: Host, cpu: number, lead: number, state: number, paramsPa: number): Generator<Yield, number, void> {
  const ret = yield* stepWork(h, cpu, lead, state, paramsPa);
  if (ret === null) return 0;
  h.trace.push({ kind: 'update_work', cpu, state: UPDATE_STATES[state]!, ret });
  return ret;
}

/** ack_state(): the failure and the ack are counted together; advance only if none failed (I-5). */
function ackState(h: Host, ctrl: UpdateCtrl, ret: number): void {
  if (!h.bugs.has('ack-before-fail')) ctrl.numFailed += ret !== 0 ? 1 : 0;
  ctrl.numAck++;
  if (ctrl.numAck === ctrl.nrParticipants && (ctrl.numFailed === 0 || h.bugs.has('no-early-abort'))) {
    ctrl.numAck = 0;
    ctrl.state++;
    if (ctrl.state <= DONE) h.trace.push({ kind: 'state', state: UPDATE_STATES[ctrl.state]! });
  }
}

/** do_seamldr_install_module(): one CPU's loop; every iteration is one step. */
function* doSeamldrInstallModule(h: Host, ctrl: UpdateCtrl, lead: number, paramsPa: number, cpu: number): Generator<Yield, number, void> {
  let curstate = START;
  let ret = 0;
  do {
    const newstate = ctrl.state;
    if (newstate !== curstate) {
      curstate = newstate;
      ret = yield* doStep(h, cpu, lead, curstate, paramsPa);
      h.trace.push({ kind: 'ack', cpu, state: UPDATE_STATES[Math.min(curstate, DONE)]!, ret });
      ackState(h, ctrl, ret);
      if (h.bugs.has('ack-before-fail') && ret !== 0) {
        yield { kind: 'step', label: 'ack before failure is recorded' };
        ctrl.numFailed++;
      }
    }
    yield { kind: 'step', label: 'cpu_relax' };
  } while (curstate < DONE && (ctrl.numFailed === 0 || h.bugs.has('no-early-abort')));
  return ret;
}

/** v2 p10: refuse before parsing when P-SEAMLDR has no update slots left. */
function* slotsPrecheck(h: Host): Generator<Yield, number, void> {
  const info = yield* seamldrGetInfo(h, h.sched.current!.cpu);
  if (info === null) return -EIO;
  return h.rev.slotsPrecheck && !h.bugs.has('no-slots-check') && info.numRemainingUpdates === 0 ? -ENOSPC : 0;
}

/** v2 p09: every present CPU must take part; checked under cpus_read_lock so it stays true. */
function cpusPrecheck(h: Host): number {
  const check = h.rev.cpuOnlinePrecheck && !h.bugs.has('no-cpu-online-check');
  return check && numOnlineCpus(h.platform) !== h.platform.cpus.length ? -EBUSY : 0;
}

/**
 * seamldr_install_module(): checks, then the stop_machine update. Runs in the fw_upload
 * worker; yields wherever another task could run. Returns 0 or a negative errno.
 */
export function* seamldrInstallModule(h: Host, img: ImageBuf): Generator<Yield, number, void> {
  const pre = yield* slotsPrecheck(h);
  if (pre) return pre;
  const { ret, layout } = h.rev.imageFormat === 'v1' ? parseBlobV1(h, img) : parseImageV2(h, img);
  if (ret || layout === null) return ret;
  const paramsPa = initSeamldrParams(h, img, layout);
  yield { kind: 'step', label: 'params ready' };
  const result = yield* updateCpusLocked(h, paramsPa);
  h.mem.free(paramsPa);
  return result;
}

function* updateCpusLocked(h: Host, paramsPa: number): Generator<Yield, number, void> {
  const ctrl: UpdateCtrl = { state: SHUTDOWN, numAck: 0, numFailed: 0, nrParticipants: 0 };
  if (h.bugs.has('hotplug-before-lock')) {
    ctrl.nrParticipants = numOnlineCpus(h.platform); // v6: counted before the hotplug lock
    yield { kind: 'step', label: 'init_state before cpus_read_lock' };
  }
  h.platform.hotplugReaders++; // cpus_read_lock()
  const ret = cpusPrecheck(h) || (yield* runUpdate(h, ctrl, paramsPa));
  h.platform.hotplugReaders--; // cpus_read_unlock()
  return ret;
}

function* runUpdate(h: Host, ctrl: UpdateCtrl, paramsPa: number): Generator<Yield, number, void> {
  if (!h.bugs.has('hotplug-before-lock')) ctrl.nrParticipants = numOnlineCpus(h.platform);
  const cpus = onlineCpus(h.platform);
  // v2-v7: cpumask_first(cpu_online_mask); merged: CPU 0, which "is always online".
  const lead = h.rev.leadCpu === 'cpu0' ? 0 : cpus[0]!;
  h.trace.push({ kind: 'update_begin', cpus, lead, paramsPa });
  const result = yield* stopMachine(h.sched, cpus, (cpu) => doSeamldrInstallModule(h, ctrl, lead, paramsPa, cpu));
  h.trace.push({ kind: 'update_end', ret: result, state: UPDATE_STATES[Math.min(ctrl.state, DONE)]! });
  if (result === 0) tdxRefreshAfterUpdate(h, lead);
  else if (ctrl.state > SHUTDOWN) h.tdx.state.error = true; // v2 tdx_module_set_error() [T-v2 p16]
  return result;
}
