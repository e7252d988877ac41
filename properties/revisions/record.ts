// A kernel revision binds both sides: the emulator's switches and the contract the model states
// for it, the per-revision values the checks take, and the expected verdict of each safety goal.
// One file per revision; nothing else in properties/ or harness/ branches on a revision.
import type { Revision } from '../../impl/kernel/revision.ts';
import type { ContractParams } from '../../model/types.ts';

export type Expected = 'holds' | 'expected-violation';

export interface RevisionRecord {
  readonly name: 'v2' | 'compat' | 'upstream';
  readonly title: string;
  readonly date: string;
  /** Where the code comes from: a patch series or a commit. */
  readonly source: string;
  /** The emulator's switches (impl/kernel/revision.ts). */
  readonly kernel: Revision;
  /** What the contract says of this revision (model/types.ts). */
  readonly contract: ContractParams;
  /** Values the invariants, the refinement mapping and the generators take from the revision. */
  readonly checks: {
    /** The image format the kernel accepts (spec §3.2): v1 blob or v2 image. */
    readonly imageFormat: 'v1' | 'v2';
    /** tdx_lp_initialized is cleared for every possible CPU at shutdown (v6+), else online ones. */
    readonly lpResetAllCpus: boolean;
    /** TDH.SYS.SHUTDOWN's handoff version is read from the running module (merged), else the kernel's cache. */
    readonly handoffFromModule: boolean;
    /** Boot modules with UPDATE_COMPAT half of the time: AVOID_COMPAT_SENSITIVE updates nothing else. */
    readonly compatModules: boolean;
  };
  /** The expected verdict of each safety goal (properties/goals.ts) on this revision. */
  readonly verdicts: Readonly<Record<string, Expected>>;
}
