// Shared shapes of the emulated firmware: module identities, injected faults, SEAMDB entries, TD
// control structures and the handoff data. The SEAM range itself (Seam), P-SEAMLDR's state and the
// TDX module instance are declared next to their behaviour in seam.ts, pseamldr.ts, tdx_module.ts.

export interface Version {
  major: number;
  minor: number;
  update: number;
}

/** What a synthetic TDX module binary is, as its build and its sigstruct describe it. */
export interface ModuleIdentity {
  version: Version;
  seamsvn: number; // sigstruct u16 at 948 (spec §3.2)
  moduleHv: number; // build-time TDX_MODULE_HV (spec §3.5)
  minUpdateHv: number; // build-time TDX_MIN_UPDATE_HV
  noDowngrade: boolean; // build-time TDX_NO_DOWNGRADE
  debug: boolean; // sigstruct module_type bit 31
  cpuids: number[]; // sigstruct CPUID table: CPUID(1).EAX & ~0xF values
  features0: bigint; // TDX_FEATURES0
  nrPages: number; // module pages (1..496)
  /** The layout of the handoff data the build writes (registry.ts canImportHandoff); one per major.minor when absent. */
  handoffDataVersion?: number;
}

/** A module the BIOS loads: a synthetic one built from its identity, or a signed module as shipped. */
export type BootModule = ModuleIdentity | { readonly module: Uint8Array; readonly sigstruct: Uint8Array };

/** One-shot firmware faults armed by fault commands and consumed where they strike. */
export interface InjectedFaults {
  /** SEAMLDR.INSTALL on this CPU returns this status instead of running. */
  installFail: { cpu: number; status: bigint } | null;
  /** The next SEAMLDR.INFO on this CPU returns this status (nothing else changes). */
  infoFail?: { cpu: number; status: bigint } | null;
  /** RDRAND failures P-SEAMLDR's last LP will see (each returns ENOENTROPY, recoverable). */
  noEntropy: number;
  /** RDRAND failures the TDX module's next calls will see (each returns TDX_RND_NO_ENTROPY, retryable). */
  tdxNoEntropy?: number;
  /**
   * The next call of this TDX module leaf (on any CPU, or the given one) returns the status;
   * for TDH.SYS.RD, with `field`, only the read of that metadata field (RDX) does.
   */
  leafFail: { leaf: bigint; cpu: number | null; status: bigint; field?: bigint } | null;
}

export interface SeamdbEntry {
  index: number;
  nonce: bigint;
  version: Version;
  seamsvn: number;
  mrseam: string;
}

export interface Tdr {
  readonly tdrPa: number;
  hkid: number;
  keyConfigured: boolean;
  initialized: boolean; // TDH.MNG.INIT done
  finalized: boolean; // TDH.MR.FINALIZE done
  /** SHA-384 chaining context of the measurement, and the module instance it belongs to. */
  mrtd: Uint8Array;
  mrtdSeamdbIndex: number;
  /** TDR.td_preserving_fields, recorded at TDH.MNG.CREATE (spec §6). */
  launchSeamdbIndex: number;
  launchNonce: bigint;
  handoffVersion: number;
  /** gpa (page index) -> host physical address of the private page (PAMT owner = this TDR). */
  pages: Map<number, number>;
}

/** What TDH.SYS.SHUTDOWN writes to the handoff data region and TDH.SYS.UPDATE imports. */
export interface Handoff {
  valid: boolean;
  hv: number;
  /** The writing build's handoff data version (registry.ts canImportHandoff). */
  dataVersion: number;
  /** KOT and TD control structures carried across the update (spec §2.5 "Import the handoff"). */
  tds: Map<number, Tdr>;
  nextHkid: number;
}
