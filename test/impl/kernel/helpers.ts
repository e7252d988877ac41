// Shared fixtures for the kernel, KVM and scenario tests: a booted emulated host, images as
// scenario data and as kernel buffers, a tiny deterministic task driver (what harness/run.ts
// does with choice 0, without the model), and readers of the trace.
// Mirrors: nothing upstream; it stands in for the userspace and the scheduler around the kernel.
import { bootHost, type Host, type TraceEvent } from '../../../impl/host.ts';
import type { BugName, Bugs } from '../../../impl/faults.ts';
import type { InjectedFaults } from '../../../impl/firmware/types.ts';
import { LEAF_NAMES } from '../../../impl/firmware/abi.ts';
import { runnableTasks, spawn, stepTask, type Task, type Yield } from '../../../impl/kernel/sched.ts';
import { type Revision } from '../../../impl/kernel/revision.ts';
import { V2_KERNEL as V2 } from '../../../properties/revisions/index.ts';
import { seamldrInstallModuleOf, type ImageBuf, type UpdateState } from '../../../impl/kernel/seamldr.ts';
import { fwError, fwLoad, fwUploadMain } from '../../../impl/kernel/fw_upload.ts';
import { runScenario, type RunResult } from '../../../harness/run.ts';
import type { Command, GuestStore } from '../../../properties/commands/index.ts';
import { imageBytes, type ImageRef } from '../../../properties/images.ts';
import { hostConfig, type HostData, type Scenario } from '../../../properties/scenario.ts';
import type { ImageCorruption } from '../../../impl/firmware/image.ts';
import type { FaultPlan } from '../../../model/types.ts';
import { recordWith } from '../../revision_fixture.ts';

// ---- scenario data ----

export function hostData(nrCpus = 4, over: Partial<HostData> = {}): HostData {
  return { nrCpus, boot: { release: '1.5.06', moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots: 2, debugUnlocked: false, ...over };
}

/** An image of `release`: same handoff versions as the default boot module, no corruption. */
export function imageRef(release = '1.5.08', over: Partial<ImageRef> = {}): ImageRef {
  return { release, svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false, corruption: null, ...over };
}

export function corrupt(c: ImageCorruption, release = '1.5.08'): ImageRef {
  return imageRef(release, { corruption: c });
}

export const upload = (image: ImageRef = imageRef(), fault: FaultPlan | null = null): Command => ({ kind: 'upload', image, fault });
export const readVersion: Command = { kind: 'read_version' };
export const readError: Command = { kind: 'read_error' };
export const cancel: Command = { kind: 'cancel' };
export const readSeamldr = (attr: 'version' | 'num_remaining_updates'): Command => ({ kind: 'read_seamldr', attr });
export const offline = (cpu: number): Command => ({ kind: 'cpu_offline', cpu });
export const online = (cpu: number): Command => ({ kind: 'cpu_online', cpu });
export const tdCreate = (cpu = 1): Command => ({ kind: 'td_create', cpu });
export const tdAddPage = (td = 0, fill = 1, cpu = 1): Command => ({ kind: 'td_add_page', td, fill, cpu });
export const tdFinalize = (td = 0, cpu = 1): Command => ({ kind: 'td_finalize', td, cpu });
export const tdRun = (td = 0, stores: GuestStore[] = [{ page: 0, offset: 5, value: 0x5a }], cpu = 1): Command => ({ kind: 'td_run', td, stores, cpu });
export const tdTeardown = (td = 0, cpu = 1): Command => ({ kind: 'td_teardown', td, cpu });

/** td_create, one measured page, finalize: a TD that runs. */
export const finalizedTd = (td = 0, fill = 1): Command[] => [tdCreate(), tdAddPage(td, fill), tdFinalize(td)];

export function scenario(host: HostData, commands: Command[], schedule: number[] = []): Scenario {
  return { host, commands, schedule };
}

export interface RunOpts {
  rev?: Revision;
  bugs?: BugName[];
}

export function run(s: Scenario, o: RunOpts = {}): RunResult {
  return runScenario(s, { revision: recordWith(o.rev ?? V2), bugs: new Set(o.bugs ?? []) as Bugs });
}

/** The results of every linearization point named `op`, in order. */
export function linResults(h: Host, op: string): unknown[] {
  const named = (e: TraceEvent) =>
    (e.kind === 'lin' && e.op.name === op) || (e.kind === 'response' && (e.command.kind === op || (op === 'fw_load' && e.command.kind === 'upload')));
  return h.trace.flatMap((e) => (named(e) && (e.kind === 'lin' || e.kind === 'response') ? [e.result] : []));
}

// ---- a booted host, driven directly ----

export function boot(nrCpus = 4, o: RunOpts & { host?: Partial<HostData> } = {}): Host {
  return bootHost(hostConfig(hostData(nrCpus, o.host)), o.rev ?? V2, new Set(o.bugs ?? []) as Bugs);
}

/** Copies bytes into freshly allocated (non-contiguous) pages, as the fw_upload buffer holds them. */
export function bufOf(h: Host, bytes: Uint8Array): ImageBuf {
  const pas = h.mem.allocPages(Math.ceil(bytes.length / 4096));
  pas.forEach((pa, i) => h.mem.page(pa)!.set(bytes.subarray(i * 4096, (i + 1) * 4096)));
  return { pas, len: bytes.length };
}

/** Picks which runnable task steps next; the default is least-recently-run first (fair). */
export type Picker = (tasks: Task[], step: number) => Task;

const MAX_STEPS = 20_000;

/** Steps tasks until none is left. Throws on deadlock or when MAX_STEPS pass (livelock). */
export function runTasks(h: Host, pick?: Picker): Yield[] {
  const last = new Map<Task, number>();
  const yields: Yield[] = [];
  for (let step = 0; h.sched.tasks.length > 0; step++) {
    if (step > MAX_STEPS) throw new Error(`no termination after ${MAX_STEPS} steps: ${h.sched.tasks.map((t) => t.name)}`);
    const at = (t: Task) => last.get(t) ?? -1;
    const tasks = h.sched.tasks.filter((t) => runnableTasks(h.sched).includes(t)).sort((a, b) => at(a) - at(b) || a.id - b.id);
    if (tasks.length === 0) throw new Error(`deadlock: ${h.sched.tasks.map((t) => t.name)}`);
    const t = pick ? pick(tasks, step) : tasks[0]!;
    last.set(t, step);
    const y = stepTask(h.sched, t);
    if (y) yields.push(y);
  }
  return yields;
}

/** Prefer the runnable task whose name comes first in `order` (others by the fair rule). */
export function prefer(...order: string[]): Picker {
  return (tasks) => {
    for (const name of order) {
      const t = tasks.find((x) => x.name === name);
      if (t) return t;
    }
    return tasks[0]!;
  };
}

/** Runs a generator as a task to completion and returns its result. */
export function runBody<T>(h: Host, body: Generator<Yield, T, void>, o: { name?: string; cpu?: number; pick?: Picker } = {}): T {
  let result: { v: T } | null = null;
  spawn(
    h.sched,
    o.name ?? 'test',
    o.cpu ?? 0,
    (function* (): Generator<Yield, void, void> {
      result = { v: yield* body };
    })(),
  );
  runTasks(h, o.pick);
  if (result === null) throw new Error('task did not finish');
  return (result as { v: T }).v;
}

/**
 * The revision's seamldr_install_module() on raw bytes, run as the fw_upload worker would, with the given
 * firmware faults armed for the update (one-shot, as properties/faults.ts makes them).
 */
export function install(h: Host, bytes: Uint8Array, o: { faults?: Partial<InjectedFaults>; pick?: Picker } = {}): number {
  h.seam.faults = { installFail: null, noEntropy: 0, leafFail: null, ...o.faults };
  const ret = runBody(h, seamldrInstallModuleOf(h)(h, bufOf(h, bytes)), { name: 'fw_upload_worker', pick: o.pick });
  h.seam.faults = { installFail: null, noEntropy: 0, leafFail: null };
  return ret;
}

export function installRef(h: Host, ref: ImageRef = imageRef(), o: Parameters<typeof install>[2] = {}): number {
  return install(h, imageBytes(ref), o);
}

// ---- the trace ----

export type Ev<K extends TraceEvent['kind']> = Extract<TraceEvent, { kind: K }>;

export function events<K extends TraceEvent['kind']>(trace: readonly TraceEvent[], kind: K): Ev<K>[] {
  return trace.filter((e): e is Ev<K> => e.kind === kind);
}

/** The events from the last update_begin to its update_end (inclusive). */
export function lastUpdate(trace: readonly TraceEvent[]): TraceEvent[] {
  const b = trace.map((e) => e.kind).lastIndexOf('update_begin');
  if (b < 0) return [];
  const e = trace.findIndex((x, i) => i > b && x.kind === 'update_end');
  return trace.slice(b, e < 0 ? trace.length : e + 1);
}

/** `STATE@cpu=ret` for each update_work, in order. */
export function work(trace: readonly TraceEvent[]): string[] {
  return events(trace, 'update_work').map((e) => `${e.state}@${e.cpu}=${e.ret}`);
}

export function workOf(trace: readonly TraceEvent[], state: UpdateState): { cpu: number; ret: number }[] {
  return events(trace, 'update_work')
    .filter((e) => e.state === state)
    .map((e) => ({ cpu: e.cpu, ret: e.ret }));
}

export function acks(trace: readonly TraceEvent[], state: UpdateState): { cpu: number; ret: number }[] {
  return events(trace, 'ack')
    .filter((e) => e.state === state)
    .map((e) => ({ cpu: e.cpu, ret: e.ret }));
}

export function states(trace: readonly TraceEvent[]): UpdateState[] {
  return events(trace, 'state').map((e) => e.state);
}

/** `LEAF@cpu=0xstatus` for each SEAMCALL, in order. */
export function calls(trace: readonly TraceEvent[]): string[] {
  return events(trace, 'seamcall').map((e) => `${LEAF_NAMES.get(e.leaf) ?? e.leaf.toString()}@${e.cpu}=0x${e.status.toString(16)}`);
}

export function callsOf(trace: readonly TraceEvent[], leaf: bigint): Ev<'seamcall'>[] {
  return events(trace, 'seamcall').filter((e) => e.leaf === leaf);
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * The step barrier of spec §2.4 / I-3 on one update's trace: SHUTDOWN and RUN_UPDATE on the
 * lead only, INSTALL and INIT once per CPU, and no step-k+1 work before every CPU acked step k.
 * Returns the problems found (empty when the trace is a clean successful update).
 */
export function barrierProblems(trace: readonly TraceEvent[], cpus: number[], lead = 0): string[] {
  const out: string[] = [];
  const order: UpdateState[] = ['SHUTDOWN', 'CPU_INSTALL', 'CPU_INIT', 'RUN_UPDATE'];
  const acked = new Map<UpdateState, number>();
  const did = new Map<string, number>();
  for (const e of trace) {
    if (e.kind === 'ack') acked.set(e.state, (acked.get(e.state) ?? 0) + 1);
    if (e.kind !== 'update_work') continue;
    const k = order.indexOf(e.state);
    if (k > 0 && (acked.get(order[k - 1]!) ?? 0) < cpus.length) out.push(`${e.state} on cpu ${e.cpu} before all acked ${order[k - 1]}`);
    const key = `${e.state}/${e.cpu}`;
    did.set(key, (did.get(key) ?? 0) + 1);
  }
  const expectOnce = (state: UpdateState, who: number[]) => {
    for (const c of cpus) {
      const n = did.get(`${state}/${c}`) ?? 0;
      if (n !== (who.includes(c) ? 1 : 0)) out.push(`${state} ran ${n} times on cpu ${c}`);
    }
  };
  expectOnce('SHUTDOWN', [lead]);
  expectOnce('CPU_INSTALL', cpus);
  expectOnce('CPU_INIT', cpus);
  expectOnce('RUN_UPDATE', [lead]);
  return out;
}

/** Deterministic pseudo-random schedule (an LCG), for interleaving sweeps. */
export function lcgSchedule(seed: number, length: number, bound = 8): number[] {
  let x = seed >>> 0;
  return Array.from({ length }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 16) % bound;
  });
}

/**
 * A picker that, while the update is in `state`, lets the CPUs act (read the state, do the
 * work, ack) in `order`, one at a time; every other decision is fair. The state is read from
 * the trace, so this works whatever the rest of the host does.
 */
export function ackOrder(h: Host, state: UpdateState, order: number[]): Picker {
  return (tasks) => {
    const win = lastUpdate(h.trace);
    const st = win.length && !win.some((e) => e.kind === 'update_end') ? (states(win).at(-1) ?? 'SHUTDOWN') : null;
    if (st === state) {
      const done = new Set(acks(win, state).map((a) => a.cpu));
      const next = order.find((c) => !done.has(c));
      const t = tasks.find((x) => x.name === `stopper/${next}`);
      if (t) return t;
    }
    return tasks[0]!;
  };
}

/** What one upload through the fw node did: the load result, the install's return, `error`. */
export interface UploadResult {
  load: string;
  ret: number | null;
  error: string | number;
  remaining: number;
}

/**
 * `echo 1 > loading; cat image > data; echo 0 > loading`, then the fw_upload worker to its
 * end. `midway` runs after the worker's first `steps` steps (e.g. a cancel between prepare
 * and write), before the rest of the upload.
 */
export function uploadVia(
  h: Host,
  bytes: Uint8Array,
  o: { faults?: Partial<InjectedFaults>; pick?: Picker; midway?: { steps: number; act: () => void } } = {},
): UploadResult {
  const fw = h.tdxHost.fw!;
  const load = fwLoad(h, fw, bytes);
  if (load !== 'started') return { load, ret: null, error: fwError(fw), remaining: fw.remainingSize };
  h.seam.faults = { installFail: null, noEntropy: 0, leafFail: null, ...o.faults };
  const worker = spawn(h.sched, 'fw_upload_worker', 0, fwUploadMain(h, fw));
  const ys: Yield[] = [];
  if (o.midway) {
    for (let i = 0; i < o.midway.steps; i++) {
      const y = stepTask(h.sched, worker);
      if (y) ys.push(y);
    }
    o.midway.act();
  }
  ys.push(...runTasks(h, o.pick));
  h.seam.faults = { installFail: null, noEntropy: 0, leafFail: null };
  const upd = ys.find((y) => y.kind === 'lin' && y.op.name === 'update');
  return { load, ret: upd?.kind === 'lin' ? (upd.result as number) : null, error: fwError(fw), remaining: fw.remainingSize };
}
