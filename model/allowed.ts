// A model action does not predict one result: it returns every result the contract allows,
// each with the reason it is allowed and the successor state it leads to. The harness checks
// that what the implementation returned is one of them and continues from that one's successor
// (harness/run.ts; model/README.md says how a choice between several is made).
import type { ModelState } from './state.ts';

export interface Allowed<R> {
  readonly result: R;
  /** Why the contract allows it, in its words (shown in counterexamples). */
  readonly because: string;
  /** The successor: what changes when this result is the one that happened (none: unchanged). */
  readonly next?: (s: ModelState, actual: unknown) => void;
}

export type Choices<R> = readonly Allowed<R>[];

/** A result the contract determines: one choice. */
export function only<R>(result: R, because: string, next?: Allowed<R>['next']): Choices<R> {
  return [next ? { result, because, next } : { result, because }];
}
