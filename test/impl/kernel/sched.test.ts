// Tests for impl/kernel/sched.ts: who may run (stoppers, preempt-disabled sections, waits),
// stop_machine's phases and its return value, preemptDisabled, and stepTask bookkeeping.
import { describe, expect, it } from 'vitest';
import {
  createSched,
  preemptDisabled,
  runnableTasks,
  spawn,
  stepTask,
  stopMachine,
  wait,
  waitQueue,
  wakeUp,
  type Sched,
  type Yield,
} from '../../../impl/kernel/sched.ts';

function* steps(n: number, log?: string[], name = ''): Generator<Yield, number, void> {
  for (let i = 0; i < n; i++) {
    log?.push(`${name}${i}`);
    yield { kind: 'step' };
  }
  return 0;
}

/** Steps the first runnable task (in spawn order) until nothing is left; returns task names in order. */
function drain(s: Sched, limit = 1000): string[] {
  const order: string[] = [];
  for (let i = 0; i < limit && s.tasks.length; i++) {
    const t = s.tasks.find((x) => runnableTasks(s).includes(x));
    if (!t) throw new Error('deadlock');
    order.push(t.name);
    stepTask(s, t);
  }
  return order;
}

describe('spawn and stepTask', () => {
  it('a task runs to completion and is removed; stepTask returns its yields, then null', () => {
    const s = createSched();
    const t = spawn(s, 'a', 2, steps(2));
    expect(t).toMatchObject({ id: 1, name: 'a', cpu: 2, preempt: 0, stopper: false, done: false });
    expect(stepTask(s, t)).toEqual({ kind: 'step' });
    expect(stepTask(s, t)).toEqual({ kind: 'step' });
    expect(stepTask(s, t)).toBeNull();
    expect(t.done).toBe(true);
    expect(s.tasks).toEqual([]);
    expect(spawn(s, 'b', 0, steps(0)).id).toBe(2);
  });

  it('`current` is the task being stepped, and only while it is', () => {
    const s = createSched();
    let seen: string | undefined;
    const t = spawn(
      s,
      'me',
      0,
      (function* (): Generator<Yield, void, void> {
        seen = s.current?.name;
      })(),
    );
    stepTask(s, t);
    expect(seen).toBe('me');
    expect(s.current).toBeNull();
  });

  it('a wait makes the task unrunnable until its condition holds, checked again when its queue is woken', () => {
    const s = createSched();
    const q = waitQueue();
    let go = false;
    const t = spawn(
      s,
      'w',
      0,
      (function* (): Generator<Yield, void, void> {
        yield wait(() => go, 'x', q);
      })(),
    );
    stepTask(s, t);
    expect(runnableTasks(s).includes(t)).toBe(false);
    go = true;
    expect(runnableTasks(s).includes(t)).toBe(false); // nobody woke q
    wakeUp(q);
    expect(runnableTasks(s).includes(t)).toBe(true);
    go = false;
    wakeUp(q);
    expect(runnableTasks(s).includes(t)).toBe(false);
    go = true;
    wakeUp(q);
    expect(stepTask(s, t)).toBeNull();
  });
});

describe('the run queue', () => {
  it('holds the runnable tasks least recently run first, those never run first of all; a woken task keeps its place', () => {
    const s = createSched();
    const q = waitQueue();
    let go = false;
    const body = (waits: boolean) =>
      (function* (): Generator<Yield, void, void> {
        if (waits) yield wait(() => go, 'go', q);
        for (;;) yield { kind: 'step' };
      })();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => spawn(s, n, 0, body(n === 'a')));
    const names = () => runnableTasks(s).map((t) => t.name);
    expect(names()).toEqual(['a', 'b', 'c']);
    stepTask(s, a!); // a waits
    stepTask(s, c!);
    expect(names()).toEqual(['b', 'c']);
    const d = spawn(s, 'd', 0, body(false));
    expect(names()).toEqual(['b', 'd', 'c']);
    stepTask(s, b!);
    go = true;
    wakeUp(q);
    expect(names()).toEqual(['d', 'a', 'c', 'b']);
    stepTask(s, d!);
    expect(names()).toEqual(['a', 'c', 'b', 'd']);
  });

  it('tasks whose waits end at the same pick join in the order they last ran', () => {
    const s = createSched();
    const [q1, q2] = [waitQueue(), waitQueue()];
    let go = false;
    const body = (until: () => boolean, q: ReturnType<typeof waitQueue>) =>
      (function* (): Generator<Yield, void, void> {
        yield wait(until, 'w', q);
        for (;;) yield { kind: 'step' };
      })();
    const a = spawn(
      s,
      'a',
      0,
      body(() => go, q1),
    );
    const b = spawn(
      s,
      'b',
      1,
      body(() => true, q2),
    );
    spawn(
      s,
      'c',
      2,
      body(() => true, q2),
    );
    stepTask(s, a);
    expect(runnableTasks(s).map((t) => t.name)).toEqual(['b', 'c']);
    stepTask(s, b); // b's wait begins after a's, and holds
    go = true;
    wakeUp(q1);
    expect(runnableTasks(s).map((t) => t.name)).toEqual(['c', 'a', 'b']);
  });
});

describe('stop_machine', () => {
  it('runs fn on every given CPU with nothing else running, and returns a non-zero result', () => {
    const s = createSched();
    const log: string[] = [];
    let ret: number | null = null;
    spawn(
      s,
      'caller',
      0,
      (function* (): Generator<Yield, void, void> {
        ret = yield* stopMachine(s, [0, 1, 2], function* (cpu) {
          yield* steps(2, log, `c${cpu}.`);
          return cpu === 1 ? -5 : 0;
        });
        log.push('caller resumes');
      })(),
    );
    const other = spawn(s, 'other', 1, steps(3, log, 'o'));
    // The caller asks for stop_machine; from then on only stoppers run, then the caller.
    stepTask(s, s.tasks[0]!);
    expect(s.stopMachine).toBe('running');
    expect(runnableTasks(s).includes(other)).toBe(false);
    expect(s.tasks.filter((t) => t.stopper).map((t) => t.name)).toEqual(['stopper/0', 'stopper/1', 'stopper/2']);
    const order = drain(s);
    expect(ret).toBe(-5);
    expect(log.indexOf('caller resumes')).toBe(6);
    expect(log.slice(7)).toEqual(['o0', 'o1', 'o2']);
    expect(order.filter((n) => n === 'other')).toHaveLength(4);
    expect(s.stopMachine).toBeNull();
  });

  it('the last non-zero result wins (generic stop_machine)', () => {
    const s = createSched();
    let ret: number | null = null;
    spawn(
      s,
      'caller',
      0,
      (function* (): Generator<Yield, void, void> {
        ret = yield* stopMachine(s, [0, 1], function* (cpu) {
          yield { kind: 'step' };
          return cpu === 0 ? -19 : -5;
        });
      })(),
    );
    drain(s);
    expect(ret).toBe(-5);
  });

  it('waits for preempt-disabled sections to end before stopping the CPUs', () => {
    const s = createSched();
    const log: string[] = [];
    spawn(
      s,
      'reader',
      1,
      (function* (): Generator<Yield, void, void> {
        yield* preemptDisabled(s, steps(2, log, 'r'));
        log.push('reader enabled');
        yield { kind: 'step' };
      })(),
    );
    stepTask(s, s.tasks[0]!); // the reader is inside its section
    spawn(
      s,
      'caller',
      0,
      (function* (): Generator<Yield, void, void> {
        yield* stopMachine(s, [0, 1], function* () {
          log.push('stopper');
          return 0;
        });
      })(),
    );
    const caller = s.tasks[1]!;
    stepTask(s, caller);
    expect(s.stopMachine).toBe('waiting');
    expect(runnableTasks(s).includes(s.tasks.find((t) => t.stopper)!)).toBe(false);
    drain(s);
    expect(log.indexOf('reader enabled')).toBeLessThan(log.indexOf('stopper'));
  });

  it('after the stoppers finish, the caller runs before anybody else', () => {
    const s = createSched();
    const caller = spawn(
      s,
      'caller',
      0,
      (function* (): Generator<Yield, void, void> {
        yield* stopMachine(s, [0], function* () {
          return 0;
        });
        yield { kind: 'step', label: 'after' };
      })(),
    );
    const other = spawn(s, 'other', 1, steps(1));
    stepTask(s, caller);
    stepTask(s, s.tasks.find((t) => t.stopper)!);
    expect(s.stopMachine).toBe('returning');
    expect([runnableTasks(s).includes(caller), runnableTasks(s).includes(other)]).toEqual([true, false]);
    expect(stepTask(s, caller)).toEqual({ kind: 'step', label: 'after' });
    expect(s.stopMachine).toBeNull();
    expect(runnableTasks(s).includes(other)).toBe(true);
  });
});

describe('preemptDisabled', () => {
  it('raises preempt_count for the section and restores it, also when the section throws', () => {
    const s = createSched();
    const counts: number[] = [];
    const t = spawn(
      s,
      't',
      0,
      (function* (): Generator<Yield, void, void> {
        const v = yield* preemptDisabled(
          s,
          (function* (): Generator<Yield, number, void> {
            counts.push(s.current!.preempt);
            yield { kind: 'step' };
            return 7;
          })(),
        );
        counts.push(s.current!.preempt, v);
        try {
          yield* preemptDisabled(
            s,
            (function* (): Generator<Yield, void, void> {
              throw new Error('boom');
            })(),
          );
        } catch {
          counts.push(s.current!.preempt);
        }
      })(),
    );
    while (stepTask(s, t));
    expect(counts).toEqual([1, 0, 7, 0]);
  });

  it.each([0, 3])('a task with preemption disabled holds its CPU: other tasks there wait (CPU %i)', (cpu) => {
    const s = createSched();
    const holder = spawn(
      s,
      'holder',
      cpu,
      (function* (): Generator<Yield, void, void> {
        yield* preemptDisabled(s, steps(1));
      })(),
    );
    const sameCpu = spawn(s, 'same', cpu, steps(1));
    const otherCpu = spawn(s, 'other', cpu + 1, steps(1));
    stepTask(s, holder);
    expect([runnableTasks(s).includes(sameCpu), runnableTasks(s).includes(otherCpu)]).toEqual([false, true]);
    stepTask(s, holder);
    expect(runnableTasks(s).includes(sameCpu)).toBe(true);
  });
});
