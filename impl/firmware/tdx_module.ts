// One TDX module instance in the SEAM range: the VMM dispatcher, the system leaves of the update
// flow and the TD-build leaves whose measurement an update can break.
// Mirrors: intel/tdx-module tdx_1.5 src/vmm_dispatcher/tdx_vmm_dispatcher.c and
// src/vmm_dispatcher/api_calls/{tdh_sys_init,tdh_sys_lp_init,tdh_sys_config,tdh_sys_key_config,
// tdh_sys_rd,tdh_sys_shutdown,tdh_sys_update,tdh_mng_create,tdh_mng_key_config,tdh_mng_init,
// tdh_mem_page_add,tdh_mr_extend,tdh_mr_finalize,tdh_vp_enter,tdh_mng_key_freeid}.c and
// src/common/crypto/sha384.c, reduced to what spec §2.5, §3.4, §3.7, §5.2, §5.3 and §6 describe.
import {
  AVOID_COMPAT_SENSITIVE,
  TDX_FEATURES0_UPDATE_COMPAT,
  TDX_INCOMPATIBLE_MRTD_CONTEXT,
  TDX_UPDATE_COMPAT_SENSITIVE,
  MD_MAJOR_VERSION,
  MD_MIN_UPDATE_HV,
  MD_MINOR_VERSION,
  MD_MODULE_HV,
  MD_NO_DOWNGRADE,
  MD_TDX_FEATURES0,
  MD_UPDATE_VERSION,
  OPERAND_ID_R8,
  OPERAND_ID_R9,
  OPERAND_ID_RAX,
  OPERAND_ID_RCX,
  OPERAND_ID_RDX,
  PAGE_SIZE,
  TDH,
  TDH_SYS_CONFIG,
  TDH_SYS_KEY_CONFIG,
  TDX_OPERAND_INVALID,
  TDX_OPERAND_PAGE_METADATA_INCORRECT,
  TDX_SUCCESS,
  TDX_SYS_CONFIG_NOT_PENDING,
  TDX_SYS_INCOMPATIBLE_SIGSTRUCT,
  TDX_SYS_INIT_NOT_PENDING,
  TDX_SYS_INVALID_HANDOFF,
  TDX_SYS_KEY_CONFIG_NOT_PENDING,
  TDX_SYS_LP_INIT_DONE,
  TDX_SYS_LP_INIT_NOT_DONE,
  TDX_SYS_LP_INIT_NOT_PENDING,
  TDX_SYS_NOT_READY,
  TDX_SYS_SHUTDOWN,
  TDX_SYS_STATE_INCORRECT,
  TDX_TD_FINALIZED,
  TDX_TD_NOT_FINALIZED,
  TDX_TD_NOT_INITIALIZED,
  type SeamcallResult,
  TDX_RND_NO_ENTROPY,
} from './abi.ts';
import type { ModuleIdentity, Tdr } from './types.ts';
import { canImportHandoff, type ModuleBuild } from './registry.ts';
import type { GuestWrite, Seam, SeamcallArgs } from './seam.ts';
import { sha384 } from './sigstruct.ts';

export type SysState = 'SYSINIT_PENDING' | 'SYSINIT_DONE' | 'SYSCONFIG_DONE' | 'SYS_READY' | 'SYS_SHUTDOWN';

/** The values P-SEAMLDR placed in SYSINFO from the sigstruct (spec §2.5). */
export interface SigstructHv {
  moduleHv: number;
  minUpdateHv: number;
  noDowngrade: boolean;
  /** Absent in an instance made by hand (tests), which no build matches. */
  numHandoffPages?: number;
}

export interface TdxModule {
  /** Build-time definitions (version, HVs, features0) plus the sigstruct's svn, debug, CPUIDs. */
  readonly identity: ModuleIdentity;
  /** The registry's record of this binary; null when its SEAMHASH is unknown (it cannot run). */
  readonly build: ModuleBuild | null;
  readonly sigstructHv: SigstructHv;
  sysState: SysState;
  /** LPs that completed TDH.SYS.LP.INIT on this instance (num_of_init_lps = size). */
  lpInit: Set<number>;
  /** SEAMDB_GETREF result sampled by TDH.SYS.INIT; -1 and 0 before. */
  seamdbIndex: number;
  nonce: bigint;
  /** KOT and TD control structures, by TDR physical address. */
  tds: Map<number, Tdr>;
  /** One above the highest HKID handed to a TD; carried through the handoff (spec §6). */
  nextHkid: number;
}

export function createTdxModule(identity: ModuleIdentity, sigstructHv: SigstructHv, build: ModuleBuild | null = null): TdxModule {
  return {
    identity,
    build,
    sigstructHv,
    sysState: 'SYSINIT_PENDING',
    lpInit: new Set(),
    seamdbIndex: -1,
    nonce: 0n,
    tds: new Map(),
    nextHkid: 1,
  };
}

// Leaves the dispatcher admits before SYS_READY (spec §2.5; RDALL and LP.SHUTDOWN are not
// emulated).
const NOT_READY_LEAVES: ReadonlySet<bigint> = new Set([
  TDH.SYS_INFO,
  TDH.SYS_RD,
  TDH.SYS_INIT,
  TDH.SYS_LP_INIT,
  TDH_SYS_CONFIG,
  TDH_SYS_KEY_CONFIG,
  TDH.SYS_UPDATE,
]);

const MRTD_SIZE = 48;
const ok = (out?: bigint): SeamcallResult => (out === undefined ? { status: TDX_SUCCESS } : { status: TDX_SUCCESS, out });
const fail = (status: bigint): SeamcallResult => ({ status });
const operandInvalid = (operandId: bigint): SeamcallResult => fail(TDX_OPERAND_INVALID | operandId);

/** The module's VMM dispatcher: state gates, then the leaf (one SEAMCALL, run to completion). */
export function tdxModuleCall(seam: Seam, mod: TdxModule, cpu: number, leaf: bigint, args: SeamcallArgs): SeamcallResult {
  if (mod.sysState === 'SYS_SHUTDOWN') return fail(TDX_SYS_SHUTDOWN);
  if (mod.sysState !== 'SYS_READY' && !NOT_READY_LEAVES.has(leaf)) return fail(TDX_SYS_NOT_READY);
  if (leaf !== TDH.SYS_INIT && leaf !== TDH.SYS_LP_INIT && !mod.lpInit.has(cpu)) return fail(TDX_SYS_LP_INIT_NOT_DONE);
  // An injected fault models a failure inside the leaf handler (lock contention, RDRAND), which
  // the dispatcher has already admitted; it has no other effect.
  if (seam.faults.tdxNoEntropy) {
    seam.faults.tdxNoEntropy--;
    return fail(TDX_RND_NO_ENTROPY);
  }
  const f = seam.faults.leafFail;
  if (f !== null && f.leaf === leaf && (f.cpu === null || f.cpu === cpu) && (f.field === undefined || f.field === args.rdx)) {
    seam.faults.leafFail = null;
    return fail(f.status);
  }
  switch (leaf) {
    // TDSYSINFO_STRUCT is not emulated: the kernel reads metadata through TDH.SYS.RD.
    case TDH.SYS_INFO:
      return ok();
    case TDH.SYS_INIT:
      return tdhSysInit(seam, mod);
    case TDH.SYS_LP_INIT:
      return tdhSysLpInit(mod, cpu);
    case TDH_SYS_CONFIG:
      return tdhSysConfig(seam, mod);
    case TDH_SYS_KEY_CONFIG:
      return tdhSysKeyConfig(mod);
    case TDH.SYS_RD:
      return tdhSysRd(mod, args.rdx ?? 0n);
    case TDH.SYS_SHUTDOWN:
      return tdhSysShutdown(seam, mod, args.rcx ?? 0n);
    case TDH.SYS_UPDATE:
      return tdhSysUpdate(seam, mod);
    case TDH.MNG_CREATE:
      return tdhMngCreate(mod, num(args.rcx), num(args.rdx));
    case TDH.MNG_KEY_CONFIG:
      return tdhMngKeyConfig(mod, num(args.rcx));
    case TDH.MNG_INIT:
      return tdhMngInit(mod, num(args.rcx));
    case TDH.MEM_PAGE_ADD:
      return tdhMemPageAdd(seam, mod, num(args.rcx), num(args.rdx), num(args.r8), num(args.r9));
    case TDH.MR_EXTEND:
      return tdhMrExtend(seam, mod, num(args.rcx), num(args.rdx));
    case TDH.MR_FINALIZE:
      return tdhMrFinalize(mod, num(args.rcx));
    case TDH.VP_ENTER:
      return tdhVpEnter(seam, mod, num(args.rcx), args.writes ?? []);
    case TDH.MNG_KEY_FREEID:
      return tdhMngKeyFreeid(mod, num(args.rcx));
    default:
      return operandInvalid(OPERAND_ID_RAX);
  }
}

function num(reg: bigint | undefined): number {
  return Number(reg ?? 0n);
}

function allLpsInitialized(seam: Seam, mod: TdxModule): boolean {
  // num_of_lps counts every LP of the platform, online or not (spec §3.6).
  return mod.lpInit.size === seam.platform.cpus.length;
}

// check_module_build_time_defs: the SYSINFO copies must equal what the binary was built with. A
// binary the registry does not know stands for a mismatched build: the real module would find
// values it was not compiled with.
function buildTimeDefsMatch(mod: TdxModule): boolean {
  const b = mod.build;
  const s = mod.sigstructHv;
  return (
    b !== null && s.moduleHv === b.moduleHv && s.minUpdateHv === b.minUpdateHv && s.noDowngrade === b.noDowngrade && s.numHandoffPages === b.numHandoffPages
  );
}

function tdhSysInit(seam: Seam, mod: TdxModule): SeamcallResult {
  if (mod.sysState !== 'SYSINIT_PENDING') return fail(TDX_SYS_INIT_NOT_PENDING);
  if (!buildTimeDefsMatch(mod)) return fail(TDX_SYS_INCOMPATIBLE_SIGSTRUCT);
  // SEAMOPS(SEAMDB_GETREF): the entry P-SEAMLDR appended when it installed this instance.
  const entry = seam.seamdb[seam.seamdb.length - 1];
  mod.seamdbIndex = entry.index;
  mod.nonce = entry.nonce;
  mod.sysState = 'SYSINIT_DONE';
  return ok();
}

function tdhSysLpInit(mod: TdxModule, cpu: number): SeamcallResult {
  if (mod.sysState !== 'SYSINIT_DONE') return fail(TDX_SYS_LP_INIT_NOT_PENDING);
  if (mod.lpInit.has(cpu)) return fail(TDX_SYS_LP_INIT_DONE);
  mod.lpInit.add(cpu);
  return ok();
}

// TDMR and PAMT setup are not emulated; CONFIG only advances the state once every LP is in
// (derived: the 1.5 source reports both conditions as CONFIG_NOT_PENDING).
function tdhSysConfig(seam: Seam, mod: TdxModule): SeamcallResult {
  if (mod.sysState !== 'SYSINIT_DONE' || !allLpsInitialized(seam, mod)) return fail(TDX_SYS_CONFIG_NOT_PENDING);
  mod.sysState = 'SYSCONFIG_DONE';
  return ok();
}

// One package: the single KEY.CONFIG call configures the global key everywhere.
function tdhSysKeyConfig(mod: TdxModule): SeamcallResult {
  if (mod.sysState !== 'SYSCONFIG_DONE') return fail(TDX_SYS_KEY_CONFIG_NOT_PENDING);
  mod.sysState = 'SYS_READY';
  return ok();
}

function tdhSysRd(mod: TdxModule, fieldId: bigint): SeamcallResult {
  const id = mod.identity;
  switch (fieldId) {
    case MD_MAJOR_VERSION:
      return ok(BigInt(id.version.major));
    case MD_MINOR_VERSION:
      return ok(BigInt(id.version.minor));
    case MD_UPDATE_VERSION:
      return ok(BigInt(id.version.update));
    case MD_MODULE_HV:
      return ok(BigInt(id.moduleHv));
    case MD_MIN_UPDATE_HV:
      return ok(BigInt(id.minUpdateHv));
    case MD_NO_DOWNGRADE:
      return ok(id.noDowngrade ? 1n : 0n);
    case MD_TDX_FEATURES0:
      return ok(id.features0);
    default:
      return operandInvalid(OPERAND_ID_RDX);
  }
}

// RCX is compared whole, so unknown high bits (AVOID_COMPAT_SENSITIVE on a module without
// UPDATE_COMPAT) read as hv > module_hv (spec §2.5, §5.2). The busy-LP and lock checks cannot
// fail here: a SEAMCALL runs to completion and the kernel calls SHUTDOWN inside stop_machine.
function tdhSysShutdown(seam: Seam, mod: TdxModule, rcx: bigint): SeamcallResult {
  const id = mod.identity;
  const moduleHv = BigInt(id.moduleHv);
  // Bit 16 is AVOID_COMPAT_SENSITIVE only on modules that know it; elsewhere it is part of the HV.
  const knowsCompat = (id.features0 & TDX_FEATURES0_UPDATE_COMPAT) !== 0n;
  const hv = knowsCompat ? rcx & ~AVOID_COMPAT_SENSITIVE : rcx;
  if (hv < BigInt(id.minUpdateHv) || hv > moduleHv || (id.noDowngrade && hv !== moduleHv)) {
    return operandInvalid(OPERAND_ID_RCX);
  }
  // A TD between TDH.MNG.INIT and TDH.MR.FINALIZE is a compat-sensitive operation (spec §3.7).
  if (knowsCompat && rcx & AVOID_COMPAT_SENSITIVE && [...mod.tds.values()].some((td) => td.initialized && !td.finalized)) {
    return fail(TDX_UPDATE_COMPAT_SENSITIVE);
  }
  seam.handoff = { valid: true, hv: Number(hv), dataVersion: mod.build!.handoffDataVersion, tds: new Map(mod.tds), nextHkid: mod.nextHkid };
  mod.sysState = 'SYS_SHUTDOWN';
  return ok();
}

// Handoff versioning is upgrade-only: min_update_hv <= hdr.hv <= module_hv (spec §3.5); the data
// itself must be in a layout this build imports (registry.ts canImportHandoff).
function tdhSysUpdate(seam: Seam, mod: TdxModule): SeamcallResult {
  if (mod.sysState !== 'SYSINIT_DONE' || !allLpsInitialized(seam, mod)) return fail(TDX_SYS_STATE_INCORRECT);
  const hdr = seam.handoff;
  const id = mod.identity;
  if (hdr === null || !hdr.valid || hdr.hv < id.minUpdateHv || hdr.hv > id.moduleHv) return fail(TDX_SYS_INVALID_HANDOFF);
  if (!canImportHandoff(mod.build!, hdr.dataVersion)) return fail(TDX_SYS_INVALID_HANDOFF);
  mod.tds = new Map(hdr.tds);
  mod.nextHkid = hdr.nextHkid;
  // Clearing the header means no later UPDATE can import the same state twice.
  seam.handoff = null;
  mod.sysState = 'SYS_READY';
  return ok();
}

// TDR.td_preserving_fields record the module instance that launched the TD (spec §6).
function tdhMngCreate(mod: TdxModule, tdrPa: number, hkid: number): SeamcallResult {
  // The PAMT already marks the page as a TDR.
  if (mod.tds.has(tdrPa)) return fail(TDX_OPERAND_PAGE_METADATA_INCORRECT | OPERAND_ID_RCX);
  mod.tds.set(tdrPa, {
    tdrPa,
    hkid,
    keyConfigured: false,
    initialized: false,
    finalized: false,
    mrtd: new Uint8Array(MRTD_SIZE),
    mrtdSeamdbIndex: mod.seamdbIndex,
    launchSeamdbIndex: mod.seamdbIndex,
    launchNonce: mod.nonce,
    handoffVersion: mod.identity.moduleHv,
    pages: new Map(),
  });
  mod.nextHkid = Math.max(mod.nextHkid, hkid + 1);
  return ok();
}

// The real module's TDX_KEY_CONFIGURED / TDX_KEY_NOT_CONFIGURED values are not in the spec, so
// key-phase errors are reported as OPERAND_INVALID on the TDR operand.
function tdhMngKeyConfig(mod: TdxModule, tdrPa: number): SeamcallResult {
  const td = mod.tds.get(tdrPa);
  if (td === undefined || td.keyConfigured) return operandInvalid(OPERAND_ID_RCX);
  td.keyConfigured = true;
  return ok();
}

// MNG.INIT starts the measurement in this instance's SHA-384 context.
function tdhMngInit(mod: TdxModule, tdrPa: number): SeamcallResult {
  const td = mod.tds.get(tdrPa);
  if (td === undefined || !td.keyConfigured || td.initialized) return operandInvalid(OPERAND_ID_RCX);
  td.initialized = true;
  startMeasurement(mod, td);
  return ok();
}

// Build leaves are valid between MNG.INIT and MR.FINALIZE.
function buildPhaseStatus(td: Tdr): bigint {
  if (!td.initialized) return TDX_TD_NOT_INITIALIZED;
  if (td.finalized) return TDX_TD_FINALIZED;
  return TDX_SUCCESS;
}

function startMeasurement(mod: TdxModule, td: Tdr): void {
  td.mrtd = new Uint8Array(MRTD_SIZE);
  td.mrtdSeamdbIndex = mod.seamdbIndex;
}

// sha384.c: the context in TDCS belongs to the module instance that started it; a different
// instance (seamdb_index changed by an update) re-initializes it, losing everything measured so
// far. This is how an update during TD build corrupts MRTD on old modules (spec §3.7).
// Newer modules (UPDATE_COMPAT, 1.5.24+) refuse instead: TDX_INCOMPATIBLE_MRTD_CONTEXT
// ([T-v7 #76]; spec §3.7), which KVM treats as a bug and kills the TD.
function adoptMeasurement(mod: TdxModule, td: Tdr): bigint {
  if (td.mrtdSeamdbIndex === mod.seamdbIndex) return TDX_SUCCESS;
  if (mod.identity.features0 & TDX_FEATURES0_UPDATE_COMPAT) return TDX_INCOMPATIBLE_MRTD_CONTEXT;
  startMeasurement(mod, td);
  return TDX_SUCCESS;
}

function gpaRecord(tag: string, gpa: number): Uint8Array {
  const t = new TextEncoder().encode(tag);
  const r = new Uint8Array(t.length + 8);
  r.set(t, 0);
  new DataView(r.buffer).setBigUint64(t.length, BigInt(gpa) * BigInt(PAGE_SIZE), true);
  return r;
}

/** MRTD after TDH.MEM.PAGE.ADD of `gpa` (the record formats are this emulation's). */
export function mrtdPageAdd(mrtd: Uint8Array, gpa: number): Uint8Array {
  return sha384(mrtd, gpaRecord('MEM.PAGE.ADD', gpa));
}

/** MRTD after TDH.MR.EXTEND of the page at `gpa`. */
export function mrtdExtend(mrtd: Uint8Array, gpa: number, page: Uint8Array): Uint8Array {
  const head = gpaRecord('MR.EXTEND', gpa);
  const record = new Uint8Array(head.length + PAGE_SIZE);
  record.set(head, 0);
  record.set(page, head.length);
  return sha384(mrtd, record);
}

function tdhMemPageAdd(seam: Seam, mod: TdxModule, gpa: number, tdrPa: number, hpa: number, srcPa: number): SeamcallResult {
  const td = mod.tds.get(tdrPa);
  if (td === undefined) return operandInvalid(OPERAND_ID_RDX);
  const phase = buildPhaseStatus(td);
  if (phase !== TDX_SUCCESS) return fail(phase);
  if (td.pages.has(gpa)) return operandInvalid(OPERAND_ID_RCX);
  const target = seam.mem.page(hpa);
  if (target === undefined) return operandInvalid(OPERAND_ID_R8);
  const source = seam.mem.page(srcPa);
  if (source === undefined) return operandInvalid(OPERAND_ID_R9);
  const ctx = adoptMeasurement(mod, td);
  if (ctx !== TDX_SUCCESS) return fail(ctx);
  target.set(source);
  td.pages.set(gpa, hpa);
  td.mrtd = mrtdPageAdd(td.mrtd, gpa);
  return ok();
}

function tdhMrExtend(seam: Seam, mod: TdxModule, gpa: number, tdrPa: number): SeamcallResult {
  const td = mod.tds.get(tdrPa);
  if (td === undefined) return operandInvalid(OPERAND_ID_RDX);
  const phase = buildPhaseStatus(td);
  if (phase !== TDX_SUCCESS) return fail(phase);
  const hpa = td.pages.get(gpa);
  const page = hpa === undefined ? undefined : seam.mem.page(hpa);
  if (page === undefined) return operandInvalid(OPERAND_ID_RCX);
  const ctx = adoptMeasurement(mod, td);
  if (ctx !== TDX_SUCCESS) return fail(ctx);
  td.mrtd = mrtdExtend(td.mrtd, gpa, page);
  return ok();
}

function tdhMrFinalize(mod: TdxModule, tdrPa: number): SeamcallResult {
  const td = mod.tds.get(tdrPa);
  if (td === undefined) return operandInvalid(OPERAND_ID_RCX);
  const phase = buildPhaseStatus(td);
  if (phase !== TDX_SUCCESS) return fail(phase);
  const ctx = adoptMeasurement(mod, td);
  if (ctx !== TDX_SUCCESS) return fail(ctx);
  td.finalized = true;
  return ok();
}

// The guest runs and stores into its private pages. A store outside them would be an EPT
// violation exit; the emulation rejects the whole entry with OPERAND_INVALID and writes nothing.
function tdhVpEnter(seam: Seam, mod: TdxModule, tdrPa: number, writes: GuestWrite[]): SeamcallResult {
  const td = mod.tds.get(tdrPa);
  if (td === undefined) return operandInvalid(OPERAND_ID_RCX);
  if (!td.finalized) return fail(TDX_TD_NOT_FINALIZED);
  const pages: Uint8Array[] = [];
  for (const w of writes) {
    const hpa = td.pages.get(w.gpa);
    const page = hpa === undefined ? undefined : seam.mem.page(hpa);
    const inPage = Number.isInteger(w.offset) && w.offset >= 0 && w.offset < PAGE_SIZE;
    if (page === undefined || !inPage) return fail(TDX_OPERAND_INVALID);
    pages.push(page);
  }
  writes.forEach((w, i) => {
    pages[i][w.offset] = w.value;
  });
  return ok();
}

// Teardown: the TD's HKID is released and its control structures dropped. Its private pages
// stay in memory for the kernel to reclaim.
function tdhMngKeyFreeid(mod: TdxModule, tdrPa: number): SeamcallResult {
  if (!mod.tds.delete(tdrPa)) return operandInvalid(OPERAND_ID_RCX);
  return ok();
}
