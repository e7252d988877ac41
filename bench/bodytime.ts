// Times the body of a scenario from outside runScenario: the commands array is wrapped in a
// Proxy that notes the moment the runner first reads the first body command (with the empty
// schedule the runner issues a command only when the previous one has finished, so that
// moment is when the setup is done). The run's end is when runScenario returns. No timer
// inside the runner, no subtraction of two noisy runs.
import { NO_BUGS } from '../impl/faults.ts';
import { V2 } from '../properties/revisions/index.ts';
import { runScenario, type RunResult } from '../harness/run.ts';
import type { Command } from '../properties/commands/index.ts';
import type { Scenario } from '../properties/scenario.ts';
import { monoUs } from './profile.ts';
import { now, plus, since, ZERO, type Clock } from './stats.ts';

export interface BodyTiming {
  readonly setup: Clock;
  readonly body: Clock;
  /** The body's start and end on the profiler's clock (monotonic microseconds). */
  readonly window: { readonly fromUs: number; readonly toUs: number };
  readonly result: RunResult;
}

interface Mark {
  at: Clock | null;
  atUs: number;
  inOrder: boolean;
}

/** The commands, with a note of when index `mark` is first read (and whether reads went in order). */
function watched(commands: readonly Command[], mark: number): { commands: readonly Command[]; m: Mark } {
  const m: Mark = { at: null, atUs: 0, inOrder: true };
  let highest = -1;
  // Until the mark, every index read is checked (in order, none past the mark); after it the
  // trap only forwards, so the body pays a plain property lookup per access.
  const proxy = new Proxy(commands as Command[], {
    get(target, key, receiver) {
      if (m.at === null && typeof key === 'string' && key.charCodeAt(0) <= 57 && /^\d+$/.test(key)) {
        const i = Number(key);
        if (i > highest + 1) m.inOrder = false;
        highest = Math.max(highest, i);
        if (i === mark) {
          m.at = now();
          m.atUs = monoUs();
        }
      }
      return Reflect.get(target, key, receiver);
    },
  });
  return { commands: proxy, m };
}

/** One run of setup + body, timed in two parts. Throws if the runner read commands out of order. */
export function timeBody(s: Scenario, setupLength: number): BodyTiming {
  const w = watched(s.commands, setupLength);
  const t0 = now();
  const result = runScenario({ ...s, commands: w.commands }, { revision: V2, bugs: NO_BUGS });
  const t1 = now(),
    t1Us = monoUs();
  if (!w.m.inOrder) throw new Error('bench: the runner no longer reads commands in order; body timing needs another hook');
  const mark = w.m.at ?? t1;
  return { setup: since(t0, mark), body: since(mark, t1), window: { fromUs: w.m.at ? w.m.atUs : t1Us, toUs: t1Us }, result };
}

/** Repeats timeBody until the bodies add up to minMs of wall time (at most maxRuns runs); mean per run. */
export function sampleBody(s: Scenario, setupLength: number, minMs: number, maxRuns = 50): BodyTiming {
  let setup = ZERO,
    body = ZERO,
    n = 0;
  let last: BodyTiming;
  do {
    last = timeBody(s, setupLength);
    setup = plus(setup, last.setup);
    body = plus(body, last.body);
    n++;
  } while (body.wall < minMs && n < maxRuns);
  return { setup: { wall: setup.wall / n, cpu: setup.cpu / n }, body: { wall: body.wall / n, cpu: body.cpu / n }, window: last.window, result: last.result };
}
