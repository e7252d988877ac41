// Fixtures for the property-layer tests: a booted host from scenario data, images as
// ImageRefs, a correct stop_machine protocol trace to mutate, and a small step driver that
// runs a real scenario while feeding each step's trace events to ONE invariant check (with an
// optional hook that breaks the host between the step and the check).
import { bootHost, type Host, type TraceEvent } from '../../impl/host.ts';
import { NO_BUGS, type Bugs } from '../../impl/faults.ts';
import { PAGE_SIZE } from '../../impl/firmware/abi.ts';
import type { Revision } from '../../impl/kernel/revision.ts';
import type { ImageBuf, UpdateState } from '../../impl/kernel/seamldr.ts';
import { runnableTasks, spawn, stepTask, type Task, type TaskBody } from '../../impl/kernel/sched.ts';
import { init, type ModelState } from '../../model/state.ts';
import type { FaultPlan } from '../../model/types.ts';
import { commandSpec, LIN_ACTIONS, type Command } from '../../properties/commands/index.ts';
import type { Check as ModelCheck, IssueEnv } from '../../properties/commands/spec.ts';
import { injectedFaults } from '../../properties/faults.ts';
import type { ImageRef } from '../../properties/images.ts';
import { INVARIANTS, type Check } from '../../properties/invariants.ts';
import { V2, type RevisionRecord } from '../../properties/revisions/index.ts';
import { hostConfig, hostSpec, type HostData } from '../../properties/scenario.ts';
import { recordWith } from '../revision_fixture.ts';

export const HOST: HostData = {
  nrCpus: 4,
  boot: { release: '1.5.06', moduleHv: 0, minUpdateHv: 0, noDowngrade: false },
  slots: 2,
  debugUnlocked: false,
};

export function hostData(over: Partial<HostData> = {}): HostData {
  return { ...HOST, ...over };
}

export function boot(data: HostData = HOST, rev: Revision = V2.kernel, bugs: Bugs = NO_BUGS): Host {
  return bootHost(hostConfig(data), rev, bugs);
}

export function image(release: string, over: Partial<ImageRef> = {}): ImageRef {
  return { release, svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false, corruption: null, ...over };
}

export function upload(ref: ImageRef, fault: FaultPlan | null = null): Command {
  return { kind: 'upload', image: ref, fault };
}

/** A fresh instance of the invariant `id`'s check (throws if the invariant does not exist). */
export function checkOf(id: string, revision: RevisionRecord = V2): Check {
  const inv = INVARIANTS.find((i) => i.id === id);
  if (!inv) throw new Error(`no invariant ${id} in INVARIANTS`);
  return inv.create(revision.checks);
}

/** Copies bytes into freshly allocated pages, as the firmware loader's vmalloc buffer holds them. */
export function stageImage(h: Host, bytes: Uint8Array): ImageBuf {
  const pas = h.mem.allocPages(Math.ceil(bytes.length / PAGE_SIZE));
  pas.forEach((pa, i) => h.mem.page(pa)!.set(bytes.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)));
  return { pas, len: bytes.length };
}

const STEPS: readonly UpdateState[] = ['SHUTDOWN', 'CPU_INSTALL', 'CPU_INIT', 'RUN_UPDATE'];
const NEXT: Record<string, UpdateState> = { SHUTDOWN: 'CPU_INSTALL', CPU_INSTALL: 'CPU_INIT', CPU_INIT: 'RUN_UPDATE', RUN_UPDATE: 'DONE' };

/**
 * The trace a correct do_seamldr_install_module produces on `cpus` (lead = first): every CPU
 * does its work and acks each step, the state advances after the last ack; with `fail`, the
 * given CPU's work in that step returns `ret`, every CPU still acks it, and the update ends.
 */
export function protocolTrace(cpus: number[], fail?: { state: UpdateState; cpu: number; ret: number }, paramsPa = 0): TraceEvent[] {
  const lead = cpus[0]!;
  const ev: TraceEvent[] = [{ kind: 'update_begin', cpus, lead, paramsPa }];
  for (const st of STEPS) {
    let failed = 0;
    for (const cpu of cpus) {
      const works = (st !== 'SHUTDOWN' && st !== 'RUN_UPDATE') || cpu === lead;
      const ret = fail && fail.state === st && fail.cpu === cpu ? fail.ret : 0;
      if (works) ev.push({ kind: 'update_work', cpu, state: st, ret });
      ev.push({ kind: 'ack', cpu, state: st, ret });
      if (ret) failed = ret;
    }
    if (failed) {
      ev.push({ kind: 'update_end', ret: failed, state: st });
      return ev;
    }
    ev.push({ kind: 'state', state: NEXT[st]! });
  }
  for (const cpu of cpus) ev.push({ kind: 'ack', cpu, state: 'DONE', ret: 0 });
  ev.push({ kind: 'update_end', ret: 0, state: 'DONE' });
  return ev;
}

/** Feeds events one at a time; returns the first message, or null. */
export function feed(check: Check, h: Host, events: readonly TraceEvent[]): string | null {
  for (const e of events) {
    const msg = check(h, [e]);
    if (msg) return msg;
  }
  return null;
}

export interface DriveOptions {
  readonly rev?: Revision;
  readonly bugs?: Bugs;
  /** Called after each step, before the check sees that step's events. */
  readonly hook?: (h: Host, events: readonly TraceEvent[]) => void;
}

export interface Driven {
  readonly h: Host;
  readonly m: ModelState;
  /** Every non-null message the check returned, in order. */
  readonly messages: string[];
  /** The number of steps taken. */
  readonly steps: number;
}

const MAX_STEPS = 20_000;

/**
 * Runs the commands one after the other (each to completion), stepping runnable tasks
 * least-recently-run first, so every stop_machine participant progresses. Faults are armed
 * for the update as harness/run.ts arms them. The model follows along (td commands need it).
 */
export function drive(data: HostData, commands: readonly Command[], check: Check, o: DriveOptions = {}): Driven {
  const revision = recordWith(o.rev ?? V2.kernel);
  const h = bootHost(hostConfig(data), revision.kernel, o.bugs ?? NO_BUGS);
  const m = init(revision.contract, hostSpec(data));
  let pending: FaultPlan | null = null;
  let nextTd = 1;
  const env: IssueEnv = {
    h,
    model: m,
    revision,
    setPendingFault: (f) => {
      pending = f;
    },
    newTdId: () => nextTd++,
    act: (_op, c, actual) => follow(c, m, actual),
  };
  const lastRun = new Map<Task, number>();
  const messages: string[] = [];
  let seen = h.trace.length;
  let steps = 0;
  for (const c of commands) {
    const spec = commandSpec(c);
    const out: { value?: unknown } = {};
    const body = h.tdxHost.fw || !spec.needsFw ? spec.issue(env, c) : null;
    const task = body ? spawn(h.sched, `cmd:${c.kind}`, spec.cpu?.(c, h.platform.cpus.length) ?? 0, collect(body, out)) : null;
    for (;;) {
      const ready = h.sched.tasks
        .filter((t) => runnableTasks(h.sched).includes(t))
        .sort((a, b) => (lastRun.get(a) ?? -1) - (lastRun.get(b) ?? -1) || a.id - b.id);
      if (ready.length === 0) break;
      if (++steps > MAX_STEPS) throw new Error('drive: the scenario does not terminate');
      const t = ready[0]!;
      lastRun.set(t, steps);
      const y = stepTask(h.sched, t);
      if (y?.kind === 'lin') {
        h.trace.push({ kind: 'lin', task: t.name, op: y.op, result: y.result });
        follow((LIN_ACTIONS[y.op.name] as (m: ModelState, op: unknown) => ModelCheck)(m, y.op), m, y.result);
      }
      if (y === null && t === task && spec.response) {
        h.trace.push({ kind: 'response', task: t.name, command: c, result: out.value });
        follow(spec.response.model(m, c, env), m, out.value);
      }
      const events = h.trace.slice(seen);
      seen = h.trace.length;
      for (const e of events) {
        if (e.kind === 'update_begin') h.seam.faults = injectedFaults(pending, h.platform.cpus.length);
        if (e.kind === 'update_end') h.seam.faults = injectedFaults(null, 0);
      }
      o.hook?.(h, events);
      const msg = check(h, events);
      if (msg) messages.push(msg);
    }
    if (h.sched.tasks.length) throw new Error(`drive: tasks left that can never run: ${h.sched.tasks.map((t) => t.name).join(', ')}`);
  }
  return { h, m, messages, steps };
}

function* collect(body: TaskBody, out: { value?: unknown }): TaskBody {
  out.value = yield* body;
  return out.value;
}

/** The model follows the implementation: the first allowed result that matches, if any. */
function follow(c: ModelCheck, m: ModelState, actual: unknown): void {
  c.choices.find((a) => c.matches(a.result, actual))?.next?.(m, actual);
}
