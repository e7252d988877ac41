// The catalog of seeded bugs: each a named switch, off by default, that puts back a real bug
// from the review history of "Runtime TDX Module update support" (spec §8) in the layer where
// it lived. With one on, `npm run verify -- --fault NAME` must find a counterexample.

export interface SeededBug {
  readonly name: string;
  readonly catalogId: string;
  /** The kernel revision the bug lived in, which `--fault` checks it against by default. */
  readonly kernel: 'v2' | 'compat' | 'upstream';
  readonly layer: string;
  readonly source: string;
  readonly claim: string;
  /** Commands in the shortest scenario that shows it (derived from the spec's event sequence). */
  readonly minimalLength: number;
}

export const SEEDED_BUGS = [
  {
    name: 'ack-before-fail',
    kernel: 'v2',
    minimalLength: 1,
    catalogId: 'B2',
    layer: 'impl/kernel/seamldr.ts',
    source: 'v2; Sagi Shahar on 1.5.24 [T-v2 #74], root cause Chao [T-v2 #75]',
    claim: 'the failing CPU acks before its failure is recorded, so the state can advance past a failed step',
  },
  {
    name: 'hotplug-before-lock',
    kernel: 'upstream',
    minimalLength: 2,
    catalogId: 'B4',
    layer: 'impl/kernel/seamldr.ts',
    source: 'v6 [T-v7 p09 changelog]',
    claim: 'the participant count is taken before cpus_read_lock, so a CPU going offline in between hangs stop_machine',
  },
  {
    name: 'no-early-abort',
    kernel: 'v2',
    minimalLength: 1,
    catalogId: 'B5',
    layer: 'impl/kernel/seamldr.ts',
    source: 'rationale in [T-v7 #64, #81]',
    claim: 'the state machine ignores failures and goes on to INSTALL after a failed shutdown',
  },
  {
    name: 'lp-reset-online-only',
    kernel: 'upstream',
    minimalLength: 2,
    catalogId: 'B7',
    layer: 'impl/kernel/tdx.ts',
    source: 'v2-v5, fixed in v6; Kai [T-v7 p12; T-v4 #26]',
    claim: 'after TDH.SYS.SHUTDOWN only online CPUs lose tdx_lp_initialized, so an offline CPU that comes back skips TDH.SYS.LP.INIT on the new module',
  },
  {
    name: 'stale-handoff-hv',
    kernel: 'v2',
    minimalLength: 1,
    catalogId: 'B9',
    layer: 'impl/kernel/tdx.ts',
    source: 'v2-v4; Rick [T-v4 #85/#90]',
    claim: 'TDH.SYS.SHUTDOWN is passed the boot-time MODULE_HV, never refreshed after an update',
  },
  {
    name: 'version-read-unlocked',
    kernel: 'v2',
    minimalLength: 2,
    catalogId: 'B23',
    layer: 'impl/kernel/tdx_host.ts',
    source: 'v2-v6; Sashiko on v6 [T-v7 p16]',
    claim: '`version` is formatted without seamldr_lock_module_update(), so stop_machine can run between the fields it reads',
  },
  {
    name: 'header-before-size',
    kernel: 'v2',
    minimalLength: 1,
    catalogId: 'B13',
    layer: 'impl/kernel/seamldr.ts',
    source: 'v2-v9; Yilun [T-v3 #116]; Sashiko on v9',
    claim: 'image header fields are read before checking that the image is at least a header long',
  },
  {
    name: 'seamldr-info-unlocked',
    kernel: 'v2',
    minimalLength: 2,
    catalogId: 'B21',
    layer: 'impl/kernel/seamcall.ts',
    source: 'v2/v3; [T-v3 #87, #107, #109]',
    claim: 'seamldr_lock is taken only around SEAMLDR.INSTALL, so two SEAMLDR.INFO callers on two CPUs collide',
  },
  {
    name: 'sticky-cancel',
    kernel: 'v2',
    minimalLength: 2,
    catalogId: 'B20',
    layer: 'impl/kernel/tdx_host.ts',
    source: 'v2; Binbin [T-v2 #79, #83]',
    claim: 'a cancel written while idle leaves cancel_request set, so the next upload is refused as user-abort',
  },
  {
    name: 'run-update-int-truncation',
    kernel: 'v2',
    minimalLength: 1,
    catalogId: 'v2-p19',
    layer: 'impl/kernel/tdx.ts',
    source: 'v2 p19 [T-v2 #86]',
    claim: "TDH.SYS.UPDATE's u64 status is stored in an int, so a failure whose low 32 bits are 0 reads as success",
  },
  {
    name: 'page-count-overflow',
    kernel: 'upstream',
    minimalLength: 1,
    catalogId: 'B14',
    layer: 'impl/kernel/seamldr.ts',
    source: 'Sashiko on v9 [T-v9]',
    claim: 'without the m <= 496 bound, a page count that wraps in u32 passes the size check and populate_pa_list runs past SEAMLDR_PARAMS',
  },
  {
    name: 'no-cpu-online-check',
    kernel: 'v2',
    minimalLength: 2,
    catalogId: 'B27',
    layer: 'impl/kernel/seamldr.ts',
    source: 'dropped in v5 [T-v4 #104-#111]; merged behaviour',
    claim: 'the update starts with a CPU offline; P-SEAMLDR never sees the last LP and the TDs are lost',
  },
  {
    name: 'no-slots-check',
    kernel: 'v2',
    minimalLength: 2,
    catalogId: 'B28',
    layer: 'impl/kernel/seamldr.ts',
    source: 'dropped in v5 [T-v4 #106/#111]; merged behaviour',
    claim: 'the update starts with no update slots left; INSTALL fails after shutdown and the TDs are lost',
  },
  {
    name: 'no-avoid-compat',
    kernel: 'compat',
    minimalLength: 2,
    catalogId: 'B29',
    layer: 'impl/kernel/tdx.ts',
    source: 'dropped before the merge [T-v10 #30]; [BIN README]',
    claim: 'TDH.SYS.SHUTDOWN without AVOID_COMPAT_SENSITIVE: an update during a TD build goes through and breaks the build',
  },
  {
    name: 'retry-skips-shutdown',
    kernel: 'upstream',
    minimalLength: 2,
    catalogId: 'B31',
    layer: 'impl/kernel/tdx.ts',
    source: 'derived from the merged tdx_module_shutdown [TM; LX-tdx]; spec §8 B31',
    claim:
      'a module that is no longer initialized counts as shut down, so a retry after a destructive failure goes on to SEAMLDR.INSTALL and takes down what the first attempt left',
  },
  // Plausible one-line slips in the code an invariant guards (issue 10: no invariant that no
  // seeded fault can fire). Each names the line it drops.
  {
    name: 'stop-machine-one-cpu',
    kernel: 'upstream',
    minimalLength: 1,
    catalogId: 'S1',
    layer: 'impl/kernel/seamldr.ts',
    source: 'slip in seamldr_install_module(): stop_machine_cpuslocked(..., NULL) instead of cpu_online_mask (kernel/stop_machine.c: NULL runs fn on one CPU)',
    claim: 'stop_machine is given no CPU mask, so one CPU runs the update state machine and the others never take part',
  },
  {
    name: 'stale-curstate',
    kernel: 'upstream',
    minimalLength: 1,
    catalogId: 'S2',
    layer: 'impl/kernel/seamldr.ts',
    source: 'slip in do_seamldr_install_module(): the `curstate = newstate` it adopted from multi_cpu_stop() left out',
    claim: 'a CPU does not remember the state it worked on, so it does that step again on its next look at the state',
  },
  {
    name: 'no-version-refresh',
    kernel: 'upstream',
    minimalLength: 1,
    catalogId: 'S3',
    layer: 'impl/kernel/tdx.ts',
    source: 'slip in tdx_module_run_update(): the get_tdx_sys_info_version() of "x86/virt/tdx: Refresh TDX module version after update" left out',
    claim: "after a successful update the kernel keeps reporting the old module's version",
  },
  {
    name: 'sysinit-unlocked',
    kernel: 'upstream',
    minimalLength: 1,
    catalogId: 'S4',
    layer: 'impl/kernel/tdx.ts',
    source: 'slip in try_init_module_global(): sysinit_lock not taken around the check of sysinit_done and TDH.SYS.INIT',
    claim: 'two CPUs in CPU_INIT both find the module not yet initialized and both issue TDH.SYS.INIT',
  },
  {
    name: 'every-cpu-leads',
    kernel: 'upstream',
    minimalLength: 1,
    catalogId: 'S5',
    layer: 'impl/kernel/seamldr.ts',
    source: 'slip in do_seamldr_install_module(): is_lead_cpu tested against the running CPU itself, so it is true everywhere',
    claim: 'every CPU takes itself for the lead and does the lead-only steps, TDH.SYS.SHUTDOWN and TDH.SYS.UPDATE, too',
  },
  {
    name: 'page-add-busy-bug-on',
    kernel: 'upstream',
    minimalLength: 2,
    catalogId: 'S6',
    layer: 'impl/kvm/tdx.ts',
    source: 'slip in tdx_mem_page_add(): the tdx_operand_busy() check before KVM_BUG_ON left out (spec §3.7, [T-v7 #76])',
    claim: 'a busy TDH.MEM.PAGE.ADD is taken for a fatal error: KVM_BUG_ON kills a TD whose build could have retried',
  },
  {
    name: 'prerr-silent',
    kernel: 'upstream',
    minimalLength: 1,
    catalogId: 'S7',
    layer: 'impl/kernel/seamcall.ts',
    source: 'slip in seamcall_prerr(): the status is mapped to an errno but the pr_err() is gone (spec §4.2 "Kernel log")',
    claim: 'a failed TDH.SYS.INIT or TDH.SYS.LP.INIT leaves nothing in the kernel log for the operator',
  },
] as const satisfies readonly SeededBug[];

export type BugName = (typeof SEEDED_BUGS)[number]['name'];
export type Bugs = ReadonlySet<BugName>;

export const NO_BUGS: Bugs = new Set();

export function findBug(nameOrId: string): SeededBug | undefined {
  return SEEDED_BUGS.find((b) => b.name === nameOrId || b.catalogId === nameOrId);
}
