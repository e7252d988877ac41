// The vocabulary of the update contract: what a module is, what an image is as far as the
// contract cares, and the faults the environment may inject into one update.

export interface Version { readonly major: number; readonly minor: number; readonly update: number }

/** A TDX module as its sigstruct and build describe it. */
export interface ModuleSpec {
  readonly version: Version;
  readonly seamsvn: number;
  readonly moduleHv: number;
  readonly minUpdateHv: number;
  readonly noDowngrade: boolean;
  readonly debug: boolean;
  readonly cpuids: readonly number[];
  /** TDX_FEATURES0 bit 47: knows AVOID_COMPAT_SENSITIVE, refuses stale TD-build contexts (1.5.24+). */
  readonly updateCompat: boolean;
}

/**
 * What is wrong with an image, in the contract's terms:
 * - 'header': the kernel's image checks reject it (spec §3.2 v2 checks);
 * - 'signature': P-SEAMLDR's manifest check rejects it (EBADSIG, after shutdown);
 * - 'hash': the module does not match the sigstruct hash (EBADHASH, after shutdown);
 * - 'none': nothing a check looks at is wrong.
 */
export type Defect = 'none' | 'header' | 'signature' | 'hash';

export interface ModelImage {
  readonly size: number;
  readonly module: ModuleSpec;
  readonly defect: Defect;
}

/** One injected firmware fault, armed for the duration of one update. */
export type FaultPlan =
  | { readonly kind: 'leaf'; readonly leaf: 'SHUTDOWN' | 'SYS_INIT' | 'LP_INIT' | 'UPDATE'; readonly cpu: number | null }
  | { readonly kind: 'install'; readonly cpu: number }
  | { readonly kind: 'no_entropy'; readonly count: number };

/** The kernel revision's policies the contract depends on (spec §2.7). */
export interface ModelParams {
  readonly cpuOnlinePrecheck: boolean;
  readonly slotsPrecheck: boolean;
  readonly entropyRetry: boolean;
  /** The kernel passes the current module's MODULE_HV to TDH.SYS.SHUTDOWN. */
  readonly currentHandoffHv: boolean;
  /** v3-v10: shutdown refuses (-EBUSY) while a TD is being built, on modules that know how. */
  readonly avoidCompat: boolean;
  /** v8-v10: -EBUSY reads `device-busy`; otherwise every failure reads `firmware-invalid`. */
  readonly deviceBusyError: boolean;
  /** v2-v3: cancel during an upload stops it before the update starts. */
  readonly cancelSupport: boolean;
  /** merged: no update interface on a CPU with the VMCS-clobbering erratum. */
  readonly vmcsErratumGuard: boolean;
}

export function versionString(v: Version): string {
  return `${v.major}.${v.minor}.${String(v.update).padStart(2, '0')}`;
}
