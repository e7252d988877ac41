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
  | { kind: 'wait'; until: () => boolean; on: WaitQueue; label: string }
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
  return { gen: 0 };
}

/** wake_up(): every task waiting on q checks its condition again before the next pick. */
export function wakeUp(q: WaitQueue): void {
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
  waitUntil: (() => boolean) | null;
  /** The queue the wait is on, its generation when `until` was last evaluated, and the result. */
  waitOn: WaitQueue | null;
  waitGen: number;
  waitOk: boolean;
  done: boolean;
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
}

export function createSched(): Sched {
  return { tasks: [], nextId: 1, stopMachine: null, stopCaller: null, current: null, held: [], preempted: 0, stoppers: 0 };
}

export function spawn(s: Sched, name: string, cpu: number, body: TaskBody, stopper = false): Task {
  // Stryker disable next-line UpdateOperator,BooleanLiteral: ids only tell tasks apart (PCT's priorities), in either direction; done is read only of tasks off s.tasks (stop_machine's caller, runnable only once every stopper is off)
  const t: Task = { id: s.nextId++, name, cpu, body, preempt: 0, stopper, waitUntil: null, waitOn: null, waitGen: 0, waitOk: false, done: false };
  s.tasks.push(t);
  if (stopper) s.stoppers++;
  return t;
}

/** Every runnable task, in spawn order. */
export function runnableTasks(s: Sched): Task[] {
  const out: Task[] = [];
  for (const t of s.tasks) if (runnable(s, t)) out.push(t);
  return out;
}

function runnable(s: Sched, t: Task): boolean {
  // Stryker disable next-line ConditionalExpression: every wait re-checks its condition when it runs (a loop, or stop_machine's 'running' state keeps the caller off)
  if (t.waitUntil !== null && !waitDone(t)) return false;
  // A task with preemption disabled holds its CPU: nothing else runs there until it is done.
  if (t.preempt === 0 && (s.held[t.cpu] ?? 0) > 0) return false;
  if (s.stopMachine === 'running') return t.stopper;
  if (s.stopMachine === 'returning') return t === s.stopCaller;
  if (s.stopMachine === 'waiting') return t.preempt > 0;
  return !t.stopper;
}

/** The wait's condition, evaluated again only if its queue was woken since. */
function waitDone(t: Task): boolean {
  const gen = t.waitOn!.gen;
  if (t.waitGen !== gen) {
    t.waitGen = gen;
    t.waitOk = t.waitUntil!();
  }
  return t.waitOk;
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
  t.waitUntil = null;
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
  }
  // Stryker disable next-line ConditionalExpression,LogicalOperator,StringLiteral,BlockStatement: a wait run as a spin of steps ends where the wait would (see runnable)
  if (!r.done && r.value.kind === 'wait') waitOn(t, r.value.until, r.value.on);
  settleStopMachine(s);
  return r.done ? null : r.value;
}

/** The task waits; its condition is evaluated at the next pick, whatever the queue's generation. */
function waitOn(t: Task, until: () => boolean, q: WaitQueue): void {
  t.waitUntil = until;
  t.waitOn = q;
  t.waitGen = q.gen - 1;
}

/**
 * A raw spinlock (DEFINE_RAW_SPINLOCK): the CPU holding it, or null. A CPU that finds it held
 * waits (it would spin with IRQs off; here it is not scheduled until the lock is free).
 */
export interface RawSpinlock extends WaitQueue {
  owner: number | null;
}

export function rawSpinLockInit(): RawSpinlock {
  return { owner: null, gen: 0 };
}

export function* rawSpinLock(l: RawSpinlock, cpu: number, label: string): Generator<Yield, void, void> {
  while (l.owner !== null) yield wait(() => l.owner === null, label, l);
  l.owner = cpu;
  wakeUp(l);
}

export function rawSpinUnlock(l: RawSpinlock): void {
  l.owner = null;
  wakeUp(l);
}
