// A kernel revision is a record of policy switches, not a fork of the code (spec §2.7).
// Only the seed (v2, 2025-09-30) is defined so far.

export interface Revision {
  readonly name: 'seed';
  /** v2 p09: refuse with -EBUSY if any present CPU is offline. */
  readonly cpuOnlinePrecheck: boolean;
  /** v2 p10: refuse with -ENOSPC if num_remaining_updates is 0. */
  readonly slotsPrecheck: boolean;
  /** v2 p08: the fw_upload node name. */
  readonly fwName: 'seamldr_upload';
  /** v2 p14: TDH.SYS.SHUTDOWN's RCX from the cached sysinfo, or read fresh (merged). */
  readonly handoffHvSource: 'boot-cache' | 'read-fresh';
  /** v2 p15: tdx_lp_initialized reset for online CPUs only, or every possible CPU (v6+). */
  readonly lpResetScope: 'online' | 'possible';
  /** v2 p20: what is re-read after a successful update. */
  readonly refreshScope: 'version+handoff' | 'version';
  /** v2 p04: retry SEAMLDR.INSTALL on SEAMLDR_RND_NO_ENTROPY. */
  readonly seamldrEntropyRetry: boolean;
  /** v2 p08: cancel sets cancel_request, checked by prepare and write. */
  readonly cancelSupport: boolean;
}

export const SEED: Revision = {
  name: 'seed',
  cpuOnlinePrecheck: true,
  slotsPrecheck: true,
  fwName: 'seamldr_upload',
  handoffHvSource: 'boot-cache',
  lpResetScope: 'online',
  refreshScope: 'version+handoff',
  seamldrEntropyRetry: true,
  cancelSupport: true,
};

/** Every emulated kernel revision by name (`--kernel NAME`). */
export const REVISIONS: readonly Revision[] = [SEED];

export function findRevision(name: string): Revision | undefined {
  return REVISIONS.find((r) => r.name === name);
}
