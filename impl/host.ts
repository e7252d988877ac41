// One emulated TDX host: platform, firmware, kernel and KVM, booted from a configuration.
// The harness drives it; nothing here chooses what runs next.
import { createSeam, type Seam } from './firmware/seam.ts';
import type { ModuleIdentity, Version } from './firmware/types.ts';
import { createPlatform, type Platform } from './platform/cpu.ts';
import { PhysMem } from './platform/memory.ts';
import type { Bugs } from './faults.ts';
import { createSched, waitQueue, type LinOp, type RawSpinlock, type Sched, type Task, type WaitQueue } from './kernel/sched.ts';
import type { Revision } from './kernel/revision.ts';
import type { UpdateState } from './kernel/seamldr.ts';
import { clearedModuleState, tdxEnable, type Tdx } from './kernel/tdx.ts';
import { tdxHostProbe, type TdxHost } from './kernel/tdx_host.ts';
import { createKvm, type Kvm } from './kvm/tdx.ts';

export interface HostConfig {
  nrCpus: number;
  cpuFms: number;
  boot: ModuleIdentity;
  seamldrVersion: Version;
  numRemainingUpdates: number;
  debugUnlocked: boolean;
  /** X86_BUG_SEAMRET_INVD_VMCS (IA32_VMX_BASIC bit 60 clear). */
  erratum?: boolean;
  /** The signed module to boot instead of building `boot`, which describes it: Intel's, or one built from `boot` for many boots. */
  bootBlob?: { module: Uint8Array; sigstruct: Uint8Array };
  /** P-SEAMLDR's trust anchor (SeamConfig.signerKeyHash); the project's test key when absent. */
  signerKeyHash?: string;
  /** A firmware fault armed while the kernel brings the module up (one-shot, as InjectedFaults.leafFail). */
  bootFault?: { leaf: bigint; status: bigint; field?: bigint };
}

/** What happened, in order: what the invariants and the timeline read. */
export type TraceEvent =
  | { kind: 'seamcall'; cpu: number; task: string; leaf: bigint; rcx: bigint; status: bigint }
  | { kind: 'update_begin'; cpus: number[]; lead: number; paramsPa: number }
  | { kind: 'update_work'; cpu: number; state: UpdateState; ret: number }
  | { kind: 'ack'; cpu: number; state: UpdateState; ret: number }
  | { kind: 'state'; state: UpdateState }
  | { kind: 'update_end'; ret: number; state: UpdateState }
  | { kind: 'oob_read'; offset: number; len: number }
  | { kind: 'oob_write'; index: number; of: number }
  | { kind: 'hotplug'; cpu: number; online: boolean; ret: number }
  /** A `version` read takes its fields from the kernel's cache between begin and end. */
  | { kind: 'version_read'; task: string; phase: 'begin' | 'end' }
  | { kind: 'lin'; task: string; op: LinOp; result: unknown }
  /** A userspace command finished (the harness records it): the command's data and its result. */
  | { kind: 'response'; task: string; command: { readonly kind: string }; result: unknown };

export interface Host {
  readonly platform: Platform;
  readonly mem: PhysMem;
  readonly seam: Seam;
  readonly sched: Sched;
  readonly rev: Revision;
  readonly bugs: Bugs;
  tdx: Tdx;
  tdxHost: TdxHost;
  kvm: Kvm;
  /** seamldr_lock, the raw spinlock around P-SEAMLDR calls: the task holding it. */
  seamldrLock: Task | null;
  /** What a CPU spinning on seamldr_lock waits on: woken when the lock is taken or let go. */
  readonly seamldrLockWait: WaitQueue;
  /** tdx.c sysinit_lock, around try_init_module_global(). */
  readonly sysinitLock: RawSpinlock;
  readonly trace: TraceEvent[];
  /** The kernel log (pr_err, WARN). */
  readonly log: string[];
}

/** Boot: the BIOS loads the module, the kernel initializes TDX, tdx-host probes. */
export function bootHost(cfg: HostConfig, rev: Revision, bugs: Bugs): Host {
  const platform = createPlatform(cfg.nrCpus, cfg.cpuFms, cfg.erratum ?? false);
  const mem = new PhysMem();
  const seam = createSeam(platform, mem, {
    boot: cfg.bootBlob ?? cfg.boot,
    seamldrVersion: cfg.seamldrVersion,
    numRemainingUpdates: cfg.numRemainingUpdates,
    debugUnlocked: cfg.debugUnlocked,
    signerKeyHash: cfg.signerKeyHash,
  });
  const h: Host = {
    platform,
    mem,
    seam,
    sched: createSched(),
    rev,
    bugs,
    tdx: {
      state: clearedModuleState(),
      lpInitialized: platform.cpus.map(() => false),
      sysinfo: { version: { major: 0, minor: 0, update: 0 }, features0: 0n, moduleHv: 0 },
    },
    tdxHost: { device: false, cancelRequest: false, fw: null, seamldrAttrsVisible: false },
    kvm: createKvm(),
    seamldrLock: null,
    seamldrLockWait: waitQueue(),
    sysinitLock: { owner: null },
    trace: [],
    log: [],
  };
  const ret = enableWith(h, cfg.bootFault ?? null);
  if (ret.ret && !ret.struck) throw new Error(`emulated boot failed: tdx_enable returned ${ret.ret}`);
  // With tdx_enable() failed, tdx_get_sysinfo() is NULL and the probe gives up (-ENODEV).
  tdxHostProbe(h);
  return h;
}

/** tdx_enable() with a boot fault armed; whether the fault struck (else a failure is the emulation's). */
function enableWith(h: Host, fault: { leaf: bigint; status: bigint; field?: bigint } | null): { ret: number; struck: boolean } {
  h.seam.faults.leafFail = fault ? { ...fault, cpu: null } : null;
  const ret = tdxEnable(h);
  const struck = fault !== null && h.seam.faults.leafFail === null;
  h.seam.faults.leafFail = null;
  return { ret, struck };
}
