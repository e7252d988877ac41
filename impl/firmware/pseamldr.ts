// The persistent SEAM loader: SEAMLDR.INFO and the multi-LP SEAMLDR.INSTALL session.
// Mirrors: intel/tdx-loader @ 81bf312 p-seam-loader/src/pseamldr_dispatcher/api_calls/
// seamldr_install.c (verify_manifest, check_seam_sigstruct) and seamldr_info.c, extended per
// spec §2.5 and §3.3 with what the update-capable P-SEAMLDR adds: num_remaining_updates, SEAMDB
// entries and a handoff region that survives the install (spec §10 item 2).
import {
  P_SEAMLDR_INFO,
  P_SEAMLDR_INSTALL,
  PAGE_SIZE,
  SEAMLDR_EBADCALL,
  SEAMLDR_EBADHASH,
  SEAMLDR_EBADPARAM,
  SEAMLDR_ENOENTROPY,
  SEAMLDR_EUNSPECERR,
  SEAMLDR_INFO_OFF,
  SEAMLDR_INFO_SIZE,
  SEAMLDR_MAX_NR_MODULE_PAGES,
  SEAMLDR_PARAMS_OFF,
  SEAMLDR_SCENARIO_LOAD,
  SEAMLDR_SCENARIO_UPDATE,
  SEAMLDR_SUCCESS,
  type SeamcallResult,
} from './abi.ts';
import type { ModuleIdentity, Version } from './types.ts';
import type { Seam, SeamcallArgs } from './seam.ts';
import { createTdxModule } from './tdx_module.ts';
import { lookupBuild } from './registry.ts';
import { manifestChecks, parseSigstruct, sha384, SIGSTRUCT_SIZE, SIGSTRUCT_VENDOR_INTEL, toHex, type Sigstruct } from './sigstruct.ts';

/**
 * Which SEAMLDR.INSTALL fails, and how, once num_remaining_updates is 0 is undocumented
 * (spec §3.3); derived: the last LP's INSTALL, before the point of no return, with EUNSPECERR.
 */
export const SLOTS_EXHAUSTED_STATUS = SEAMLDR_EUNSPECERR;

/** An update session: from the first LP's INSTALL until the last LP's epilogue. */
export interface InstallSession {
  /** update_bitmap: LPs that called INSTALL in this session. */
  called: Set<number>;
  lpsInUpdate: number;
  /** SEAMEXTEND.seam_ready as the first LP found it. */
  snapshotSeamReady: boolean;
}

export interface PSeamldr {
  readonly version: Version;
  numRemainingUpdates: number;
  /** IA32_SGX_DEBUG_MODE.debug_unlock_mode: debug-signed modules may load. */
  readonly debugUnlocked: boolean;
  /** SEAMEXTEND.tee_tcb_svn.current_seam_svn of the loaded module (0 when none). */
  currentSeamSvn: number;
  session: InstallSession | null;
  /** INTEL_SIGNER_KEY_HASH: SHA-384 of the only modulus allowed to sign modules (the trust anchor). */
  readonly intelKeyHash: string;
  /** The LP executing in P-SEAMLDR; hardware admits one at a time (spec §1 item 6, [T-v3 #107]). */
  insideCpu: number | null;
  /** SEAMCALLs refused with VMfailInvalid because another LP was inside. */
  rejectedEntries: number;
}

export function createPseamldr(version: Version, numRemainingUpdates: number, debugUnlocked: boolean, intelKeyHash: string): PSeamldr {
  return { version, numRemainingUpdates, debugUnlocked, currentSeamSvn: 0, session: null, intelKeyHash, insideCpu: null, rejectedEntries: 0 };
}

export interface SeamldrInfo {
  version: Version;
  numRemainingUpdates: number;
  seamReady: boolean;
  seamDebug: boolean;
}

/** SEAMLDR.INFO's output fields. The calling LP does not matter; it is kept for the SEAMCALL shape. */
export function seamldrInfo(seam: Seam, _cpu: number): { status: bigint; info: SeamldrInfo } {
  const ldr = seam.pseamldr;
  return {
    status: SEAMLDR_SUCCESS,
    info: {
      version: ldr.version,
      numRemainingUpdates: ldr.numRemainingUpdates,
      seamReady: seam.seamReady,
      seamDebug: ldr.debugUnlocked,
    },
  };
}

/** P-SEAMLDR's dispatcher: SEAMCALL with leaf bit 63 set. */
export function pseamldrCall(seam: Seam, cpu: number, leaf: bigint, args: SeamcallArgs): SeamcallResult {
  switch (leaf) {
    case P_SEAMLDR_INFO:
      return seamldrInfoCall(seam, cpu, args.rcx ?? 0n);
    case P_SEAMLDR_INSTALL:
      return seamldrInstall(seam, cpu, args.rcx ?? 0n);
    default:
      return { status: SEAMLDR_EBADPARAM };
  }
}

const aligned = (pa: bigint) => pa % BigInt(PAGE_SIZE) === 0n && pa <= BigInt(Number.MAX_SAFE_INTEGER);

/** A page of seam.mem at a 4 KiB-aligned physical address, to read, or undefined. */
function pageAt(seam: Seam, pa: bigint): Readonly<Uint8Array> | undefined {
  return aligned(pa) ? seam.mem.read(Number(pa)) : undefined;
}

/** The same, to write. */
function writablePageAt(seam: Seam, pa: bigint): Uint8Array | undefined {
  return aligned(pa) ? seam.mem.page(Number(pa)) : undefined;
}

// RCX = PA of a 256-byte-aligned SEAMLDR_INFO (spec §5.1), written as asm/seamldr.h lays it out.
function seamldrInfoCall(seam: Seam, cpu: number, infoPa: bigint): SeamcallResult {
  const pageOffset = Number(infoPa % BigInt(PAGE_SIZE));
  const page = writablePageAt(seam, infoPa - BigInt(pageOffset));
  if (page === undefined || pageOffset % SEAMLDR_INFO_SIZE !== 0) return { status: SEAMLDR_EBADPARAM };
  // Injected fault: this call fails before P-SEAMLDR writes the buffer.
  const f = seam.faults.infoFail;
  if (f && f.cpu === cpu) {
    seam.faults.infoFail = null;
    return { status: f.status };
  }
  const { status, info } = seamldrInfo(seam, cpu);
  const out = page.subarray(pageOffset, pageOffset + SEAMLDR_INFO_SIZE);
  out.fill(0);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint32(SEAMLDR_INFO_OFF.VENDOR_ID, SIGSTRUCT_VENDOR_INTEL, true);
  v.setUint16(SEAMLDR_INFO_OFF.MINOR, info.version.minor, true);
  v.setUint16(SEAMLDR_INFO_OFF.MAJOR, info.version.major, true);
  v.setUint16(SEAMLDR_INFO_OFF.UPDATE, info.version.update, true);
  v.setUint32(SEAMLDR_INFO_OFF.NUM_REMAINING_UPDATES, info.numRemainingUpdates, true);
  out[SEAMLDR_INFO_OFF.SEAM_READY] = info.seamReady ? 1 : 0;
  out[SEAMLDR_INFO_OFF.SEAM_DEBUG] = info.seamDebug ? 1 : 0;
  out[SEAMLDR_INFO_OFF.P_SEAM_READY] = 1;
  return { status };
}

interface SeamldrParams {
  version: number;
  scenario: number;
  sigstructPa: bigint;
  reservedZero: boolean;
  numModulePages: bigint;
  /** The first min(num_module_pages, 496) entries. */
  modulePagesPa: bigint[];
}

function readParams(page: Uint8Array): SeamldrParams {
  const v = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const numModulePages = v.getBigUint64(SEAMLDR_PARAMS_OFF.NUM_MODULE_PAGES, true);
  const n = Number(numModulePages < BigInt(SEAMLDR_MAX_NR_MODULE_PAGES) ? numModulePages : BigInt(SEAMLDR_MAX_NR_MODULE_PAGES));
  const modulePagesPa: bigint[] = [];
  for (let i = 0; i < n; i++) modulePagesPa.push(v.getBigUint64(SEAMLDR_PARAMS_OFF.MODULE_PAGES_PA_LIST + 8 * i, true));
  const reserved = page.subarray(SEAMLDR_PARAMS_OFF.RESERVED, SEAMLDR_PARAMS_OFF.RESERVED + SEAMLDR_PARAMS_OFF.RESERVED_SIZE);
  return {
    version: v.getUint32(SEAMLDR_PARAMS_OFF.VERSION, true),
    scenario: v.getUint32(SEAMLDR_PARAMS_OFF.SCENARIO, true),
    sigstructPa: v.getBigUint64(SEAMLDR_PARAMS_OFF.SIGSTRUCT_PA, true),
    reservedZero: reserved.every((x) => x === 0),
    numModulePages,
    modulePagesPa,
  };
}

/** The outcome of the last LP's work; rdx = 1 once the SEAM range was touched. */
interface InstallOutcome {
  status: bigint;
  unrecoverable: boolean;
}
const recoverable = (status: bigint): InstallOutcome => ({ status, unrecoverable: false });

/**
 * SEAMLDR.INSTALL on one LP, RCX = PA of SEAMLDR_PARAMS. Every LP of the platform must call it
 * once per session; the last one does the work (spec §2.5). Returns RDX in `out`: 0 recoverable
 * (or success), 1 unrecoverable.
 */
export function seamldrInstall(seam: Seam, cpu: number, paramsPa: bigint): SeamcallResult {
  // Injected fault: this LP's call fails on entry without joining the session (nothing changed,
  // so RDX says recoverable).
  const f = seam.faults.installFail;
  if (f !== null && f.cpu === cpu) {
    seam.faults.installFail = null;
    return { status: f.status, out: 0n };
  }
  const ldr = seam.pseamldr;
  if (ldr.session?.called.has(cpu)) return { status: SEAMLDR_EBADCALL, out: 0n };
  const session = ldr.session ?? beginSession(seam);
  session.called.add(cpu);
  session.lpsInUpdate++;
  // tot_num_lps counts every LP of the platform, so one offline CPU stalls the session forever.
  if (session.lpsInUpdate < seam.platform.cpus.length) return { status: SEAMLDR_SUCCESS, out: 0n };
  const outcome = installOnLastLp(seam, session, paramsPa);
  installEpilogue(seam, session, outcome);
  return { status: outcome.status, out: outcome.unrecoverable ? 1n : 0n };
}

// The first LP snapshots SEAMEXTEND and clears SEAM_READY: from now on the old module cannot be
// entered (VMfailInvalid).
function beginSession(seam: Seam): InstallSession {
  const session: InstallSession = { called: new Set(), lpsInUpdate: 0, snapshotSeamReady: seam.seamReady };
  seam.seamReady = false;
  seam.pseamldr.session = session;
  return session;
}

function installOnLastLp(seam: Seam, session: InstallSession, paramsPa: bigint): InstallOutcome {
  const paramsPage = pageAt(seam, paramsPa);
  if (paramsPage === undefined) return recoverable(SEAMLDR_EBADPARAM);
  const params = readParams(paramsPage);
  if (!seamldrParamsValid(seam, params, session.snapshotSeamReady)) return recoverable(SEAMLDR_EBADPARAM);
  // P-SEAMLDR works on its own copy, so later writes to the page cannot race the checks.
  const sigBytes = pageAt(seam, params.sigstructPa)!.slice(0, SIGSTRUCT_SIZE);
  const sig = parseSigstruct(sigBytes);
  const manifest = verifyManifest(seam, params, sig, sigBytes);
  if (manifest !== SEAMLDR_SUCCESS) return recoverable(manifest);
  const resources = checkResources(seam, params.scenario);
  if (resources !== SEAMLDR_SUCCESS) return recoverable(resources);

  // Point of no return: the SEAM range is zeroed, except P-SEAMLDR's own and the handoff data.
  seam.module = null;
  // The module pages are copied into the SEAM range here; nothing in the emulation reads the
  // SEAM range's bytes, so the copy is its page count, and the hash is of the pages as they are.
  if (moduleHash(seam, params.modulePagesPa) !== toHex(sig.seamhash)) return { status: SEAMLDR_EBADHASH, unrecoverable: true };
  installModule(seam, params.modulePagesPa.length, sig);
  if (params.scenario === SEAMLDR_SCENARIO_UPDATE) seam.pseamldr.numRemainingUpdates--;
  return { status: SEAMLDR_SUCCESS, unrecoverable: false };
}

// check_seamldr_params (spec §3.3): every failure is EBADPARAM.
function seamldrParamsValid(seam: Seam, p: SeamldrParams, snapshotSeamReady: boolean): boolean {
  if (p.version !== 0 || !p.reservedZero) return false;
  if (p.scenario !== SEAMLDR_SCENARIO_LOAD && p.scenario !== SEAMLDR_SCENARIO_UPDATE) return false;
  // UPDATE needs a module to update.
  if (p.scenario === SEAMLDR_SCENARIO_UPDATE && !snapshotSeamReady) return false;
  if (p.numModulePages < 1n || p.numModulePages > BigInt(SEAMLDR_MAX_NR_MODULE_PAGES)) return false;
  return pageAt(seam, p.sigstructPa) !== undefined && p.modulePagesPa.every((pa) => pageAt(seam, pa) !== undefined);
}

// verify_manifest: the first failing check of the real loader's order is the status (spec §3.3,
// data/README.md). The emulated platform is one socket.
function verifyManifest(seam: Seam, params: SeamldrParams, sig: Sigstruct, sigBytes: Uint8Array): bigint {
  const ldr = seam.pseamldr;
  const failed = manifestChecks(sig, sigBytes, {
    layout: ldr.version.major >= 2 ? '2.0' : '1.5',
    trustedKeyHash: ldr.intelKeyHash,
    debugUnlocked: ldr.debugUnlocked,
    runningSeamsvn: params.scenario === SEAMLDR_SCENARIO_UPDATE ? ldr.currentSeamSvn : null,
    cpuFms: [seam.platform.cpuFms],
    moduleBytes: Number(params.numModulePages) * PAGE_SIZE,
  }).find((c) => !c.ok);
  return failed ? failed.status : SEAMLDR_SUCCESS;
}

// initialize_memory_constants' RDRAND, then the update slots (SLOTS_EXHAUSTED_STATUS).
function checkResources(seam: Seam, scenario: number): bigint {
  if (seam.faults.noEntropy > 0) {
    seam.faults.noEntropy--;
    return SEAMLDR_ENOENTROPY;
  }
  if (scenario === SEAMLDR_SCENARIO_UPDATE && seam.pseamldr.numRemainingUpdates === 0) return SLOTS_EXHAUSTED_STATUS;
  return SEAMLDR_SUCCESS;
}

/** SHA-384 of the module pages as they are, in the step that copies them: once per image (PhysMem.digest). */
function moduleHash(seam: Seam, pas: bigint[]): string {
  return seam.mem.digest(pas.map(Number), pas.length * PAGE_SIZE, 'sha384', (b) => toHex(sha384(b)));
}

// install_epilogue: success already wrote SEAMEXTEND (installModule). A recoverable failure
// restores the snapshot, so the old module can be entered again; an unrecoverable one zeroes
// SEAMEXTEND. Either way the session ends.
function installEpilogue(seam: Seam, session: InstallSession, outcome: InstallOutcome): void {
  if (outcome.status !== SEAMLDR_SUCCESS) {
    if (outcome.unrecoverable) {
      seam.seamReady = false;
      seam.pseamldr.currentSeamSvn = 0;
    } else {
      seam.seamReady = session.snapshotSeamReady;
    }
  }
  seam.pseamldr.session = null;
}

/**
 * A verified image enters the SEAM range: a new module instance with the build-time definitions
 * the registry holds for its SEAMHASH (none when unknown: its TDH.SYS.INIT fails) and the
 * sigstruct's values, its SEAMDB entry, and SEAMEXTEND {seamsvn, mrseam, seam_ready}.
 * Also the BIOS load of the boot module (createSeam).
 */
export function installModule(seam: Seam, nrPages: number, sig: Sigstruct): void {
  const build = lookupBuild(toHex(sig.seamhash)) ?? null;
  const version = build?.version ?? { major: 0, minor: 0, update: 0 };
  const identity: ModuleIdentity = {
    version,
    seamsvn: sig.seamsvn,
    moduleHv: build?.moduleHv ?? 0,
    minUpdateHv: build?.minUpdateHv ?? 0,
    noDowngrade: build?.noDowngrade ?? false,
    debug: sig.debug,
    cpuids: sig.cpuidTable,
    features0: build?.features0 ?? 0n,
    nrPages,
  };
  seam.module = createTdxModule(
    identity,
    {
      moduleHv: sig.moduleHv,
      minUpdateHv: sig.minUpdateHv,
      noDowngrade: sig.noDowngrade,
      numHandoffPages: sig.numHandoffPages,
    },
    build,
  );
  const index = seam.seamdb.length;
  seam.seamdb.push({ index, nonce: seamdbNonce(index, sig.seamhash), version, seamsvn: sig.seamsvn, mrseam: toHex(sig.seamhash) });
  seam.seamReady = true;
  seam.pseamldr.currentSeamSvn = sig.seamsvn;
}

// Deterministic stand-in for the CPU's SEAMDB nonce: distinct per entry even for the same image.
// Kept by entry and image: every boot installs one of a few modules at entry 0.
function seamdbNonce(index: number, mrseam: Uint8Array): bigint {
  const key = `${index} ${toHex(mrseam)}`;
  let nonce = nonces.get(key);
  if (nonce === undefined) {
    const idx = new Uint8Array(4);
    new DataView(idx.buffer).setUint32(0, index, true);
    const h = sha384(new TextEncoder().encode('SEAMDB'), idx, mrseam);
    nonce = new DataView(h.buffer, h.byteOffset, h.byteLength).getBigUint64(0, true);
    if (nonces.size >= 4096) nonces.clear();
    nonces.set(key, nonce);
  }
  return nonce;
}
const nonces = new Map<string, bigint>();
