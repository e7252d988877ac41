// The kernel side of a runtime update: image checks, SEAMLDR_PARAMS, and the stop_machine
// state machine that walks every CPU through SHUTDOWN, CPU_INSTALL, CPU_INIT, RUN_UPDATE.
// Mirrors: torvalds/linux arch/x86/virt/vmx/tdx/seamldr.c @ b2128290 function by function,
// in its order (impl/README.md has the table). Where the v2 series differs (spec §2.7) a v2
// function stands beside the merged one and the revision record chooses: the v1 blob
// (initSeamldrParamsV1), the no-entropy retry (seamldrInstallV2), and v2's
// seamldr_install_module with its prechecks and its refresh after stop_machine.
import {
  P_SEAMLDR_INFO,
  P_SEAMLDR_INSTALL,
  PAGE_SIZE,
  SEAMLDR_ENOENTROPY,
  SEAMLDR_INFO_OFF,
  SEAMLDR_MAX_NR_MODULE_PAGES,
  SEAMLDR_SCENARIO_UPDATE,
} from '../firmware/abi.ts';
import { seamldrInfo, type SeamldrInfo } from '../firmware/pseamldr.ts';
import { numOnlineCpus, onlineCpus } from '../platform/cpu.ts';
import { le16Sum } from './csum.ts';
import { EBUSY, EINVAL, EIO, ENOSPC } from './errno.ts';
import { seamldrCall, statusToErrno } from './seamcall.ts';
import { runsMergedCode } from './revision.ts';
import { rawSpinLock, rawSpinUnlock, step, stopMachine, wait, wakeUp, type RawSpinlock, type WaitQueue, type Yield } from './sched.ts';
import { tdxCpuEnable, tdxModuleRunUpdate, tdxModuleRunUpdateV2, tdxModuleShutdown, tdxModuleShutdownV2, tdxRefreshAfterUpdate } from './tdx.ts';
import type { Host } from '../host.ts';

/** The image as the kernel holds it: vmalloc'd pages plus the length userspace wrote. */
export interface ImageBuf {
  readonly pas: number[];
  readonly len: number;
}

/** seamldr_get_info() at boot, when nothing else runs: SEAMLDR.INFO, or null if it failed. */
export function seamldrGetInfoAtBoot(h: Host, cpu: number): SeamldrInfo | null {
  const r = seamldrInfo(h.seam, cpu);
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  h.trace.push({ kind: 'seamcall', cpu, task: 'boot', leaf: P_SEAMLDR_INFO, rcx: 0n, status: r.status });
  return r.status === 0n ? r.info : null;
}

/** The fields of struct seamldr_info the kernel reads (seam_ready and seam_debug it does not). */
type KernelSeamldrInfo = Pick<SeamldrInfo, 'version' | 'numRemainingUpdates'>;

/** seamldr_get_info(): SEAMLDR.INFO into a SEAMLDR_INFO buffer, or null if it failed. */
export function* seamldrGetInfo(h: Host, cpu: number): Generator<Yield, KernelSeamldrInfo | null, void> {
  const pa = h.mem.allocPages(1)[0]!; // v4+: an on-stack buffer per call [T-v3 #109]
  const r = yield* seamldrCall(h, cpu, P_SEAMLDR_INFO, { rcx: BigInt(pa) });
  const v = new DataView(h.mem.page(pa)!.buffer);
  h.mem.free(pa);
  if (r.status !== 0n) return null;
  const O = SEAMLDR_INFO_OFF;
  return {
    version: { major: v.getUint16(O.MAJOR, true), minor: v.getUint16(O.MINOR, true), update: v.getUint16(O.UPDATE, true) },
    numRemainingUpdates: v.getUint32(O.NUM_REMAINING_UPDATES, true),
  };
}

/** seamldr_install(): SEAMLDR.INSTALL on this CPU with RCX = __pa(params). */
function* seamldrInstall(h: Host, cpu: number, paramsPa: number): Generator<Yield, number, void> {
  const r = yield* seamldrCall(h, cpu, P_SEAMLDR_INSTALL, { rcx: BigInt(paramsPa) });
  return statusToErrno(r.status);
}

/** v2 p04: the same, retried once when P-SEAMLDR has no entropy (NAKed in v3). */
function* seamldrInstallV2(h: Host, cpu: number, paramsPa: number): Generator<Yield, number, void> {
  let r = yield* seamldrCall(h, cpu, P_SEAMLDR_INSTALL, { rcx: BigInt(paramsPa) });
  if (r.status === SEAMLDR_ENOENTROPY) r = yield* seamldrCall(h, cpu, P_SEAMLDR_INSTALL, { rcx: BigInt(paramsPa) });
  return statusToErrno(r.status);
}

/** tdx_blob v1 header (spec §3.2; Intel blob_structure.txt). */
const BLOB_VERSION = 0,
  BLOB_OFFSET_OF_MODULE = 4,
  BLOB_SIGNATURE = 8,
  BLOB_LENGTH = 16,
  BLOB_RESERVED0 = 20,
  BLOB_HEADER_SIZE = 4096;
const TDX_BLOB_SIGNATURE = 'TDX-BLOB';

/** Read n bytes of the image; a read past `len` is recorded (I-15) and yields garbage (0xff). */
function imageBytes(h: Host, img: ImageBuf, off: number, n: number): Uint8Array {
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  if (off + n > img.len) h.trace.push({ kind: 'oob_read', offset: off, len: img.len });
  const out = new Uint8Array(n).fill(0xff);
  for (let i = off; i < Math.min(off + n, img.len); ) {
    const page = h.mem.read(img.pas[Math.floor(i / PAGE_SIZE)]!)!;
    const from = i % PAGE_SIZE,
      take = Math.min(PAGE_SIZE - from, Math.min(off + n, img.len) - i);
    out.set(page.subarray(from, from + take), i - off);
    i += take;
  }
  return out;
}

function imageLe(h: Host, img: ImageBuf, off: number, n: number): number {
  return imageBytes(h, img, off, n).reduceRight((acc, b) => acc * 256 + b, 0);
}

/** memchr_inv(p, 0, n) != NULL: some byte is not zero (a loop: a callback per byte of a 4 KiB header costs more). */
function memchrInv(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return true;
  return false;
}

/** The 16-bit sum of all little-endian words, carry discarded; a valid blob sums to 0 [T-v3 #108]. */
function blobChecksum(h: Host, img: ImageBuf): number {
  return h.mem.digest(img.pas, img.len, 'le16Sum', le16Sum);
}

export interface BlobLayout {
  sigPage: number;
  nrSigPages: number;
  modulePage: number;
  nrModulePages: number;
}

/**
 * The checks of v2's blob parser (v2 p11), in its order: version, checksum, length,
 * signature, reserved, sig size, module size; the length check first is the seed's B13 fix.
 */
export function parseBlobV1(h: Host, img: ImageBuf): { ret: number; layout: BlobLayout | null } {
  const bad = { ret: -EINVAL, layout: null };
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const headerBeforeSize = h.bugs.has('header-before-size');
  if (img.len < BLOB_HEADER_SIZE && !headerBeforeSize) return bad;
  if (imageLe(h, img, BLOB_VERSION, 2) !== 0x100) return bad;
  if (blobChecksum(h, img) !== 0) return bad;
  if (imageLe(h, img, BLOB_LENGTH, 4) !== img.len) return bad;
  if (String.fromCharCode(...imageBytes(h, img, BLOB_SIGNATURE, 8)) !== TDX_BLOB_SIGNATURE) return bad;
  // reserved0 and reserved1[] run to the end of the header; reserved2/3 are not checked.
  if (memchrInv(imageBytes(h, img, BLOB_RESERVED0, BLOB_HEADER_SIZE - BLOB_RESERVED0))) return bad;
  const offset = imageLe(h, img, BLOB_OFFSET_OF_MODULE, 4);
  // Exactly one 4 KiB sigstruct page: v2 rejects N > 0 reserved3 pages [T-v2 #80-82].
  if (offset - BLOB_HEADER_SIZE !== PAGE_SIZE) return bad;
  const moduleSize = img.len - offset;
  if (moduleSize <= 0 || moduleSize > SEAMLDR_MAX_NR_MODULE_PAGES * PAGE_SIZE || moduleSize % PAGE_SIZE) return bad;
  return { ret: 0, layout: { sigPage: 1, nrSigPages: 1, modulePage: offset / PAGE_SIZE, nrModulePages: moduleSize / PAGE_SIZE } };
}

/** tdx_image v2 header (spec §3.2 merged format). */
const IMG_VERSION = 0,
  IMG_SIGNATURE = 4,
  IMG_SIG_PAGES = 12,
  IMG_MODULE_PAGES = 16,
  IMG_RESERVED = 20;
const SEAMLDR_MAX_NR_SIG_PAGES = 1,
  TDX_IMAGE_HEADER_SIZE = BLOB_HEADER_SIZE;

/**
 * The checks of merged init_seamldr_params(), in its order: the size equation in u32
 * arithmetic, version, page-count bounds, signature, reserved bytes. The checksum is not
 * checked; the early length check is seamldr_install_module's (v10).
 */
export function parseImageV2(h: Host, img: ImageBuf): { ret: number; layout: BlobLayout | null } {
  const bad = { ret: -EINVAL, layout: null };
  const s = imageLe(h, img, IMG_SIG_PAGES, 4),
    m = imageLe(h, img, IMG_MODULE_PAGES, 4);
  // sigstruct_len and module_len are u32: 2^20 + k pages wrap to k pages (bug B14's setting).
  const total = (BLOB_HEADER_SIZE + ((s * PAGE_SIZE) >>> 0) + ((m * PAGE_SIZE) >>> 0)) >>> 0;
  if (total !== img.len) return bad;
  if (imageLe(h, img, IMG_VERSION, 2) !== 0x200) return bad;
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const pageCountOverflow = h.bugs.has('page-count-overflow');
  if (s > SEAMLDR_MAX_NR_SIG_PAGES || (m > SEAMLDR_MAX_NR_MODULE_PAGES && !pageCountOverflow)) return bad;
  if (String.fromCharCode(...imageBytes(h, img, IMG_SIGNATURE, 8)) !== TDX_BLOB_SIGNATURE) return bad;
  if (memchrInv(imageBytes(h, img, IMG_RESERVED, BLOB_HEADER_SIZE - IMG_RESERVED))) return bad;
  return { ret: 0, layout: { sigPage: 1, nrSigPages: s, modulePage: 1 + s, nrModulePages: m } };
}

/**
 * populate_pa_list(): the PA of each image page from `first`, in order, into the list at
 * byte `at` of the params page. The caller guarantees the list is big enough; only B14's
 * wrapped page count breaks that, and an entry past the page is recorded (I-16), not written.
 */
function populatePaList(h: Host, params: DataView, at: number, img: ImageBuf, first: number, nrPages: number): void {
  for (let i = 0; i < nrPages; i++) {
    if (at + 8 * i >= PAGE_SIZE) {
      // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
      h.trace.push({ kind: 'oob_write', index: i, of: nrPages });
      return;
    }
    params.setBigUint64(at + 8 * i, BigInt(img.pas[first + i] ?? 0), true);
  }
}

/** populate_seamldr_params(): SEAMLDR_PARAMS (spec §5.1) for the checked layout. */
export function populateSeamldrParams(h: Host, paramsPa: number, img: ImageBuf, l: BlobLayout): void {
  const params = new DataView(h.mem.page(paramsPa)!.buffer);
  params.setUint32(0, 0, true);
  params.setUint32(4, SEAMLDR_SCENARIO_UPDATE, true);
  params.setBigUint64(120, BigInt(l.nrModulePages), true);
  populatePaList(h, params, 8, img, l.sigPage, l.nrSigPages);
  populatePaList(h, params, 128, img, l.modulePage, l.nrModulePages);
}

/** init_seamldr_params(): check the tdx_image, then fill the zeroed params page from it. */
export function initSeamldrParams(h: Host, paramsPa: number, img: ImageBuf): number {
  const { ret, layout } = parseImageV2(h, img);
  if (layout === null) return ret;
  populateSeamldrParams(h, paramsPa, img, layout);
  return 0;
}

/** v2 p11: the same for the v1 blob (0x100, checksum, offset_of_module). */
export function initSeamldrParamsV1(h: Host, paramsPa: number, img: ImageBuf): number {
  const { ret, layout } = parseBlobV1(h, img);
  if (layout === null) return ret;
  populateSeamldrParams(h, paramsPa, img, layout);
  return 0;
}

/** enum module_update_state (merged) / TDP_* (v2). */
export const UPDATE_STATES = ['START', 'SHUTDOWN', 'CPU_INSTALL', 'CPU_INIT', 'RUN_UPDATE', 'DONE'] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];
const START = 0,
  SHUTDOWN = 1,
  CPU_INSTALL = 2,
  CPU_INIT = 3,
  RUN_UPDATE = 4,
  DONE = 5;

/**
 * update_ctrl: the control block every CPU shares; the counts change under its lock. The real
 * one is a static that init_state() resets for every update, so one per call is the same.
 */
export interface UpdateCtrl extends WaitQueue {
  state: number;
  numAck: number;
  numFailed: number;
  /** B4 (v6) only: the participants init_state() counted before cpus_read_lock; else null. */
  nrParticipants: number | null;
  /** raw_spinlock_t lock: ack_state() holds it. */
  readonly lock: RawSpinlock;
}

/** __set_target_state(): with ctrl->lock held or during initialization. */
function setTargetState(ctrl: UpdateCtrl, newstate: number): void {
  ctrl.numAck = 0;
  ctrl.state = newstate;
  wakeUp(ctrl);
}

/**
 * ack_state(): under ctrl->lock, count this CPU's failure and its ack; the last CPU to ack a
 * state moves all to the next, unless one failed (I-5). The other CPUs read state and
 * num_failed without the lock (READ_ONCE), so they can run between the two counts.
 */
function* ackState(h: Host, ctrl: UpdateCtrl, result: number, cpu: number): Generator<Yield, void, void> {
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const [ackBeforeFail, noEarlyAbort] = [h.bugs.has('ack-before-fail'), h.bugs.has('no-early-abort')];
  yield* rawSpinLock(ctrl.lock, cpu, 'update_ctrl.lock');
  if (!ackBeforeFail) countFailure(ctrl, result);
  // Stryker disable next-line StringLiteral: the label only names the point in the timeline
  yield step('ack_state: failure counted');
  ctrl.numAck++;
  // Traced where the ack is counted, with the result it carries (I-3 to I-5 read it).
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  h.trace.push({ kind: 'ack', cpu, state: UPDATE_STATES[Math.min(ctrl.state, DONE)]!, ret: result });
  // num_online_cpus() is stable under cpus_read_lock; B4's count was taken before it.
  const participants = ctrl.nrParticipants ?? numOnlineCpus(h.platform);
  if (ctrl.numAck === participants && (ctrl.numFailed === 0 || noEarlyAbort)) {
    setTargetState(ctrl, ctrl.state + 1);
    // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
    if (ctrl.state <= DONE) h.trace.push({ kind: 'state', state: UPDATE_STATES[ctrl.state]! });
  }
  rawSpinUnlock(ctrl.lock);
}

/** init_state(): the first state with work, no acks, no failures. */
function initState(ctrl: UpdateCtrl): void {
  setTargetState(ctrl, START + 1);
  ctrl.numFailed = 0;
}

/** num_failed counts a CPU's failure; the CPUs polling state see it (they stop early, I-5). */
function countFailure(ctrl: UpdateCtrl, result: number): void {
  if (result === 0) return;
  ctrl.numFailed++;
  wakeUp(ctrl);
}

// Stryker disable all: a seeded fault's code, off in every property-only run (README "Mutation score")
/** Seeded bug B4 (v6): init_state() also fixed the participant count, before cpus_read_lock. */
function initStateV6(h: Host, ctrl: UpdateCtrl): void {
  initState(ctrl);
  ctrl.nrParticipants = numOnlineCpus(h.platform);
}
// Stryker restore all

/** The work one CPU did for a state, recorded for the invariants and the timeline. */
function worked(h: Host, cpu: number, state: number, ret: number): number {
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  h.trace.push({ kind: 'update_work', cpu, state: UPDATE_STATES[state]!, ret });
  return ret;
}

/**
 * do_seamldr_install_module(): one CPU's loop, adopted from multi_cpu_stop(). An iteration that
 * did a state's work ends in a step, so other CPUs run between one CPU's ack and its next look
 * at the state; one that found nothing new waits until the state moves or a CPU fails, as the
 * real loop spins in cpu_relax() until then. CPU 0 leads: merged, "because it is always
 * online"; v2-v7 took cpumask_first(cpu_online_mask), which is CPU 0 too, since CPU 0 cannot
 * be offlined (hotplug.ts).
 */
function* doSeamldrInstallModule(h: Host, ctrl: UpdateCtrl, paramsPa: number, cpu: number): Generator<Yield, number, void> {
  let curstate = START;
  // S5: a lead test that every CPU passes, so every CPU does the lead-only steps.
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const [everyCpuLeads, staleCurstate, noEarlyAbort] = [h.bugs.has('every-cpu-leads'), h.bugs.has('stale-curstate'), h.bugs.has('no-early-abort')];
  const isLeadCpu = cpu === 0 || everyCpuLeads;
  let ret = 0;
  do {
    const newstate = ctrl.state;
    if (curstate !== newstate) {
      // S2 leaves this assignment out: the CPU then redoes the step on its next look.
      if (!staleCurstate) curstate = newstate;
      switch (newstate) {
        case SHUTDOWN:
          if (isLeadCpu) ret = worked(h, cpu, newstate, h.rev.handoffHvSource === 'read-fresh' ? tdxModuleShutdown(h, cpu) : tdxModuleShutdownV2(h, cpu));
          break;
        case CPU_INSTALL:
          ret = worked(h, cpu, newstate, yield* (h.rev.seamldrEntropyRetry ? seamldrInstallV2 : seamldrInstall)(h, cpu, paramsPa));
          break;
        case CPU_INIT:
          ret = worked(h, cpu, newstate, yield* tdxCpuEnable(h, cpu));
          break;
        case RUN_UPDATE:
          if (isLeadCpu) ret = worked(h, cpu, newstate, runsMergedCode(h.rev) ? tdxModuleRunUpdate(h, cpu) : tdxModuleRunUpdateV2(h, cpu));
          break;
        default:
          break;
      }
      yield* ackOrAckBeforeFail(h, ctrl, ret, cpu);
      // Stryker disable next-line StringLiteral: the label only names the point in the timeline
      yield step('cpu_relax');
    } else {
      // Nothing changed: the real CPU spins in cpu_relax() until another CPU moves the state or
      // fails. A wait on that is the same spin without the steps (each one a scheduling choice
      // that changes nothing), so an update costs steps linear in the CPUs, not quadratic.
      const seen = curstate;
      // Stryker disable next-line StringLiteral: the label only names the point in the timeline
      yield wait(() => ctrl.state !== seen || ctrl.numFailed !== 0, 'cpu_relax', ctrl);
    }
  } while (curstate !== DONE && (ctrl.numFailed === 0 || noEarlyAbort));
  return ret;
}

/** ack_state(), or with B2 (v2) the ack counted before the failure is recorded. */
function* ackOrAckBeforeFail(h: Host, ctrl: UpdateCtrl, ret: number, cpu: number): Generator<Yield, void, void> {
  yield* ackState(h, ctrl, ret, cpu);
  // Stryker disable all: a seeded fault's code, off in every property-only run (README "Mutation score")
  if (h.bugs.has('ack-before-fail') && ret !== 0) {
    // Stryker disable next-line StringLiteral: the label only names the point in the timeline
    yield step('ack before failure is recorded');
    countFailure(ctrl, ret);
  }
  // Stryker restore all
}

/** stop_machine_cpuslocked(do_seamldr_install_module, params, cpu_online_mask), traced. */
function* stopMachineUpdate(h: Host, ctrl: UpdateCtrl, paramsPa: number): Generator<Yield, number, void> {
  // S1: a NULL cpumask runs the function on one CPU (CPU 0 here) instead of every online one.
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const oneCpu = h.bugs.has('stop-machine-one-cpu');
  const cpus = oneCpu ? [0] : onlineCpus(h.platform);
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  h.trace.push({ kind: 'update_begin', cpus, lead: 0, paramsPa });
  const ret = yield* stopMachine(h.sched, cpus, (cpu) => doSeamldrInstallModule(h, ctrl, paramsPa, cpu));
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  h.trace.push({ kind: 'update_end', ret, state: UPDATE_STATES[Math.min(ctrl.state, DONE)]! });
  return ret;
}

/** cpus_read_lock(); init_state(): or, with B4 (v6), init_state() first, outside the lock. */
function* cpusReadLockInitState(h: Host, ctrl: UpdateCtrl): Generator<Yield, void, void> {
  // Stryker disable all: a seeded fault's code, off in every property-only run (README "Mutation score")
  if (h.bugs.has('hotplug-before-lock')) {
    initStateV6(h, ctrl);
    // Stryker disable next-line StringLiteral: the label only names the point in the timeline
    yield step('init_state before cpus_read_lock');
    cpusReadLock(h);
    return;
  }
  // Stryker restore all
  cpusReadLock(h);
  initState(ctrl);
}

/** cpus_read_lock(): a hotplug that found no reader must look again. */
function cpusReadLock(h: Host): void {
  h.platform.hotplugReaders++;
  wakeUp(h.platform.hotplugWriter);
}

/** cpus_read_unlock(): percpu_up_read() wakes the writer, a hotplug waiting in cpus_write_lock(). */
function cpusReadUnlock(h: Host): void {
  h.platform.hotplugReaders--;
  wakeUp(h.platform.hotplugWriter);
}

/** The revision's init_seamldr_params(): the merged tdx_image or v2's v1 blob. */
function initSeamldrParamsOf(h: Host): typeof initSeamldrParams {
  return h.rev.imageFormat === 'v2' ? initSeamldrParams : initSeamldrParamsV1;
}

/**
 * The revision's seamldr_install_module(), which tdx-host's write op calls: the merged one,
 * whose tdx_module_run_update() refreshes the version inside stop_machine, or v2's, which
 * refreshes it after (spec §2.7).
 */
export function seamldrInstallModuleOf(h: Host): typeof seamldrInstallModule {
  return runsMergedCode(h.rev) ? seamldrInstallModule : seamldrInstallModuleV2;
}

const newCtrl = (): UpdateCtrl => ({ state: START, numAck: 0, numFailed: 0, nrParticipants: null, lock: { owner: null }, gen: 0 });

/**
 * seamldr_install_module() as merged (spec §2.3): the length check, the params, the image
 * checks, then stop_machine under cpus_read_lock. Runs in the fw_upload worker; yields
 * wherever another task could run. Returns 0 or a negative errno.
 */
export function* seamldrInstallModule(h: Host, img: ImageBuf): Generator<Yield, number, void> {
  // init_seamldr_params() reads the header early (v10; B13 reads it before this check).
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const headerBeforeSize = h.bugs.has('header-before-size');
  if (img.len < TDX_IMAGE_HEADER_SIZE && !headerBeforeSize) return -EINVAL;
  const paramsPa = h.mem.allocPages(1)[0]!; // kzalloc_obj(*params)
  let ret = initSeamldrParamsOf(h)(h, paramsPa, img);
  if (ret === 0) {
    // Stryker disable next-line StringLiteral: the label only names the point in the timeline
    yield step('params ready');
    const ctrl = newCtrl();
    yield* cpusReadLockInitState(h, ctrl);
    ret = yield* stopMachineUpdate(h, ctrl, paramsPa);
    cpusReadUnlock(h);
  }
  h.mem.free(paramsPa);
  return ret;
}

/** v2 p10: refuse before parsing when P-SEAMLDR has no update slots left. */
function* slotsPrecheck(h: Host): Generator<Yield, number, void> {
  const info = yield* seamldrGetInfo(h, h.sched.current!.cpu);
  if (info === null) return -EIO;
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const noSlotsCheck = h.bugs.has('no-slots-check');
  return h.rev.slotsPrecheck && !noSlotsCheck && info.numRemainingUpdates === 0 ? -ENOSPC : 0;
}

/** v2 p09: every present CPU must take part; checked under cpus_read_lock so it stays true. */
function cpusPrecheck(h: Host): number {
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const noCpuOnlineCheck = h.bugs.has('no-cpu-online-check');
  const check = h.rev.cpuOnlinePrecheck && !noCpuOnlineCheck;
  return check && numOnlineCpus(h.platform) !== h.platform.cpus.length ? -EBUSY : 0;
}

/**
 * v2's seamldr_install_module() (p09-p20): SEAMLDR.INFO and the slots check before the
 * image, the CPU-online check under the lock, and after a successful stop_machine the
 * version (and handoff) refresh by this worker, not inside tdx_module_run_update.
 */
export function* seamldrInstallModuleV2(h: Host, img: ImageBuf): Generator<Yield, number, void> {
  const pre = yield* slotsPrecheck(h);
  if (pre) return pre;
  const paramsPa = h.mem.allocPages(1)[0]!;
  let ret = initSeamldrParamsOf(h)(h, paramsPa, img);
  if (ret === 0) {
    // Stryker disable next-line StringLiteral: the label only names the point in the timeline
    yield step('params ready');
    const ctrl = newCtrl();
    yield* cpusReadLockInitState(h, ctrl);
    ret = cpusPrecheck(h) || (yield* stopMachineUpdate(h, ctrl, paramsPa));
    if (ret === 0) tdxRefreshAfterUpdate(h, 0);
    cpusReadUnlock(h);
  }
  h.mem.free(paramsPa);
  return ret;
}
