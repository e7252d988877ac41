// The vocabulary of the update contract: what a module is, what an image is as far as the
// contract cares, the faults the environment may inject into one update, and the kernel
// revision's policies the contract depends on.

export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly update: number;
}

/** A TDX module as its sigstruct and build describe it. */
export interface ModuleSpec {
  readonly version: Version;
  readonly seamsvn: number;
  readonly moduleHv: number;
  readonly minUpdateHv: number;
  readonly noDowngrade: boolean;
  readonly debug: boolean;
  /** CPUID(1).EAX of the CPUs the module supports, stepping masked. */
  readonly cpuids: readonly number[];
  /** TDX_FEATURES0 bit 47: knows AVOID_COMPAT_SENSITIVE, refuses stale TD-build contexts (1.5.24+). */
  readonly updateCompat: boolean;
  /**
   * The oldest running version of its major.minor this module can take TDs over from (Intel's
   * min_module_version_for_td_preserving). How a module refuses the others is not public; the
   * contract assumes it cannot import their handoff data, so TDH.SYS.UPDATE fails (spec §3.5).
   */
  readonly minTdPreserving: Version;
}

/**
 * What is wrong with an image, in the contract's terms:
 * - 'header': the kernel's image checks reject it (spec §3.2);
 * - 'signature': P-SEAMLDR's manifest checks reject it (after shutdown, spec §3.3);
 * - 'hash': the module does not match the sigstruct hash (after shutdown);
 * - 'none': nothing a check looks at is wrong.
 */
export type Defect = 'none' | 'header' | 'signature' | 'hash';

export interface ModelImage {
  readonly size: number;
  readonly module: ModuleSpec;
  readonly defect: Defect;
}

/**
 * The TDX module calls an update makes that a fault can fail: the leaves, and each TDH.SYS.RD of
 * the update path (spec §2.5): MODULE_HV, which the merged kernel reads before TDH.SYS.SHUTDOWN
 * and v2 re-reads after the update, and the three version fields re-read after TDH.SYS.UPDATE
 * (spec §8 B12).
 */
export const FAULT_LEAVES = ['SHUTDOWN', 'SYS_INIT', 'LP_INIT', 'UPDATE', 'RD_MODULE_HV', 'RD_MINOR_VERSION', 'RD_MAJOR_VERSION', 'RD_UPDATE_VERSION'] as const;
export type FaultLeaf = (typeof FAULT_LEAVES)[number];

/**
 * The TD leaves KVM issues (spec §3.7): TDH.MNG.CREATE, TDH.MNG.KEY.CONFIG and TDH.MNG.INIT for
 * KVM_TDX_INIT_VM, TDH.MEM.PAGE.ADD and TDH.MR.EXTEND for each measured page, TDH.MR.FINALIZE,
 * TDH.VP.ENTER, and TDH.MNG.KEY.FREEID when the VM is destroyed. A TD command may carry a fault on
 * one of its own leaves: the first call of it that the command makes fails, busy (model/td.ts
 * says what follows).
 */
export const TD_FAULT_LEAVES = ['MNG_CREATE', 'MNG_KEY_CONFIG', 'MNG_INIT', 'MEM_PAGE_ADD', 'MR_EXTEND', 'MR_FINALIZE', 'VP_ENTER', 'MNG_KEY_FREEID'] as const;
export type TdFaultLeaf = (typeof TD_FAULT_LEAVES)[number];

/**
 * The leaves tdx_enable() issues at boot once every CPU passed TDH.SYS.LP.INIT (init_tdx_module:
 * config_tdx_module, config_global_keyid; spec §7 SYSINIT_DONE → SYSCONFIG_DONE → SYS_READY), and
 * its TDH.SYS.RDs of the module's metadata (get_tdx_sys_info: a version field, TDX_FEATURES0,
 * MODULE_HV). A host may boot with one of them failing: TDX is then off until reboot
 * (HostSpec.configFails).
 */
export const BOOT_FAULT_LEAVES = ['SYS_CONFIG', 'SYS_KEY_CONFIG', 'BOOT_RD_MINOR_VERSION', 'BOOT_RD_TDX_FEATURES0', 'BOOT_RD_MODULE_HV'] as const;
export type BootFaultLeaf = (typeof BOOT_FAULT_LEAVES)[number];

/** One injected firmware fault, armed for the duration of one update. */
export type FaultPlan =
  | { readonly kind: 'leaf'; readonly leaf: FaultLeaf; readonly cpu: number | null }
  | { readonly kind: 'install'; readonly cpu: number }
  /**
   * SEAMLDR.INFO fails once on this CPU: armed when the upload starts, it strikes the first
   * SEAMLDR.INFO issued there (v2's slots precheck, in the fw_upload worker on CPU 0, or a
   * P-SEAMLDR sysfs read) until the update begins.
   */
  | { readonly kind: 'seamldr_info'; readonly cpu: number }
  | { readonly kind: 'no_entropy'; readonly count: number }
  /**
   * The TDX module's RDRAND runs dry `count` times (1-10) at the update's first SEAMCALL into it:
   * TDX_RND_NO_ENTROPY, which the kernel's SEAMCALL wrapper retries (sc_retry, up to
   * RDRAND_RETRY_LOOPS tries, spec §5.3): fewer are invisible, 10 fail that call.
   */
  | { readonly kind: 'tdx_no_entropy'; readonly count: number };

/** The tries of the kernel's SEAMCALL wrapper when the TDX module has no entropy (sc_retry, spec §5.3). */
export const RDRAND_RETRY_LOOPS = 10;

/** The kernel revision's policies the contract depends on (spec §2.7), read from its record. */
export interface ContractParams {
  /** v2 p09: an update with a CPU offline is refused with -EBUSY before anything happens. */
  readonly cpuOnlinePrecheck: boolean;
  /** v2 p10: an update with no slots left is refused with -ENOSPC before anything happens. */
  readonly slotsPrecheck: boolean;
  /** v2 p04: P-SEAMLDR's no-entropy failure may be retried, so it may be recovered from. */
  readonly entropyRetry: boolean;
  /** After an update the kernel asks the new module for its own MODULE_HV (v2 refresh, merged RD). */
  readonly currentHandoffHv: boolean;
  /**
   * merged: MODULE_HV is read (TDH.SYS.RD) right before TDH.SYS.SHUTDOWN, and the update refused
   * when the read fails (spec §2.5 step 1); v2: it is cached, and re-read after the update.
   */
  readonly handoffHvReadAtShutdown: boolean;
  /** v3-v10: shutdown refuses (-EBUSY) while a TD is being built, on modules that know how. */
  readonly avoidCompat: boolean;
  /** v8-v10: -EBUSY reads `device-busy`; otherwise every failure reads `firmware-invalid`. */
  readonly deviceBusyError: boolean;
  /** v2-v3: cancel during an upload stops it before the update starts. */
  readonly cancelSupport: boolean;
  /** merged: no update interface on a CPU with the VMCS-clobbering erratum. */
  readonly vmcsErratumGuard: boolean;
  /**
   * The sysfs ABI userspace finds (spec §2.7): v2's `seamldr_upload` node and `seamldr/version`,
   * or the merged `tdx_module` node and `seamldr_version`. A tool written for the other does not
   * find the update interface.
   */
  readonly sysfsAbi: 'v2' | 'merged';
}

/** An errno as the contract states it: exactly this value, or any non-zero one. */
export type Errno = number | 'nonzero';

export const ENXIO = -6,
  EIO = -5,
  ENOENT = -2,
  EBUSY = -16,
  ENODEV = -19,
  EINVAL = -22,
  ENOSPC = -28,
  ECANCELED = -125;
