// Times the body of a scenario from outside runScenario: the commands array is wrapped in a
// Proxy that notes the moment the runner first reads the first body command (with the empty
// schedule the runner issues a command only when the previous one has finished, so that
// moment is when the setup is done). The run's end is when runScenario returns. No timer
// inside the runner, no subtraction of two noisy runs.
import { NO_BUGS } from '../impl/faults.ts';
import { SEED } from '../impl/kernel/revision.ts';
import { runScenario, type RunResult } from '../harness/run.ts';
import type { Command } from '../properties/commands.ts';
import type { Scenario } from '../properties/scenario.ts';

export interface BodyTiming {
  readonly setupMs: number;
  readonly bodyMs: number;
  readonly result: RunResult;
}

/** The commands, with a note of when index `mark` is first read (and whether reads went in order). */
function watched(commands: readonly Command[], mark: number): { commands: readonly Command[]; at: { t: number | null; inOrder: boolean } } {
  const at = { t: null as number | null, inOrder: true };
  let highest = -1;
  const commandsProxy = new Proxy(commands as Command[], {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) {
        const i = Number(key);
        if (i > highest + 1) at.inOrder = false;
        highest = Math.max(highest, i);
        if (i === mark && at.t === null) at.t = performance.now();
      }
      return Reflect.get(target, key, receiver);
    },
  });
  return { commands: commandsProxy, at };
}

/** One run of setup + body, timed in two parts. Throws if the runner read commands out of order. */
export function timeBody(s: Scenario, setupLength: number): BodyTiming {
  const w = watched(s.commands, setupLength);
  const t0 = performance.now();
  const result = runScenario({ ...s, commands: w.commands }, { rev: SEED, bugs: NO_BUGS });
  const t1 = performance.now();
  if (!w.at.inOrder) throw new Error('bench: the runner no longer reads commands in order; body timing needs another hook');
  const mark = w.at.t ?? t1;
  return { setupMs: mark - t0, bodyMs: t1 - mark, result };
}

/** Repeats timeBody until the bodies add up to minMs (at most maxRuns runs); mean per run. */
export function sampleBody(s: Scenario, setupLength: number, minMs: number, maxRuns = 50): BodyTiming {
  let setupMs = 0, bodyMs = 0, n = 0;
  let last: BodyTiming;
  do {
    last = timeBody(s, setupLength);
    setupMs += last.setupMs;
    bodyMs += last.bodyMs;
    n++;
  } while (bodyMs < minMs && n < maxRuns);
  return { setupMs: setupMs / n, bodyMs: bodyMs / n, result: last.result };
}
