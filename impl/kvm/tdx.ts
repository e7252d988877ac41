// KVM's side of TD lifecycle: each ioctl is a sequence of SEAMCALLs on one CPU, preemptible
// between SEAMCALLs, so an update can land in the middle of a TD build (spec §3.7).
// Mirrors: torvalds/linux arch/x86/kvm/vmx/tdx.c (tdx_td_init, tdx_gmem_post_populate,
// tdx_td_finalize, tdx_vcpu_run, tdx_mmu_release_hkid) at the level of SEAMCALLs issued.
// An ioctl holds its VM (the fd's reference), so it acts on the TD it was called for even if
// the VM is being destroyed concurrently.
import { TDH, TDX_OPERAND_BUSY, TDX_STATUS_MASK } from '../firmware/abi.ts';
import type { GuestWrite, SeamcallArgs } from '../firmware/seam.ts';
import { seamcall } from '../kernel/seamcall.ts';
import type { LinOp, Yield } from '../kernel/sched.ts';
import type { Host } from '../host.ts';

export interface KvmTd {
  readonly id: number;
  readonly tdrPa: number;
  readonly hkid: number;
  /** KVM_BUG_ON fired: a SEAMCALL for this TD failed, KVM stops using it. */
  bugged: boolean;
}

export interface Kvm {
  tds: Map<number, KvmTd>;
  nextHkid: number;
}

export function createKvm(): Kvm {
  return { tds: new Map(), nextHkid: 16 };
}

/** The task migrates to CPU 0 if its CPU went offline between SEAMCALLs. */
function onlineOr0(h: Host, cpu: number): number {
  return h.platform.cpus[cpu]!.online ? cpu : 0;
}

/** A failure the caller may retry: every status but this one KVM treats as a bug. */
type Retryable = (status: bigint) => boolean;

const never: Retryable = () => false;

/** tdx_operand_busy(): another SEAMCALL holds a lock the leaf needs (spec §5.3, class 0x02). */
const operandBusy: Retryable = (status) => (status & TDX_STATUS_MASK) === TDX_OPERAND_BUSY;

/** One SEAMCALL for a TD, as a step and a linearization point; a failure it cannot retry is KVM_BUG_ON. */
function* tdSeamcall(h: Host, cpu: number, td: KvmTd, op: LinOp, leaf: bigint, args: SeamcallArgs, retryable = never): Generator<Yield, boolean, void> {
  // After KVM_BUG_ON, KVM issues no more SEAMCALLs for the TD.
  const status = td.bugged ? -1n : seamcall(h, onlineOr0(h, cpu), leaf, args).status;
  if (status !== 0n && !retryable(status)) td.bugged = true;
  yield { kind: 'lin', op, result: status === 0n };
  return status === 0n;
}

/** KVM_TDX_INIT_VM: TDH.MNG.CREATE, TDH.MNG.KEY.CONFIG, TDH.MNG.INIT. */
export function* kvmTdInitVm(h: Host, cpu: number, id: number): Generator<Yield, void, void> {
  const td: KvmTd = { id, tdrPa: h.mem.allocPages(1)[0]!, hkid: h.kvm.nextHkid++, bugged: false };
  h.kvm.tds.set(id, td);
  const tdr = BigInt(td.tdrPa);
  if (!(yield* tdSeamcall(h, cpu, td, { name: 'td_create', args: { td: id } }, TDH.MNG_CREATE, { rcx: tdr, rdx: BigInt(td.hkid) }))) return;
  if (!(yield* tdSeamcall(h, cpu, td, { name: 'td_key_config', args: { td: id } }, TDH.MNG_KEY_CONFIG, { rcx: tdr }))) return;
  yield* tdSeamcall(h, cpu, td, { name: 'td_init', args: { td: id } }, TDH.MNG_INIT, { rcx: tdr });
}

/**
 * KVM_TDX_INIT_MEM_REGION with MEASURE: TDH.MEM.PAGE.ADD then TDH.MR.EXTEND. A busy PAGE.ADD is
 * returned as -EBUSY for userspace to retry, not KVM_BUG_ON (tdx_mem_page_add; spec §3.7 [T-v7 #76]);
 * seeded bug S6 drops that check.
 */
export function* kvmTdAddPage(h: Host, cpu: number, td: KvmTd, gpa: number, content: Uint8Array): Generator<Yield, void, void> {
  const [target, source] = h.mem.allocPages(2) as [number, number];
  h.mem.page(source)!.set(content);
  const args = { rcx: BigInt(gpa), rdx: BigInt(td.tdrPa), r8: BigInt(target), r9: BigInt(source) };
  const retryable = h.bugs.has('page-add-busy-bug-on') ? never : operandBusy;
  const added = yield* tdSeamcall(h, cpu, td, { name: 'td_page_add', args: { td: td.id, gpa, content } }, TDH.MEM_PAGE_ADD, args, retryable);
  h.mem.free(source);
  if (!added) return h.mem.free(target);
  yield* tdSeamcall(h, cpu, td, { name: 'td_extend', args: { td: td.id, gpa } }, TDH.MR_EXTEND, { rcx: BigInt(gpa), rdx: BigInt(td.tdrPa) });
}

/** KVM_TDX_FINALIZE_VM: TDH.MR.FINALIZE. */
export function* kvmTdFinalize(h: Host, cpu: number, td: KvmTd): Generator<Yield, void, void> {
  yield* tdSeamcall(h, cpu, td, { name: 'td_finalize', args: { td: td.id } }, TDH.MR_FINALIZE, { rcx: BigInt(td.tdrPa) });
}

/** KVM_RUN: TDH.VP.ENTER; the guest does the given stores to its private memory. */
export function* kvmTdRun(h: Host, cpu: number, td: KvmTd, writes: GuestWrite[]): Generator<Yield, void, void> {
  yield* tdSeamcall(h, cpu, td, { name: 'td_run', args: { td: td.id, writes } }, TDH.VP_ENTER, { rcx: BigInt(td.tdrPa), writes });
}

/**
 * VM destruction: TDH.MNG.KEY.FREEID, also for a TD KVM gave up on (the HKID must be freed);
 * KVM forgets the TD whether or not it succeeded.
 */
export function* kvmTdTeardown(h: Host, cpu: number, td: KvmTd): Generator<Yield, void, void> {
  const status = seamcall(h, onlineOr0(h, cpu), TDH.MNG_KEY_FREEID, { rcx: BigInt(td.tdrPa) }).status;
  h.kvm.tds.delete(td.id);
  yield { kind: 'lin', op: { name: 'td_teardown', args: { td: td.id } }, result: status === 0n };
}
