// What a command is: its data, how fast-check draws it, how it drives the emulated host, which
// model action it corresponds to and how the results compare. One file per command kind
// (index.ts lists them), as in fast-check's examples/004-stateMachine.
import type fc from 'fast-check';
import type { Host } from '../../impl/host.ts';
import type { LinOp, TaskBody } from '../../impl/kernel/sched.ts';
import type { Choices } from '../../model/allowed.ts';
import type { ModelState } from '../../model/state.ts';
import type { FaultPlan } from '../../model/types.ts';
import type { GenConfig } from '../generators.ts';
import type { RevisionRecord } from '../revisions/record.ts';

/** What a command needs from the run it is issued in. */
export interface IssueEnv {
  readonly h: Host;
  readonly model: ModelState;
  readonly revision: RevisionRecord;
  /** The upload's fault, armed by the runner while that update's stop_machine runs. */
  setPendingFault(f: FaultPlan | null): void;
  newTdId(): number;
  /** A linearization point inside a command's own task (the tool's upload): the model action and the result. */
  act(op: string, check: Check, actual: unknown): void;
}

/** A model action's allowed results and how an implementation result is compared with one. */
export interface Check {
  readonly choices: Choices<unknown>;
  readonly matches: (allowed: unknown, actual: unknown) => boolean;
}

/** The model action of each linearization point the emulator reports (impl/kernel/sched.ts LinOp). */
export type LinActions = { readonly [K in LinOp['name']]: (m: ModelState, op: OpOf<K>) => Check };

/** The linearization point named K (a member of LinOp may carry several names). */
type OpOf<K> = LinOp extends infer O ? (O extends { name: infer N } ? (K extends N ? O : never) : never) : never;

export interface CommandSpec<C extends { readonly kind: string }> {
  readonly kind: C['kind'];
  arbitrary(cfg: GenConfig): fc.Arbitrary<C>;
  /** The command as a call, for counterexamples. */
  describe(c: C): string;
  /** It acts on the fw_upload node, which a revision may not expose. */
  readonly needsFw?: boolean;
  /** The CPU its task runs on. */
  cpu?(c: C, nrCpus: number): number;
  /** The task that drives the emulator; its return value is the command's response. null: nothing to act on. */
  issue(env: IssueEnv, c: C): TaskBody | null;
  /**
   * The model's side of the response. A read is correct if its result is allowed in some model
   * state between its invocation and its response; any other response is a linearization point.
   */
  readonly response?: { readonly read: boolean; model(m: ModelState, c: C, env: IssueEnv): Check };
  /** Model actions for the linearization points the emulator reports while this command runs. */
  readonly lins?: Partial<LinActions>;
  /** Its task always reports a linearization point of its own kind (hotplug: success or -EBUSY both take one). */
  readonly linearizes?: true;
  /**
   * It finds nothing to act on, and issue() returns null, until a command of this kind came
   * before it: a TD command before any td_create has no TD (td.ts pickTd). `--explore` does not
   * run a scenario with such a command (harness/exhaustive.ts firstInert).
   */
  readonly inertUntil?: 'td_create';
}

/** Results compared as plain values. */
export const same = (allowed: unknown, actual: unknown): boolean => allowed === actual;

/** A deterministic model action: one allowed result. */
export function exactly(result: unknown, because = "the model's result"): Check {
  return { choices: [{ result, because }], matches: same };
}

export function cpuOf(cpu: number, nrCpus: number): number {
  return cpu % nrCpus;
}
