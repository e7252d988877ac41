// The SEAM range as the CPU sees it (SEAMRR, SEAMEXTEND, SEAMDB) and the SEAMCALL instruction.
// Mirrors: the CPU side of SEAMCALL that torvalds/linux arch/x86/virt/vmx/tdx/seamcall_internal.h
// issues: leaf bit 63 enters P-SEAMLDR, anything else the TDX module, and VMfailInvalid when no
// module is ready (spec §1 item 9, §2.5, §5.3). One SEAMCALL is one instruction, so each call
// here runs to completion before any other (spec §3.7).
import type { PhysMem } from '../platform/memory.ts';
import type { Platform } from '../platform/cpu.ts';
import { PAGE_SIZE, TDX_SEAMCALL_VMFAILINVALID, type SeamcallResult } from './abi.ts';
import type { BootModule, Handoff, InjectedFaults, SeamdbEntry, Version } from './types.ts';
import { createPseamldr, installModule, pseamldrCall, type PSeamldr } from './pseamldr.ts';
import { tdxModuleCall, type TdxModule } from './tdx_module.ts';
import { moduleImage, moduleSigstruct } from './image.ts';
import { parseSigstruct, TEST_KEY_HASH, type Sigstruct } from './sigstruct.ts';

export interface GuestWrite {
  gpa: number;
  offset: number;
  value: number;
} // a guest store, page index + byte offset + byte

export interface SeamcallArgs {
  rcx?: bigint;
  rdx?: bigint;
  r8?: bigint;
  r9?: bigint;
  writes?: GuestWrite[];
}

export interface Seam {
  readonly platform: Platform;
  readonly mem: PhysMem;
  pseamldr: PSeamldr;
  /** The module instance in the SEAM range; null once P-SEAMLDR zeroed the range. */
  module: TdxModule | null;
  /** SEAMEXTEND.seam_ready: when false, a SEAMCALL to the module gets VMfailInvalid. */
  seamReady: boolean;
  /** The handoff data region; survives SEAMLDR.INSTALL (derived, spec §10 item 2). */
  handoff: Handoff | null;
  /** SEAMDB: one entry per module instance ever loaded, index = position (spec §6). */
  seamdb: SeamdbEntry[];
  faults: InjectedFaults;
}

export interface SeamConfig {
  boot: BootModule;
  seamldrVersion: Version;
  numRemainingUpdates: number;
  debugUnlocked: boolean;
  /** The trust anchor: SHA-384 of the signer modulus P-SEAMLDR accepts (default: the project's test key). */
  signerKeyHash?: string;
}

/**
 * The platform after BIOS: P-SEAMLDR resident and the boot module loaded (seamdb[0], seam_ready,
 * module in SYSINIT_PENDING). The BIOS load is trusted, so the boot module is not verified and
 * does not consume an update slot.
 */
export function createSeam(platform: Platform, mem: PhysMem, cfg: SeamConfig): Seam {
  const seam: Seam = {
    platform,
    mem,
    pseamldr: createPseamldr(cfg.seamldrVersion, cfg.numRemainingUpdates, cfg.debugUnlocked, cfg.signerKeyHash ?? TEST_KEY_HASH),
    module: null,
    // Stryker disable next-line BooleanLiteral: installModule below sets it
    seamReady: false,
    handoff: null,
    seamdb: [],
    faults: { installFail: null, noEntropy: 0, leafFail: null },
  };
  const boot = 'module' in cfg.boot ? cfg.boot : { module: moduleImage(cfg.boot), sigstruct: moduleSigstruct(cfg.boot) };
  installModule(seam, boot.module.length / PAGE_SIZE, bootSigstruct(boot.sigstruct));
  return seam;
}

// The boot module's sigstruct as parsed, by its bytes: a host's boot blob is built once and
// never written (harness/run.ts withBootBlob), and a search boots it thousands of times.
const bootSigstructs = new WeakMap<Uint8Array, Sigstruct>();

function bootSigstruct(bytes: Uint8Array): Sigstruct {
  let sig = bootSigstructs.get(bytes);
  // Stryker disable next-line ConditionalExpression: parsing again gives the same sigstruct
  if (!sig) bootSigstructs.set(bytes, (sig = parseSigstruct(bytes)));
  return sig;
}

/**
 * A SEAMCALL into P-SEAMLDR as two halves, so that two CPUs can be in it at once as on real
 * hardware: entering while another LP is inside fails with VMfailInvalid (spec §1 item 6).
 */
export function pseamldrEnter(seam: Seam, cpu: number): boolean {
  if (seam.pseamldr.insideCpu !== null) {
    seam.pseamldr.rejectedEntries++;
    return false;
  }
  seam.pseamldr.insideCpu = cpu;
  return true;
}

export function pseamldrExit(seam: Seam, cpu: number, leaf: bigint, args: SeamcallArgs = {}): SeamcallResult {
  const r = pseamldrCall(seam, cpu, leaf, args);
  seam.pseamldr.insideCpu = null;
  return r;
}

/** The SEAMCALL instruction executed on `cpu` with RAX = leaf. */
export function seamcall(seam: Seam, cpu: number, leaf: bigint, args: SeamcallArgs = {}): SeamcallResult {
  if ((leaf >> 63n) & 1n) return pseamldrCall(seam, cpu, leaf, args);
  if (!seam.seamReady || seam.module === null) return { status: TDX_SEAMCALL_VMFAILINVALID };
  return tdxModuleCall(seam, seam.module, cpu, leaf, args);
}
