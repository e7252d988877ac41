// A kernel revision is a record of policy switches, not a fork of the code (spec §2.7).
// seed: the v2 series (2025-09-30) this project was created from, its review bugs fixed.
// compat: the v3-v10 answer to updates during a TD build (AVOID_COMPAT_SENSITIVE, -EBUSY ->
//   device-busy) on the seed's checks, i.e. the design that was dropped before the merge.
// upstream: what was merged (v10 plus Dave Hansen's rework, 2026-06).

export interface Revision {
  readonly name: 'v2' | 'compat' | 'upstream';
  readonly title: string;
  /** v2 p09: refuse with -EBUSY if any present CPU is offline (dropped in v5). */
  readonly cpuOnlinePrecheck: boolean;
  /** v2 p10: refuse with -ENOSPC if num_remaining_updates is 0 (dropped in v5). */
  readonly slotsPrecheck: boolean;
  /** v1 blob (0x100, checksum, offset_of_module) or v2 image (0x200, page counts; v9+). */
  readonly imageFormat: 'v1' | 'v2';
  /** v3-v10: TDH.SYS.SHUTDOWN with RCX bit 16, refusing during compat-sensitive operations. */
  readonly avoidCompat: boolean;
  /** errno -> fw_upload error: v2 (all firmware-invalid), v8-v10 (-EBUSY device-busy), merged. */
  readonly errorMap: 'v2' | 'compat' | 'merged';
  /** v2 p08: `seamldr_upload`; v4+: `tdx_module`. */
  readonly fwName: 'seamldr_upload' | 'tdx_module';
  /** v2: tdx_host/seamldr/{version,num_remaining_updates} 0444; v8+: flat, 0400. */
  readonly seamldrAttrs: { readonly dir: string; readonly mode: 0o444 | 0o400 };
  /** v2 p08: cancel sets cancel_request (v3 clears it in prepare); v4+: a no-op. */
  readonly cancelSupport: boolean;
  /**
   * v2 p14: TDH.SYS.SHUTDOWN's RCX from the cached sysinfo (v2's tdx_module_shutdown), or
   * read fresh (the merged one).
   */
  readonly handoffHvSource: 'boot-cache' | 'read-fresh';
  /** v2 p15: tdx_lp_initialized reset for online CPUs only, or every possible CPU (v6+). */
  readonly lpResetScope: 'online' | 'possible';
  /**
   * v2 p20: the worker re-reads version and MODULE_HV after stop_machine (v2's
   * seamldr_install_module and tdx_module_run_update); merged: tdx_module_run_update re-reads
   * the version only, inside stop_machine on the lead CPU (the merged functions).
   */
  readonly refreshScope: 'version+handoff' | 'version';
  /** v2 p04: retry SEAMLDR.INSTALL on SEAMLDR_RND_NO_ENTROPY (dropped in v4). */
  readonly seamldrEntropyRetry: boolean;
  /** merged (and the seed, B23 fixed): `version` formats under seamldr_lock_module_update(). */
  readonly versionLockout: boolean;
  /** v10+: hide the update interface when X86_BUG_SEAMRET_INVD_VMCS is set. */
  readonly vmcsErratumGuard: boolean;
}

export const V2: Revision = {
  name: 'v2',
  title: 'v2, 2025-09-30',
  cpuOnlinePrecheck: true,
  slotsPrecheck: true,
  imageFormat: 'v1',
  avoidCompat: false,
  errorMap: 'v2',
  fwName: 'seamldr_upload',
  seamldrAttrs: { dir: 'seamldr/', mode: 0o444 },
  cancelSupport: true,
  handoffHvSource: 'boot-cache',
  lpResetScope: 'online',
  refreshScope: 'version+handoff',
  seamldrEntropyRetry: true,
  // v2 had no lock here (spec §2.7); the seed fixes its review bugs, and this is B23's fix.
  versionLockout: true,
  vmcsErratumGuard: false,
};

export const COMPAT: Revision = {
  ...V2,
  name: 'compat',
  title: 'v2 + v3-v10 compat-sensitive handling',
  avoidCompat: true,
  errorMap: 'compat',
};

export const UPSTREAM: Revision = {
  name: 'upstream',
  title: 'merged, v10 + rework, 2026-06',
  cpuOnlinePrecheck: false,
  slotsPrecheck: false,
  imageFormat: 'v2',
  avoidCompat: false,
  errorMap: 'merged',
  fwName: 'tdx_module',
  seamldrAttrs: { dir: '', mode: 0o400 },
  cancelSupport: false,
  handoffHvSource: 'read-fresh',
  lpResetScope: 'possible',
  refreshScope: 'version',
  seamldrEntropyRetry: false,
  versionLockout: true,
  vmcsErratumGuard: true,
};

/**
 * Where the v2 series and the merged code differ in structure, not in one policy (spec §2.7:
 * seamldr_install_module, tdx_module_run_update, version_show), the revision whose refresh is
 * the merged one runs the merged functions and any other runs v2's.
 */
export function runsMergedCode(rev: Revision): boolean {
  return rev.refreshScope === 'version';
}

/** Every emulated kernel revision by name (`--kernel NAME`). */
export const REVISIONS: readonly Revision[] = [V2, COMPAT, UPSTREAM];

export function findRevision(name: string): Revision | undefined {
  return REVISIONS.find((r) => r.name === name);
}
