// Tests for impl/kernel/seamcall.ts (and the errno names of errno.ts): the status -> errno
// mapping of spec §5.3, the RDRAND retry of sc_retry, seamcall_prerr's log line, and
// seamldr_call's serialization of P-SEAMLDR (spec §1 item 6, I-13, bug B21).
import { describe, expect, it } from 'vitest';
import {
  P_SEAMLDR_INFO,
  P_SEAMLDR_INSTALL,
  SEAMLDR_EBADCALL,
  TDH,
  TDX_OPERAND_INVALID,
  TDX_RND_NO_ENTROPY,
  TDX_SEAMCALL_VMFAILINVALID,
  TDX_SYS_BUSY,
  type SeamcallResult,
} from '../../../impl/firmware/abi.ts';
import type { InjectedFaults } from '../../../impl/firmware/types.ts';
import { EIO, ENODEV } from '../../../impl/kernel/errno.ts';
import { seamcall, seamcallPrerr, seamcallRaw, seamldrCall, statusToErrno } from '../../../impl/kernel/seamcall.ts';
import { spawn, stepTask, type Yield } from '../../../impl/kernel/sched.ts';
import { seamldrGetInfo } from '../../../impl/kernel/seamldr.ts';
import { boot, calls, runTasks } from './helpers.ts';

describe('statusToErrno (spec §5.3)', () => {
  it.each([
    [0n, 0],
    [TDX_SEAMCALL_VMFAILINVALID, -ENODEV],
    [TDX_SYS_BUSY, -EIO],
    [TDX_OPERAND_INVALID | 1n, -EIO],
    [SEAMLDR_EBADCALL, -EIO],
    [0x8000ff000000000dn, -EIO], // #GP is not told apart by this emulation (spec §10 item 8)
  ])('0x%s -> %i', (status, errno) => {
    expect(statusToErrno(status)).toBe(errno);
  });
});

/** A leaf fault that does not disarm itself: the module keeps answering `status`. */
function persistentFault(h: ReturnType<typeof boot>, leaf: bigint, status: bigint): void {
  const fault = { leaf, cpu: null, status };
  const faults = h.seam.faults as InjectedFaults;
  Object.defineProperty(faults, 'leafFail', { get: () => fault, set: () => undefined, configurable: true });
}

describe('seamcall wrappers', () => {
  it('seamcallRaw records the SEAMCALL with the task that made it ("boot" outside any task)', () => {
    const h = boot(2);
    const n = h.trace.length;
    expect(seamcallRaw(h, 1, TDH.SYS_RD, { rcx: 0n, rdx: 0x0800000100000004n })).toEqual({ status: 0n, out: 1n });
    expect(h.trace.slice(n)).toEqual([{ kind: 'seamcall', cpu: 1, task: 'boot', leaf: TDH.SYS_RD, rcx: 0n, status: 0n }]);
  });

  it('retries TDX_RND_NO_ENTROPY: one failure is invisible to the caller', () => {
    const h = boot(1);
    h.seam.faults.leafFail = { leaf: TDH.SYS_RD, cpu: null, status: TDX_RND_NO_ENTROPY };
    const n = h.trace.length;
    expect(seamcall(h, 0, TDH.SYS_RD, { rdx: 0x0800000100000004n }).status).toBe(0n);
    expect(calls(h.trace.slice(n))).toEqual(['TDH.SYS.RD@0=0x8000020300000000', 'TDH.SYS.RD@0=0x0']);
  });

  it('gives up after RDRAND_RETRY_LOOPS = 10 attempts', () => {
    const h = boot(1);
    persistentFault(h, TDH.SYS_RD, TDX_RND_NO_ENTROPY | 0x1234n);
    const n = h.trace.length;
    expect(seamcall(h, 0, TDH.SYS_RD).status).toBe(TDX_RND_NO_ENTROPY | 0x1234n);
    expect(h.trace.length - n).toBe(10);
  });

  it.each([
    [9, 0n],
    [10, TDX_RND_NO_ENTROPY],
  ])('the module out of entropy %i times in a row (the tdx_no_entropy fault): the call returns %s', (count, status) => {
    const h = boot(1);
    h.seam.faults.tdxNoEntropy = count;
    expect(seamcall(h, 0, TDH.SYS_RD, { rdx: 0x0800000100000004n }).status).toBe(status);
  });

  it('does not retry other statuses', () => {
    const h = boot(1);
    persistentFault(h, TDH.SYS_RD, TDX_SYS_BUSY);
    const n = h.trace.length;
    seamcall(h, 0, TDH.SYS_RD);
    expect(h.trace.length - n).toBe(1);
  });

  it('seamcall_prerr prints "SEAMCALL (0x<leaf>) failed: 0x<status>", except for VMfailInvalid', () => {
    const h = boot(1);
    h.seam.faults.leafFail = { leaf: TDH.SYS_RD, cpu: null, status: TDX_SYS_BUSY };
    expect(seamcallPrerr(h, 0, TDH.SYS_RD)).toBe(-EIO);
    h.seam.seamReady = false;
    expect(seamcallPrerr(h, 0, TDH.SYS_RD)).toBe(-ENODEV);
    expect(h.log).toEqual(['SEAMCALL (0x22) failed: 0x8000020200000000']);
  });
});

describe('seamldr_call: P-SEAMLDR under seamldr_lock', () => {
  /** Two tasks on CPUs 0 and 1 each issue one P-SEAMLDR call; returns their results. */
  function twoCallers(h: ReturnType<typeof boot>, leaf: bigint): SeamcallResult[] {
    const out: SeamcallResult[] = [];
    const body = (cpu: number) =>
      (function* (): Generator<Yield, void, void> {
        const pa = h.mem.allocPages(1)[0]!;
        out[cpu] = yield* seamldrCall(h, cpu, leaf, { rcx: BigInt(pa) });
      })();
    const a = spawn(h.sched, 'a', 0, body(0));
    const b = spawn(h.sched, 'b', 1, body(1));
    expect(stepTask(h.sched, a)).toEqual({ kind: 'step', label: 'in P-SEAMLDR' }); // a is inside P-SEAMLDR
    stepTask(h.sched, b);
    runTasks(h);
    return out;
  }

  it('a second caller waits for the lock, so both SEAMLDR.INFO calls succeed', () => {
    const h = boot(2);
    expect(twoCallers(h, P_SEAMLDR_INFO).map((r) => r.status)).toEqual([0n, 0n]);
    expect(h.seam.pseamldr.rejectedEntries).toBe(0);
    expect(h.seamldrLock).toBeNull();
  });

  it('seamldr-info-unlocked (B21): the second SEAMLDR.INFO enters while the first is inside -> VMfailInvalid', () => {
    const h = boot(2, { bugs: ['seamldr-info-unlocked'] });
    expect(twoCallers(h, P_SEAMLDR_INFO).map((r) => r.status)).toEqual([0n, TDX_SEAMCALL_VMFAILINVALID]);
    expect(h.seam.pseamldr.rejectedEntries).toBe(1);
  });

  it('with the bug, SEAMLDR.INSTALL is still serialized', () => {
    const h = boot(2, { bugs: ['seamldr-info-unlocked'] });
    // Garbage params: every call fails inside P-SEAMLDR, but none is turned away at the door.
    const r = twoCallers(h, P_SEAMLDR_INSTALL);
    expect(r.map((x) => x.status === TDX_SEAMCALL_VMFAILINVALID)).toEqual([false, false]);
    expect(h.seam.pseamldr.rejectedEntries).toBe(0);
  });

  it('the caller runs with preemption disabled while in P-SEAMLDR and not after', () => {
    const h = boot(1);
    const seen: number[] = [];
    const t = spawn(
      h.sched,
      't',
      0,
      (function* (): Generator<Yield, void, void> {
        const info = yield* seamldrGetInfo(h, 0);
        seen.push(h.sched.current!.preempt, info!.numRemainingUpdates);
      })(),
    );
    stepTask(h.sched, t);
    expect(t.preempt).toBe(1);
    expect(h.seamldrLock).toBe(t);
    runTasks(h);
    expect(seen).toEqual([0, 2]);
  });
});
