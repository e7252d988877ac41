// The abstract state of a TDX host, as the update contract sees it, and its initial state.
// Read it like a TLA+ spec: every variable with a one-line meaning, then the type invariant.
import { MRTD_INIT } from './measure.ts';
import type { FaultPlan, ModelImage, ModelParams, ModuleSpec, Version } from './types.ts';

export type ModuleState =
  /** The module runs and the kernel knows it (`version` is readable). */
  | { readonly status: 'ready'; readonly spec: ModuleSpec }
  /**
   * An update failed after the old module was shut down: no TD runs, `version` reads -ENXIO,
   * until reboot. `lpInitWorks`: the new module got as far as SYSINIT_DONE, so a CPU brought
   * online afterwards still passes TDH.SYS.LP.INIT (spec §3.6 "After a failed post-shutdown update").
   */
  | { readonly status: 'lost'; readonly lpInitWorks: boolean };

export type TdPhase = 'created' | 'keyed' | 'building' | 'finalized';

export interface ModelTd {
  phase: TdPhase;
  /** False once a SEAMCALL for it failed (KVM_BUG_ON) or the module was lost. */
  alive: boolean;
  /** Private memory: page index -> contents. */
  pages: Map<number, Uint8Array>;
  /** The measurement so far (final once finalized). */
  mrtd: Uint8Array;
  /** TDH.MNG.CREATE succeeded: the module holds the TD (teardown can reclaim it). */
  readonly created: boolean;
  /** An update landed mid-build on a module that refuses the old measurement context. */
  buildBroken: boolean;
  /** The TCB the TD was launched on (TDR.td_preserving_fields, spec §6). */
  readonly launch: { readonly version: Version; readonly seamsvn: number };
}

/** The fw_upload node as userspace sees it. */
export interface UploadState {
  busy: boolean;
  /** `error` once idle: '' or "<progress>:<error>". */
  error: string;
  remainingSize: number;
  /** A cancel arrived during this upload; prepare forgets earlier ones, write looks once. */
  cancelRequested: boolean;
  /** What the driver's write op saw of cancelRequested when it started. */
  cancelledAtWrite: boolean;
  /** The image and fault of the upload in flight. */
  pending: { readonly image: ModelImage; readonly fault: FaultPlan | null } | null;
  /** How the update of the upload in flight ended, once it has. */
  ended: { readonly applied: boolean; readonly errno: number | 'fails' } | null;
}

export interface HostSpec {
  readonly nrCpus: number;
  readonly cpuFms: number;
  readonly boot: ModuleSpec;
  readonly seamldrVersion: Version;
  readonly numRemainingUpdates: number;
  readonly debugUnlocked: boolean;
  readonly erratum: boolean;
}

export interface ModelState {
  readonly params: ModelParams;
  readonly host: HostSpec;
  online: boolean[];
  module: ModuleState;
  /** The handoff version the kernel will ask the running module for. */
  handoffHv: number;
  /** P-SEAMLDR's num_remaining_updates. */
  slots: number;
  /** SEAMSVN of the last module P-SEAMLDR installed. */
  seamsvn: number;
  tds: Map<number, ModelTd>;
  upload: UploadState;
}

export function init(params: ModelParams, host: HostSpec): ModelState {
  return {
    params,
    host,
    online: Array.from({ length: host.nrCpus }, () => true),
    module: { status: 'ready', spec: host.boot },
    handoffHv: host.boot.moduleHv,
    slots: host.numRemainingUpdates,
    seamsvn: host.boot.seamsvn,
    tds: new Map(),
    upload: { busy: false, error: '', remainingSize: 0, cancelRequested: false, cancelledAtWrite: false, pending: null, ended: null },
  };
}

/** Type invariant: what every reachable state satisfies, whatever the implementation does. */
export function typeOk(s: ModelState): boolean {
  return s.online[0] === true
    && s.slots >= 0
    && (s.module.status === 'ready' || [...s.tds.values()].every((td) => !td.alive))
    && (s.upload.busy || (s.upload.pending === null && s.upload.ended === null))
    && [...s.tds.values()].every((td) => td.phase === 'finalized' || td.phase === 'building' || td.mrtd === MRTD_INIT || td.mrtd.every((b) => b === 0));
}
