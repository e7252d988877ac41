// Tasks, preemption and stop_machine, at the granularity the update path cares about.
// Mirrors: kernel/stop_machine.c (stop_machine_cpuslocked), include/linux/preempt.h.
//
// Every concurrent activity (a CPU's part of stop_machine, the fw_upload worker, a KVM ioctl,
// a sysfs read, a hotplug request) is a generator; each `yield` is a point where another
// activity may run. Which runnable task runs next is not decided here: the harness supplies
// the choice, so interleavings are data that replays and shrinks.

/** What a task yields: a preemption point, optionally a condition it waits for, or a
 *  linearization point (the operation took effect; `op` names it, `result` is what it returned). */
export type Yield =
  | { kind: 'step'; label?: string }
  | ({ kind: 'wait'; label: string } & ({ until: () => boolean; on: WaitQueue } | { spin: RawSpinlock }))
  | { kind: 'lin'; op: LinOp; result: unknown };

/**
 * What a waiting task's condition reads: a wait_queue_head_t, an rcuwait, or the word a CPU
 * polls in cpu_relax(). Whoever writes that state calls wakeUp(); a waiting task's condition is
 * evaluated again only then, so a step costs nothing per task whose queue was not woken.
 */
export interface WaitQueue {
  gen: number;
}

export function waitQueue(): WaitQueue {
  // Stryker disable next-line ObjectLiteral: any generation works (undefined + 1 is NaN, which equals nothing: waiters are evaluated every pick)
  return { gen: 0 };
}

/** wake_up(): every task waiting on q checks its condition again before the next pick. */
export function wakeUp(q: WaitQueue): void {
  // Stryker disable next-line UpdateOperator: any change of the generation wakes the waiters
  q.gen++;
}

/**
 * The operations the emulated kernel reports as they take effect, with the inputs they were
 * called with: the fw_upload worker's ops, the update, hotplug and KVM's TD SEAMCALLs.
 */
export type LinOp =
  | { name: 'fw_prepare' | 'fw_write' | 'update' | 'fw_done'; args: Record<never, never> }
  | { name: 'cpu_offline' | 'cpu_online'; args: { cpu: number } }
  | { name: 'td_create' | 'td_key_config' | 'td_init' | 'td_finalize' | 'td_teardown'; args: { td: number } & Injected }
  | { name: 'td_page_add'; args: { td: number; gpa: number; content: Uint8Array } & Injected }
  | { name: 'td_extend'; args: { td: number; gpa: number } & Injected }
  | { name: 'td_run'; args: { td: number; writes: readonly { gpa: number; offset: number; value: number }[] } & Injected };

/**
 * On a TD SEAMCALL: the name of the injected firmware fault that failed it. Never set by the
 * emulated kernel; the harness marks the call its fault struck (properties/faults.ts withTdFault).
 */
export interface Injected {
  readonly injected?: string;
}

export type TaskBody = Generator<Yield, unknown, void>;

/** A preemption point, named in the timeline. */
export function step(label: string): Yield {
  return { kind: 'step', label };
}

/** Not runnable until `until()` holds (a spin or a sleep); `until` reads only what wakes `on`; `label` names what it waits for. */
export function wait(until: () => boolean, label: string, on: WaitQueue): Yield {
  return { kind: 'wait', until, on, label };
}

export interface Task {
  readonly id: number;
  readonly name: string;
  readonly cpu: number;
  readonly body: TaskBody;
  /** preempt_count: stop_machine cannot start while a task on any CPU has it raised. */
  preempt: number;
  readonly stopper: boolean;
  /** What it waits for, and the queue its condition reads. */
  waitUntil: (() => boolean) | null;
  waitOn: WaitQueue | null;
  /** The spinlock it spins on: it stays queued, and runs once the lock is free (see rawSpinLock). */
  spinOn: RawSpinlock | null;
  /** In s.runQueue: not waiting, or its wait's condition held when last evaluated. */
  queued: boolean;
  /** s.clock when it last ran; one that never ran is before all that did, by id. */
  lastRun: number;
  done: boolean;
}

/** The tasks waiting on one queue, and the queue's generation when they were last evaluated. */
interface Waiters {
  seen: number;
  readonly tasks: Set<Task>;
}

export interface Sched {
  tasks: Task[];
  nextId: number;
  /**
   * 'waiting': stop_machine requested, preempt-disabled sections drain; 'running': only the
   * stoppers run; 'returning': they are done and the caller runs next, so what the caller does
   * when stop_machine returns is seen by nobody else first (the update's linearization point).
   */
  stopMachine: null | 'waiting' | 'running' | 'returning';
  stopCaller: Task | null;
  /** The task being stepped: what `current` is in the kernel. */
  current: Task | null;
  /** By CPU: the tasks there with preemption disabled, which hold it; and all of them, and the stoppers alive. */
  readonly held: number[];
  preempted: number;
  stoppers: number;
  /**
   * The run queue: every task not waiting, or whose wait's condition held when last evaluated,
   * least recently run first. Only the waits of a woken queue are evaluated again, so a step
   * costs nothing per waiting task (npm run bench, section 3).
   */
  runQueue: Task[];
  /** Waiting tasks by the queue they wait on, and the tasks that began a wait since the last pick. */
  readonly waiters: Map<WaitQueue, Waiters>;
  readonly began: Task[];
  clock: number;
}

export function createSched(): Sched {
  return {
    tasks: [],
    nextId: 1,
    stopMachine: null,
    stopCaller: null,
    current: null,
    held: [],
    preempted: 0,
    stoppers: 0,
    runQueue: [],
    waiters: new Map(),
    began: [],
    clock: 0,
  };
}

/** Before every task that ran: a task that never ran sorts among those by id. */
const NEVER_RAN = -(2 ** 52);

export function spawn(s: Sched, name: string, cpu: number, body: TaskBody, stopper = false): Task {
  const id = s.nextId++;
  const t: Task = {
    id,
    name,
    cpu,
    body,
    preempt: 0,
    stopper,
    waitUntil: null,
    waitOn: null,
    spinOn: null,
    // Stryker disable next-line BooleanLiteral: enqueue below sets it
    queued: false,
    lastRun: NEVER_RAN + id,
    done: false,
  };
  s.tasks.push(t);
  if (stopper) s.stoppers++;
  enqueue(s, [t]);
  return t;
}

/**
 * Every runnable task, least recently run first (those never run first of all, by id): the
 * run queue, after evaluating the waits whose queue was woken, less the tasks stop_machine or
 * a CPU held by another task keeps off.
 */
export function runnableTasks(s: Sched): Task[] {
  // Stryker disable next-line ConditionalExpression: with no wait to evaluate, evaluateWaits changes nothing
  if (s.began.length || s.waiters.size) evaluateWaits(s);
  const q = s.runQueue;
  let i = 0;
  // Stryker disable next-line ConditionalExpression,MethodExpression: a copy of the queue when every task passes is what the filter below gives
  while (i < q.length && runnable(s, q[i]!)) i++;
  // Stryker disable next-line ConditionalExpression,MethodExpression: as above
  if (i === q.length) return q.slice();
  const out = q.slice(0, i);
  for (; i < q.length; i++) if (runnable(s, q[i]!)) out.push(q[i]!);
  return out;
}

function runnable(s: Sched, t: Task): boolean {
  if (t.spinOn !== null && t.spinOn.owner !== null) return false;
  // A task with preemption disabled holds its CPU: nothing else runs there until it is done.
  if (t.preempt === 0 && (s.held[t.cpu] ?? 0) > 0) return false;
  if (s.stopMachine === 'running') return t.stopper;
  if (s.stopMachine === 'returning') return t === s.stopCaller;
  if (s.stopMachine === 'waiting') return t.preempt > 0;
  return !t.stopper;
}

/** Evaluates the waits begun since the last pick and those of every woken queue; moves the tasks in or out of the run queue. */
function evaluateWaits(s: Sched): void {
  // Stryker disable next-line BooleanLiteral: filtering a queue none left changes nothing
  const moved = { ready: [] as Task[], left: false };
  for (const t of s.began) if (t.waitUntil !== null) evaluateWait(t, moved);
  s.began.length = 0;
  for (const [q, w] of s.waiters)
    if (w.seen !== q.gen) {
      w.seen = q.gen;
      for (const t of w.tasks) evaluateWait(t, moved);
    }
  // Stryker disable next-line ConditionalExpression: filtering when none left, or merging none, changes nothing
  if (moved.left) s.runQueue = s.runQueue.filter((t) => t.queued);
  // Stryker disable next-line ConditionalExpression: as above
  if (moved.ready.length) enqueue(s, moved.ready);
}

/** One wait's condition: a task whose verdict changed joins `ready` or leaves the queue. */
function evaluateWait(t: Task, moved: { ready: Task[]; left: boolean }): void {
  const ok = t.waitUntil!();
  if (ok === t.queued) return;
  t.queued = ok;
  if (ok) moved.ready.push(t);
  else moved.left = true;
}

/** Puts tasks into the run queue at their place by when they last ran (a merge: the queue is sorted). */
function enqueue(s: Sched, ts: Task[]): void {
  for (const t of ts) t.queued = true;
  const q = s.runQueue;
  // Stryker disable next-line all: the merge below gives the same queue; this is its common case, one task that ran last
  if (ts.length === 1 && (q.length === 0 || q[q.length - 1]!.lastRun < ts[0]!.lastRun)) {
    q.push(ts[0]!);
    return;
  }
  ts.sort((a, b) => a.lastRun - b.lastRun);
  const out: Task[] = [];
  let i = 0;
  for (const t of ts) {
    // Stryker disable next-line EqualityOperator: no two tasks share a lastRun
    while (i < q.length && q[i]!.lastRun < t.lastRun) out.push(q[i++]!);
    out.push(t);
  }
  while (i < q.length) out.push(q[i++]!);
  s.runQueue = out;
}

/** The task stops waiting (it runs): off its queue's waiters. */
function endWait(s: Sched, t: Task): void {
  const w = s.waiters.get(t.waitOn!)!;
  w.tasks.delete(t);
  // Stryker disable next-line ConditionalExpression: only what a pick iterates (queues of an update that ended)
  if (w.tasks.size === 0) s.waiters.delete(t.waitOn!);
  t.waitUntil = null;
  t.waitOn = null;
}

/** The task waits on q; its condition is evaluated at the next pick, then whenever q is woken. */
function beginWait(s: Sched, t: Task, until: () => boolean, q: WaitQueue): void {
  t.waitUntil = until;
  t.waitOn = q;
  let w = s.waiters.get(q);
  if (!w) s.waiters.set(q, (w = { seen: q.gen, tasks: new Set() }));
  w.tasks.add(t);
  s.began.push(t);
}

/** stop_machine waits for every preempt-disabled section to end, then stops every CPU. */
export function settleStopMachine(s: Sched): void {
  if (s.stopMachine === 'waiting' && s.preempted === 0) s.stopMachine = 'running';
  if (s.stopMachine === 'running' && s.stoppers === 0) s.stopMachine = 'returning';
}

/**
 * stop_machine_cpuslocked(fn, cpus): run fn on every given CPU with everything else stopped,
 * return one non-zero result if any CPU failed (the last writer, as generic stop_machine does).
 */
export function* stopMachine(s: Sched, cpus: number[], fn: (cpu: number) => Generator<Yield, number, void>): Generator<Yield, number, void> {
  let ret = 0;
  let left = cpus.length;
  const allDone = waitQueue();
  s.stopMachine = 'waiting';
  s.stopCaller = s.current;
  for (const cpu of cpus)
    spawn(
      s,
      `stopper/${cpu}`,
      cpu,
      (function* () {
        const r = yield* fn(cpu);
        if (r !== 0) ret = r;
        left--;
        wakeUp(allDone);
        return r;
      })(),
      true,
    );
  // Stryker disable next-line StringLiteral,ConditionalExpression: a timeline label; the caller cannot run before every stopper is done ('returning')
  yield wait(() => left === 0, 'stop_machine', allDone);
  return ret;
}

/** Run body with preemption disabled on the current task (preempt_disable/preempt_enable). */
export function* preemptDisabled<T>(s: Sched, body: Generator<Yield, T, void>): Generator<Yield, T, void> {
  const t = s.current!;
  preemptDisable(s, t);
  try {
    return yield* body;
  } finally {
    preemptEnable(s, t);
  }
}

/** preempt_disable() on task t: the first level holds its CPU. */
export function preemptDisable(s: Sched, t: Task): void {
  if (t.preempt++ === 0) {
    s.held[t.cpu] = (s.held[t.cpu] ?? 0) + 1;
    s.preempted++;
  }
}

/** preempt_enable() on task t: the last level lets its CPU go. */
export function preemptEnable(s: Sched, t: Task): void {
  if (--t.preempt === 0) {
    s.held[t.cpu]!--;
    s.preempted--;
  }
}

/** Advance one task by one step. Returns what it yielded, or null when it finished. */
export function stepTask(s: Sched, t: Task): Yield | null {
  s.current = t;
  if (t.waitUntil !== null) endWait(s, t);
  t.spinOn = null;
  if (t.queued) dequeue(s, t);
  t.lastRun = ++s.clock;
  // Stryker disable next-line ConditionalExpression,LogicalOperator: while 'returning' only the caller is runnable
  if (s.stopMachine === 'returning' && t === s.stopCaller) {
    s.stopMachine = null;
    s.stopCaller = null;
  }
  const r = t.body.next();
  s.current = null;
  if (r.done) {
    t.done = true;
    s.tasks = s.tasks.filter((x) => x !== t);
    if (t.stopper) s.stoppers--;
  } else if (r.value.kind === 'wait' && 'on' in r.value) beginWait(s, t, r.value.until, r.value.on);
  else {
    // A step, or a spin: the spinner stays queued and runnable() skips it while the lock is held.
    if (r.value.kind === 'wait') t.spinOn = r.value.spin;
    enqueue(s, [t]);
  }
  settleStopMachine(s);
  return r.done ? null : r.value;
}

/** Takes a task off the run queue (binary search: the queue is sorted by lastRun). */
function dequeue(s: Sched, t: Task): void {
  const q = s.runQueue;
  let lo = 0,
    hi = q.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (q[mid]!.lastRun < t.lastRun) lo = mid + 1;
    else hi = mid;
  }
  q.splice(lo, 1);
  t.queued = false;
}

/**
 * A raw spinlock (DEFINE_RAW_SPINLOCK): the CPU holding it, or null. A CPU that finds it held
 * waits (it would spin with IRQs off; here it is not scheduled until the lock is free). A
 * spinning task stays in the run queue and is skipped while the lock is held: a lock taken and
 * let go would otherwise move every spinner out of the queue and back (npm run bench, section 3).
 */
export interface RawSpinlock {
  owner: number | null;
}

export function* rawSpinLock(l: RawSpinlock, cpu: number, label: string): Generator<Yield, void, void> {
  while (l.owner !== null) yield { kind: 'wait', label, spin: l };
  l.owner = cpu;
}

export function rawSpinUnlock(l: RawSpinlock): void {
  l.owner = null;
}
