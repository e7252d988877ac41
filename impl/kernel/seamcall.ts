// SEAMCALL wrappers and the status -> errno mapping.
// Mirrors: torvalds/linux arch/x86/virt/vmx/tdx/seamcall_internal.h @ 0eaed89c (spec §5.3).
import { pseamldrEnter, pseamldrExit, seamcall as seamcallInsn, type SeamcallArgs } from '../firmware/seam.ts';
import { P_SEAMLDR_INSTALL, TDX_RND_NO_ENTROPY, TDX_SEAMCALL_VMFAILINVALID, TDX_STATUS_MASK, type SeamcallResult } from '../firmware/abi.ts';
import { preemptDisable, preemptEnable, step, wait, wakeUp, type Task, type Yield } from './sched.ts';
import { EIO, ENODEV } from './errno.ts';
import type { Host } from '../host.ts';

/** RDRAND_RETRY_LOOPS: the wrapper retries TDX_RND_NO_ENTROPY this many times. */
const RDRAND_RETRY_LOOPS = 10;

/** One SEAMCALL instruction on `cpu`, recorded in the trace for the invariants. */
export function seamcallRaw(h: Host, cpu: number, leaf: bigint, args?: SeamcallArgs): SeamcallResult {
  const r = seamcallInsn(h.seam, cpu, leaf, args);
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  h.trace.push({ kind: 'seamcall', cpu, task: h.sched.current?.name ?? 'boot', leaf, rcx: args?.rcx ?? 0n, status: r.status });
  return r;
}

/** seamcall(): retries on no entropy from the TDX module, as sc_retry() does. */
export function seamcall(h: Host, cpu: number, leaf: bigint, args?: SeamcallArgs): SeamcallResult {
  let r = seamcallRaw(h, cpu, leaf, args);
  for (let i = 1; i < RDRAND_RETRY_LOOPS && (r.status & TDX_STATUS_MASK) === TDX_RND_NO_ENTROPY; i++) {
    r = seamcallRaw(h, cpu, leaf, args);
  }
  return r;
}

/** seamcall_prerr(): the status mapped to an errno; any other error status is -EIO after printing. */
export function statusToErrno(status: bigint): number {
  if (status === 0n) return 0;
  if (status === TDX_SEAMCALL_VMFAILINVALID) return -ENODEV;
  return -EIO;
}

export function seamcallPrerr(h: Host, cpu: number, leaf: bigint, args?: SeamcallArgs): number {
  const r = seamcall(h, cpu, leaf, args);
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const silent = h.bugs.has('prerr-silent');
  if (r.status !== 0n && r.status !== TDX_SEAMCALL_VMFAILINVALID && !silent) {
    h.log.push(`SEAMCALL (0x${leaf.toString(16)}) failed: 0x${r.status.toString(16)}`);
  }
  return statusToErrno(r.status);
}

/** Takes (t) or lets go (null) of seamldr_lock; a CPU spinning on it looks again. */
function lockSeamldr(h: Host, t: Task | null): void {
  h.seamldrLock = t;
  wakeUp(h.seamldrLockWait);
}

/**
 * seamldr_call(): a SEAMCALL into P-SEAMLDR under seamldr_lock, a raw spinlock, so no two CPUs
 * are ever inside P-SEAMLDR and stop_machine waits for a caller to finish (spec §3.7). The
 * call spans two steps because another CPU really can run meanwhile. v2 took the lock only
 * around SEAMLDR.INSTALL (bug B21).
 */
export function* seamldrCall(h: Host, cpu: number, leaf: bigint, args: SeamcallArgs = {}): Generator<Yield, SeamcallResult, void> {
  const t = h.sched.current!;
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const locked = !h.bugs.has('seamldr-info-unlocked') || leaf === P_SEAMLDR_INSTALL;
  preemptDisable(h.sched, t);
  try {
    // Stryker disable next-line StringLiteral: the label only names the point in the timeline
    while (locked && h.seamldrLock !== null) yield wait(() => h.seamldrLock === null, 'seamldr_lock', h.seamldrLockWait);
    // Stryker disable next-line ConditionalExpression: locked is always true unless the seeded fault is on
    if (locked) lockSeamldr(h, t);
    let r: SeamcallResult = { status: TDX_SEAMCALL_VMFAILINVALID };
    if (pseamldrEnter(h.seam, cpu)) {
      // Stryker disable next-line StringLiteral: the label only names the point in the timeline
      yield step('in P-SEAMLDR');
      r = pseamldrExit(h.seam, cpu, leaf, args);
    }
    // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
    h.trace.push({ kind: 'seamcall', cpu, task: t.name, leaf, rcx: args.rcx ?? 0n, status: r.status });
    return r;
  } finally {
    // Stryker disable next-line ConditionalExpression: locked is always true unless the seeded fault is on
    if (locked) lockSeamldr(h, null);
    preemptEnable(h.sched, t);
  }
}
