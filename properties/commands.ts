// Commands as plain data (serializable, replayable without fast-check), and what each one
// does on the emulated host: the userspace and KVM side of the platform. Each command runs as
// a task; its linearization points carry what the model needs to predict the result.
import { fwCancel, fwError, fwLoad, fwUploadMain } from '../impl/kernel/fw_upload.ts';
import { cpuDown, cpuUp } from '../impl/kernel/hotplug.ts';
import { spawn, type TaskBody, type Yield } from '../impl/kernel/sched.ts';
import { seamldrAttrShow, versionShowTask } from '../impl/kernel/tdx_host.ts';
import { kvmTdAddPage, kvmTdFinalize, kvmTdInitVm, kvmTdRun, kvmTdTeardown } from '../impl/kvm/tdx.ts';
import type { Host } from '../impl/host.ts';
import type { ModelState } from '../model/state.ts';
import type { FaultPlan } from '../model/types.ts';
import { describeImage, imageBytes, modelImage, type ImageRef } from './images.ts';

export interface GuestStore { readonly page: number; readonly offset: number; readonly value: number }

export type Command =
  | { readonly kind: 'upload'; readonly image: ImageRef; readonly fault: FaultPlan | null }
  | { readonly kind: 'cancel' }
  | { readonly kind: 'read_error' }
  | { readonly kind: 'read_version' }
  | { readonly kind: 'read_seamldr'; readonly attr: 'version' | 'num_remaining_updates'; readonly cpu?: number }
  | { readonly kind: 'cpu_offline'; readonly cpu: number }
  | { readonly kind: 'cpu_online'; readonly cpu: number }
  | { readonly kind: 'td_create'; readonly cpu: number }
  | { readonly kind: 'td_add_page'; readonly td: number; readonly fill: number; readonly cpu: number }
  | { readonly kind: 'td_finalize'; readonly td: number; readonly cpu: number }
  | { readonly kind: 'td_run'; readonly td: number; readonly stores: readonly GuestStore[]; readonly cpu: number }
  | { readonly kind: 'td_teardown'; readonly td: number; readonly cpu: number };

export type CommandKind = Command['kind'];

export const COMMAND_KINDS: readonly CommandKind[] = [
  'upload', 'cancel', 'read_error', 'read_version', 'read_seamldr', 'cpu_offline', 'cpu_online',
  'td_create', 'td_add_page', 'td_finalize', 'td_run', 'td_teardown',
];

/** What a command needs from the run it is issued in. */
export interface IssueEnv {
  readonly h: Host;
  readonly model: ModelState;
  /** The upload's fault, armed by the runner while that update's stop_machine runs. */
  setPendingFault(f: FaultPlan | null): void;
  newTdId(): number;
}

/** A userspace action that takes effect in one step: a sysfs read or write. */
function* once(name: string, args: Record<string, unknown>, act: () => unknown): Generator<Yield, void, void> {
  yield { kind: 'lin', op: { name, args }, result: act() };
}

/** `cat version`: it takes effect where the last field is read, in the same step. */
function* readVersion(h: Host): Generator<Yield, void, void> {
  const r = yield* versionShowTask(h);
  yield { kind: 'lin', op: { name: 'read_version', args: {} }, result: r };
}

/** A sysfs read of a P-SEAMLDR attribute: a SEAMLDR.INFO on the reader's CPU. */
function* readSeamldr(h: Host, cpu: number, attr: 'version' | 'num_remaining_updates'): Generator<Yield, void, void> {
  const r = yield* seamldrAttrShow(h, cpu, attr);
  yield { kind: 'lin', op: { name: 'read_seamldr', args: { attr } }, result: r };
}

/** A page of guest data: deterministic bytes from a fill value (what userspace hands KVM). */
export function pageContent(fill: number): Uint8Array {
  const p = new Uint8Array(4096);
  let x = (fill * 2654435761) >>> 0;
  for (let i = 0; i < p.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    p[i] = x >>> 24;
  }
  return p;
}

function* upload(env: IssueEnv, c: Extract<Command, { kind: 'upload' }>): Generator<Yield, void, void> {
  const fw = env.h.tdxHost.fw!;
  const bytes = imageBytes(c.image);
  const r = fwLoad(env.h, fw, bytes);
  if (r === 'started') {
    env.setPendingFault(c.fault);
    spawnWorker(env.h, fw);
  }
  yield { kind: 'lin', op: { name: 'fw_load', args: { image: modelImage(c.image, bytes.length, env.h.rev.imageFormat), fault: c.fault } }, result: r };
}

/** The worker runs on system_long_wq; CPU 0 is always online. */
function spawnWorker(h: Host, fw: NonNullable<Host['tdxHost']['fw']>): void {
  spawn(h.sched, 'fw_upload_worker', 0, fwUploadMain(h, fw));
}

/** Pick the n-th TD the model knows, or null if there is none. */
function pickTd(m: ModelState, n: number): number | null {
  const ids = [...m.tds.keys()];
  return ids.length === 0 ? null : ids[n % ids.length]!;
}

function cpuOf(h: Host, cpu: number): number {
  return cpu % h.platform.cpus.length;
}

/** The task a command runs as, or null when it has nothing to act on (no TD yet). */
export function issue(env: IssueEnv, c: Command): TaskBody | null {
  const { h } = env;
  switch (c.kind) {
    case 'upload': return upload(env, c);
    case 'cancel': return once('cancel', {}, () => fwCancel(h, h.tdxHost.fw!, '1'));
    case 'read_error': return once('read_error', {}, () => fwError(h.tdxHost.fw!));
    case 'read_version': return readVersion(h);
    case 'read_seamldr': return readSeamldr(h, cpuOf(h, c.cpu ?? 0), c.attr);
    case 'cpu_offline': return cpuDown(h, cpuOf(h, c.cpu));
    case 'cpu_online': return cpuUp(h, cpuOf(h, c.cpu));
    case 'td_create': return kvmTdInitVm(h, cpuOf(h, c.cpu), env.newTdId());
    default: return issueTdOp(env, c);
  }
}

function issueTdOp(env: IssueEnv, c: Extract<Command, { td: number }>): TaskBody | null {
  const { h, model } = env;
  const id = pickTd(model, c.td);
  const td = id === null ? undefined : h.kvm.tds.get(id);
  if (id === null || td === undefined) return null;
  const cpu = cpuOf(h, c.cpu);
  switch (c.kind) {
    case 'td_add_page': return kvmTdAddPage(h, cpu, td, model.tds.get(id)!.pages.size, pageContent(c.fill));
    case 'td_finalize': return kvmTdFinalize(h, cpu, td);
    case 'td_run': {
      const n = model.tds.get(id)!.pages.size;
      const writes = n === 0 ? [] : c.stores.map((s) => ({ gpa: s.page % n, offset: s.offset, value: s.value }));
      return kvmTdRun(h, cpu, td, writes);
    }
    case 'td_teardown': return kvmTdTeardown(h, cpu, td);
  }
}

const LEAF_NAME = { SHUTDOWN: 'TDH.SYS.SHUTDOWN', SYS_INIT: 'TDH.SYS.INIT', LP_INIT: 'TDH.SYS.LP.INIT', UPDATE: 'TDH.SYS.UPDATE' } as const;

function faultString(f: FaultPlan): string {
  switch (f.kind) {
    case 'leaf': return `${LEAF_NAME[f.leaf]} fails${f.cpu === null ? '' : ` on cpu ${f.cpu}`}`;
    case 'install': return `SEAMLDR.INSTALL fails on cpu ${f.cpu}`;
    case 'no_entropy': return `no entropy x${f.count}`;
  }
}

/** A command as a call, for counterexamples. */
export function describe(c: Command): string {
  switch (c.kind) {
    case 'upload': return `upload(${describeImage(c.image)}${c.fault ? `; fault: ${faultString(c.fault)}` : ''})`;
    case 'read_seamldr': return `read(seamldr/${c.attr}, cpu ${c.cpu ?? 0})`;
    case 'cpu_offline': case 'cpu_online': return `${c.kind === 'cpu_offline' ? 'offline' : 'online'}(cpu ${c.cpu})`;
    case 'td_create': return `td_create(cpu ${c.cpu})`;
    case 'td_add_page': return `td_add_page(td #${c.td}, fill ${c.fill}, cpu ${c.cpu})`;
    case 'td_finalize': case 'td_teardown': return `${c.kind}(td #${c.td}, cpu ${c.cpu})`;
    case 'td_run': return `td_run(td #${c.td}, ${c.stores.length} stores, cpu ${c.cpu})`;
    default: return `${c.kind.replace('read_', 'read(')}${c.kind.startsWith('read_') ? ')' : '()'}`;
  }
}
