// SEAMCALL leaf numbers, status codes and metadata field ids.
// Mirrors: intel/tdx-module tdx_1.5 include/tdx_api_defs.h, auto_gen/tdx_error_codes_defs.h,
// auto_gen/global_sys_fields_lookup.h; qizhangz/seam-loader pseamldr_api_defs.h;
// torvalds/linux arch/x86/include/asm/shared/tdx_errno.h (spec §5).

// P-SEAMLDR leaves have bit 63 set (spec §5.1).
export const P_SEAMLDR_INFO = 0x8000000000000000n;
export const P_SEAMLDR_INSTALL = 0x8000000000000001n;

// TDX module leaves (spec §5.2) and the TD lifecycle leaves KVM uses (tdx_api_defs.h).
export const TDH = {
  VP_ENTER: 0n,
  MNG_KEY_CONFIG: 8n,
  MNG_CREATE: 9n,
  MEM_PAGE_ADD: 2n,
  MR_EXTEND: 16n,
  MR_FINALIZE: 17n,
  MNG_INIT: 21n,
  MNG_KEY_FREEID: 20n,
  SYS_INFO: 32n,
  SYS_INIT: 33n,
  SYS_RD: 34n,
  SYS_LP_INIT: 35n,
  SYS_SHUTDOWN: 52n,
  SYS_UPDATE: 53n,
} as const;

export const LEAF_NAMES: ReadonlyMap<bigint, string> = new Map([
  [P_SEAMLDR_INFO, 'SEAMLDR.INFO'],
  [P_SEAMLDR_INSTALL, 'SEAMLDR.INSTALL'],
  ...Object.entries(TDH).map(([k, v]) => [v, 'TDH.' + k.replace(/_/g, '.')] as [bigint, string]),
]);

// TDX module status codes (spec §5.3). Only bits 63:32 identify a status.
export const TDX_SUCCESS = 0n;
export const TDX_OPERAND_INVALID = 0xc000010000000000n;
export const TDX_OPERAND_BUSY = 0x8000020000000000n;
export const TDX_SYS_BUSY = 0x8000020200000000n;
export const TDX_RND_NO_ENTROPY = 0x8000020300000000n;
export const TDX_SYS_INIT_NOT_PENDING = 0xc000050000000000n;
export const TDX_SYS_LP_INIT_NOT_DONE = 0xc000050200000000n;
export const TDX_SYS_LP_INIT_DONE = 0xc000050300000000n;
export const TDX_SYS_NOT_READY = 0xc000050500000000n;
export const TDX_SYS_SHUTDOWN = 0xc000050600000000n;
export const TDX_SYS_STATE_INCORRECT = 0xc000050800000000n;
export const TDX_SYS_INVALID_HANDOFF = 0xc000050900000000n;
export const TDX_SYS_INCOMPATIBLE_SIGSTRUCT = 0xc000050a00000000n;
export const TDX_SYS_LP_INIT_NOT_PENDING = 0xc000050b00000000n;
export const TDX_INCOMPATIBLE_SEAM_CAPABILITIES = 0xc000050d00000000n;
// The TD-lifecycle statuses below are used by the emulated TD leaves (tdx_error_codes_defs.h).
export const TDX_OPERAND_PAGE_METADATA_INCORRECT = 0xc000030000000000n;
export const TDX_TD_FINALIZED = 0xc000060900000000n;
export const TDX_TD_NOT_FINALIZED = 0xc000060a00000000n;
export const TDX_TD_NOT_INITIALIZED = 0xc000060800000000n;
export const TDX_STATUS_MASK = 0xffffffff00000000n;
export const OPERAND_ID_RCX = 1n;

// Kernel software statuses (spec §5.3, tdx_errno.h).
export const TDX_SEAMCALL_VMFAILINVALID = 0x8000ff00ffff0000n;

// P-SEAMLDR status codes (spec §5.1, pseamldr_api_defs.h).
export const SEAMLDR_SUCCESS = 0n;
export const SEAMLDR_EBADPARAM = 0x8000000000000000n;
export const SEAMLDR_EBADCALL = 0x8000000000000003n;
// Unsupported module major SVN (intel/tdx-loader pseamldr_api_defs.h @ 81bf312).
export const SEAMLDR_EUNSUPPORTED = 0x8000000000000006n;
export const SEAMLDR_ENOMEM = 0x8000000000010002n;
export const SEAMLDR_EUNSPECERR = 0x8000000000010003n;
export const SEAMLDR_EUNSUPCPU = 0x8000000000010004n;
export const SEAMLDR_EBADSIG = 0x8000000000020000n;
export const SEAMLDR_EBADHASH = 0x8000000000020001n;
export const SEAMLDR_ENOENTROPY = 0x8000000000030001n;

// Global metadata field ids for TDH.SYS.RD (spec §5.2).
export const MD_MINOR_VERSION = 0x0800000100000003n;
export const MD_MAJOR_VERSION = 0x0800000100000004n;
export const MD_UPDATE_VERSION = 0x0800000100000005n;
export const MD_MODULE_HV = 0x8900000100000000n;
export const MD_MIN_UPDATE_HV = 0x8900000100000001n;
export const MD_NO_DOWNGRADE = 0x8900000000000002n;
export const MD_TDX_FEATURES0 = 0x0a00000300000008n;

// TDX_FEATURES0 bits (spec §5.2).
export const TDX_FEATURES0_TD_PRESERVING = 1n << 1n;
export const TDX_FEATURES0_UPDATE_COMPAT = 1n << 47n;

/** TDH.SYS.SHUTDOWN RCX bit 16 on modules with UPDATE_COMPAT (spec §5.2). */
export const AVOID_COMPAT_SENSITIVE = 1n << 16n;
/** From the v3-v10 kernel patches; not in the 1.5 module source (spec §3.4, §10.3). */
export const TDX_UPDATE_COMPAT_SENSITIVE = 0x8000051200000000n;
/** Name only in the sources (spec §5.3, [T-v7 #76]); the value here is this project's choice. */
export const TDX_INCOMPATIBLE_MRTD_CONTEXT = 0xc000051300000000n;
export const TDX_FEATURES0_NO_RBP_MOD = 1n << 18n;

// SEAMLDR_PARAMS (spec §5.1): 4096 bytes.
export const SEAMLDR_SCENARIO_UPDATE = 1;
export const SEAMLDR_MAX_NR_MODULE_PAGES = 496;
export const PAGE_SIZE = 4096;

export interface SeamcallResult {
  status: bigint;
  /** Output registers the leaf defines (RDX for TDH.SYS.RD's value, P-SEAMLDR's recoverable flag). */
  out?: bigint;
}

// Cold-boot configuration leaves, used only when the BIOS-loaded module is brought up.
export const TDH_SYS_CONFIG = 45n;
export const TDH_SYS_KEY_CONFIG = 31n;

// Added with the firmware emulation (impl/firmware/*).
// System-state statuses of the cold-boot configuration leaves (spec §5.3).
export const TDX_SYS_KEY_CONFIG_NOT_PENDING = 0xc000050700000000n;
export const TDX_SYS_CONFIG_NOT_PENDING = 0xc000050c00000000n;
// Operand ids in the low 32 bits of TDX_OPERAND_INVALID follow the GPR numbering (spec §5.3).
export const OPERAND_ID_RAX = 0n;
export const OPERAND_ID_RDX = 2n;
export const OPERAND_ID_R8 = 8n;
export const OPERAND_ID_R9 = 9n;

export const SEAMLDR_SCENARIO_LOAD = 0;

// SEAMLDR_PARAMS byte offsets (spec §5.1).
export const SEAMLDR_PARAMS_OFF = {
  VERSION: 0, // u32, must be 0
  SCENARIO: 4, // u32, SEAMLDR_SCENARIO_*
  SIGSTRUCT_PA: 8, // u64
  RESERVED: 16, // u8[104]
  RESERVED_SIZE: 104,
  NUM_MODULE_PAGES: 120, // u64
  MODULE_PAGES_PA_LIST: 128, // u64[496]
} as const;

// SEAMLDR_INFO byte offsets (merged asm/seamldr.h, spec §5.1): 256 bytes, 256-byte aligned.
export const SEAMLDR_INFO_SIZE = 256;
export const SEAMLDR_INFO_OFF = {
  VERSION: 0, // u32, structure version
  ATTRIBUTES: 4, // u32
  VENDOR_ID: 8, // u32
  BUILD_DATE: 12, // u32
  BUILD_NUM: 16, // u16
  MINOR: 18, // u16
  MAJOR: 20, // u16
  UPDATE: 22, // u16
  ACM_X2APICID: 24, // u32
  NUM_REMAINING_UPDATES: 28, // u32
  SEAM_INFO: 32, // u8[128]
  SEAM_READY: 160, // u8
  SEAM_DEBUG: 161, // u8
  P_SEAM_READY: 162, // u8
} as const;
