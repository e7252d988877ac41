// The switches that choose what the emulated kernel does where its revisions differ (spec
// §2.7): policies as values, structural differences as revision-specific functions chosen by
// them. The values of each revision live in its record (properties/revisions/), which binds them
// to the contract the model states for it.

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

/**
 * Where the v2 series and the merged code differ in structure, not in one policy (spec §2.7:
 * seamldr_install_module, tdx_module_run_update, version_show), the revision whose refresh is
 * the merged one runs the merged functions and any other runs v2's.
 */
export function runsMergedCode(rev: Revision): boolean {
  return rev.refreshScope === 'version';
}
