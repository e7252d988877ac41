// Which runnable task steps next (issue 13, part 3). Two schedulers, both data in the scenario,
// so a run under either records, replays and shrinks the same way:
//
//   random: `schedule` holds one choice per decision among the runnable tasks (least recently
//           run first), drawn uniformly by fast-check; choice 0 is round-robin.
//   pct:    `pct` holds PCT's random priorities and d-1 priority change points (Burckhardt et
//           al., "A Randomized Scheduler with Probabilistic Guarantees of Finding Bugs",
//           ASPLOS 2010): the runnable task of highest priority runs; at change point i the
//           task about to run drops to priority i, below every initial one. A bug of depth d
//           (d ordering constraints) is then found with probability at least 1/(n k^(d-1)) per
//           run, for n tasks and k scheduling points, where uniform choices find it far less
//           often. k counts decisions (steps where more than one option could run): a change
//           point on a step with one option would land on the next decision anyway.
//
// Issuing the next command is one more option (entity 0); a task is the entity of its id.
import fc from 'fast-check';
import type { Scenario } from '../properties/scenario.ts';

export const SCHEDULERS = ['random', 'pct', 'exhaustive'] as const;
export type SchedulerName = (typeof SCHEDULERS)[number];

/** PCT's data: an initial priority per entity (by id, wrapping), and the decisions where priorities change. */
export interface Pct {
  readonly priorities: readonly number[];
  readonly changePoints: readonly number[];
}

/** A scenario whose interleaving is PCT's when `pct` is present, the `schedule`'s otherwise. */
export type ScheduledScenario = Scenario & { readonly pct?: Pct };

/** Entities with priorities of their own: the issuer and tasks up to id 31 (more wrap around). */
const PCT_ENTITIES = 32;
const PCT_PRIORITY_MAX = 1 << 20;

/**
 * PCT's data for depth d: distinct-in-practice priorities (they shrink to equal ones, which is
 * round-robin) and d-1 change points among the first `decisions` decisions (they shrink to the start).
 */
export function pctData(depth: number, decisions: number): fc.Arbitrary<Pct> {
  return fc.record({
    priorities: fc.array(fc.nat({ max: PCT_PRIORITY_MAX }), { minLength: PCT_ENTITIES, maxLength: PCT_ENTITIES }),
    changePoints: fc.array(fc.nat({ max: decisions }), { minLength: depth - 1, maxLength: depth - 1 }),
  });
}

/**
 * One run's PCT state: priorities as they stand after the change points so far. Priorities are
 * strict, as in the paper: a task that cannot go on waits (impl/kernel/sched.ts wait), so
 * no runnable task spins on another and none starves the task it waits for.
 */
export class PctScheduler {
  private readonly lowered = new Map<number, number>();
  private readonly changePoints: readonly number[];
  private nextChange = 0;

  constructor(readonly pct: Pct) {
    this.changePoints = [...pct.changePoints].sort((a, b) => a - b);
  }

  priority(entity: number): number {
    const p = this.pct.priorities;
    return this.lowered.get(entity) ?? (p.length ? p[((entity % p.length) + p.length) % p.length]! : 0);
  }

  /** The index (into `entities`, in the runner's order, which breaks ties) of the one to run at decision `d`. */
  pick(entities: readonly number[], d: number): number {
    for (; this.nextChange < this.changePoints.length && this.changePoints[this.nextChange]! <= d; this.nextChange++)
      this.lowered.set(entities[this.top(entities)]!, this.nextChange - this.changePoints.length);
    return this.top(entities);
  }

  private top(entities: readonly number[]): number {
    let best = 0;
    for (let i = 1; i < entities.length; i++) if (this.priority(entities[i]!) > this.priority(entities[best]!)) best = i;
    return best;
  }
}
