// Tasks, preemption and stop_machine, at the granularity the update path cares about.
// Mirrors: kernel/stop_machine.c (stop_machine_cpuslocked), include/linux/preempt.h.
//
// Every concurrent activity (a CPU's part of stop_machine, the fw_upload worker, a KVM ioctl,
// a sysfs read, a hotplug request) is a generator; each `yield` is a point where another
// activity may run. Which runnable task runs next is not decided here: the harness supplies
// the choice, so interleavings are data that replays and shrinks.

/** What a task yields: a preemption point, optionally a condition it waits for, or a
 *  linearization point (the operation took effect; `op` names it, `result` is what it returned). */
export type Yield = { kind: 'step'; label?: string } | { kind: 'wait'; until: () => boolean; label: string } | { kind: 'lin'; op: LinOp; result: unknown };

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

/** Not runnable until `until()` holds (a spin or a sleep); `label` names what it waits for. */
export function wait(until: () => boolean, label: string): Yield {
  return { kind: 'wait', until, label };
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
}

export function createSched(): Sched {
  return { tasks: [], nextId: 1, stopMachine: null, stopCaller: null, current: null };
}

export function spawn(s: Sched, name: string, cpu: number, body: TaskBody, stopper = false): Task {
  // Stryker disable next-line UpdateOperator,BooleanLiteral: ids only tell tasks apart (PCT's priorities), in either direction; done is read only of tasks off s.tasks (stop_machine's caller, runnable only once every stopper is off)
  const t: Task = { id: s.nextId++, name, cpu, body, preempt: 0, stopper, waitUntil: null, done: false };
  s.tasks.push(t);
  return t;
}

/** Every runnable task, in spawn order: the CPUs held are found once, not once per task. */
export function runnableTasks(s: Sched): Task[] {
  const held = heldCpus(s);
  const out: Task[] = [];
  for (const t of s.tasks) if (runnableWith(s, t, held)) out.push(t);
  return out;
}

/** A task with preemption disabled holds its CPU: nothing else runs there until it is done (s.tasks holds no finished task). */
function heldCpus(s: Sched): ReadonlySet<number> {
  let held: Set<number> | null = null;
  for (const t of s.tasks) if (t.preempt > 0) (held ??= new Set()).add(t.cpu);
  return held ?? NONE_HELD;
}

const NONE_HELD: ReadonlySet<number> = new Set();

function runnableWith(s: Sched, t: Task, held: ReadonlySet<number>): boolean {
  // Stryker disable next-line ConditionalExpression: every wait re-checks its condition when it runs (a loop, or stop_machine's 'running' state keeps the caller off)
  if (t.waitUntil !== null && !t.waitUntil()) return false;
  if (t.preempt === 0 && held.has(t.cpu)) return false;
  if (s.stopMachine === 'running') return t.stopper;
  if (s.stopMachine === 'returning') return t === s.stopCaller;
  if (s.stopMachine === 'waiting') return t.preempt > 0;
  return !t.stopper;
}

/** stop_machine waits for every preempt-disabled section to end, then stops every CPU. */
export function settleStopMachine(s: Sched): void {
  if (s.stopMachine === 'waiting' && !s.tasks.some((t) => t.preempt > 0)) s.stopMachine = 'running';
  if (s.stopMachine === 'running' && !s.tasks.some((t) => t.stopper)) s.stopMachine = 'returning';
}

/**
 * stop_machine_cpuslocked(fn, cpus): run fn on every given CPU with everything else stopped,
 * return one non-zero result if any CPU failed (the last writer, as generic stop_machine does).
 */
export function* stopMachine(s: Sched, cpus: number[], fn: (cpu: number) => Generator<Yield, number, void>): Generator<Yield, number, void> {
  let ret = 0;
  s.stopMachine = 'waiting';
  s.stopCaller = s.current;
  const stoppers = cpus.map((cpu) =>
    spawn(
      s,
      `stopper/${cpu}`,
      cpu,
      (function* () {
        const r = yield* fn(cpu);
        if (r !== 0) ret = r;
        return r;
      })(),
      true,
    ),
  );
  // Stryker disable next-line StringLiteral,MethodExpression: a timeline label; the caller cannot run before every stopper is done ('returning')
  yield wait(() => stoppers.every((t) => t.done), 'stop_machine');
  return ret;
}

/** Run body with preemption disabled on the current task (preempt_disable/preempt_enable). */
export function* preemptDisabled<T>(s: Sched, body: Generator<Yield, T, void>): Generator<Yield, T, void> {
  const t = s.current!;
  t.preempt++;
  try {
    return yield* body;
  } finally {
    t.preempt--;
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
  }
  // Stryker disable next-line ConditionalExpression,LogicalOperator,StringLiteral,BlockStatement: a wait run as a spin of steps ends where the wait would (see runnableWith)
  if (!r.done && r.value.kind === 'wait') t.waitUntil = r.value.until;
  settleStopMachine(s);
  return r.done ? null : r.value;
}

/**
 * A raw spinlock (DEFINE_RAW_SPINLOCK): the CPU holding it, or null. A CPU that finds it held
 * waits (it would spin with IRQs off; here it is not scheduled until the lock is free).
 */
export interface RawSpinlock {
  owner: number | null;
}

export function* rawSpinLock(l: RawSpinlock, cpu: number, label: string): Generator<Yield, void, void> {
  while (l.owner !== null) yield wait(() => l.owner === null, label);
  l.owner = cpu;
}

export function rawSpinUnlock(l: RawSpinlock): void {
  l.owner = null;
}
