// The abstract state of a TDX host, as the update contract sees it, and its initial state.
// Read it like a TLA+ spec: every variable with a one-line meaning, then the type invariant.
// Deliberately lossy: TD memory is page values (what was put there and stored since), the
// measurement is the log of what was measured, not bytes or digests.
import type { ContractParams, ModuleSpec, ModelImage, FaultPlan, Version } from './types.ts';

export type ModuleState =
  /**
   * The module runs and the kernel knows it (`version` is readable). `staleVersion`: the
   * version of the module it replaced, when re-reading the version after TDH.SYS.UPDATE failed;
   * the kernel may then report it, field by field (spec §8 B12, §4.1 row 9).
   */
  | { readonly status: 'ready'; readonly spec: ModuleSpec; readonly staleVersion?: Version }
  /**
   * An update failed after the old module was shut down, or the boot never configured the module
   * (HostSpec.configFails): no TD runs until reboot; `version` reads -ENXIO (after a failed
   * boot there is no tdx_host device, so no `version` file: -ENOENT). `lpInitWorks`: a CPU
   * brought online afterwards still comes up: the new module got as far as SYSINIT_DONE, so it
   * passes TDH.SYS.LP.INIT (spec §3.6 "After a failed post-shutdown update"), or, after a failed
   * boot, every CPU passed it already and keeps its flag.
   */
  | { readonly status: 'lost'; readonly lpInitWorks: boolean };

export type TdPhase = 'created' | 'keyed' | 'building' | 'finalized';

/** A guest page: the data KVM was handed (a fill value), and the guest's stores since (offset -> byte). */
export interface PageVal {
  readonly fill: number;
  readonly stores: ReadonlyMap<number, number>;
}

/** What has been measured into a TD's MRTD, newest first; null is the initial measurement. */
export type MeasureLog =
  | { readonly op: 'page_add'; readonly gpa: number; readonly prev: MeasureLog | null }
  | { readonly op: 'extend'; readonly gpa: number; readonly fill: number; readonly prev: MeasureLog | null };

export interface ModelTd {
  phase: TdPhase;
  /** False once a SEAMCALL for it failed (KVM_BUG_ON) or the module was lost. */
  alive: boolean;
  /** TDH.MNG.CREATE succeeded: the module holds the TD (teardown can reclaim it). */
  readonly created: boolean;
  /** An update landed mid-build on a module that refuses the old measurement context. */
  buildBroken: boolean;
  pages: Map<number, PageVal>;
  mrtd: MeasureLog | null;
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
  /** How the update of the upload in flight ended, once it has: applied, and the errno returned. */
  ended: { readonly applied: boolean; readonly errno: number } | null;
  /** A load was refused -EBUSY and left the loading state done: every later load is ignored. */
  wedged: boolean;
}

/** The node with no upload in flight: `error` and `remainingSize` are what the last one left. */
export function idleUpload(error = '', remainingSize = 0, wedged = false): UploadState {
  return { busy: false, error, remainingSize, cancelRequested: false, cancelledAtWrite: false, pending: null, ended: null, wedged };
}

export interface HostSpec {
  readonly nrCpus: number;
  readonly cpuFms: number;
  readonly boot: ModuleSpec;
  readonly seamldrVersion: Version;
  readonly numRemainingUpdates: number;
  readonly debugUnlocked: boolean;
  readonly erratum: boolean;
  /**
   * TDH.SYS.CONFIG or TDH.SYS.KEY.CONFIG failed at boot (injected): tdx_enable() failed, so TDX
   * is off until reboot: the module is never initialized, and tdx_host is never probed.
   */
  readonly configFails?: boolean;
}

export interface ModelState {
  readonly params: ContractParams;
  readonly host: HostSpec;
  /** Frozen, and replaced when a CPU comes or goes (setOnline): states share it, and a state's name writes it once (harness/explore.ts). */
  online: readonly boolean[];
  module: ModuleState;
  /** The handoff version the kernel will ask the running module for. */
  handoffHv: number;
  /** P-SEAMLDR's num_remaining_updates. */
  slots: number;
  /** SEAMSVN of the running module's install, which an update may not go below. */
  seamsvn: number;
  tds: Map<number, ModelTd>;
  upload: UploadState;
  /** The CPU an injected SEAMLDR.INFO failure is armed on, until a call fails with it (else null). */
  infoFault: number | null;
  /**
   * TDs KVM forgot although their TDH.MNG.KEY.FREEID failed: the module still holds them (their
   * HKIDs leak), a build among them stays in progress, and an ioctl already in flight on one
   * (it holds the VM) still acts on it.
   */
  leaked: Map<number, ModelTd>;
}

export function init(params: ContractParams, host: HostSpec): ModelState {
  return {
    params,
    host,
    online: Object.freeze(Array.from({ length: host.nrCpus }, () => true)),
    module: host.configFails ? { status: 'lost', lpInitWorks: true } : { status: 'ready', spec: host.boot },
    handoffHv: host.boot.moduleHv,
    slots: host.numRemainingUpdates,
    seamsvn: host.boot.seamsvn,
    tds: new Map(),
    upload: idleUpload(),
    infoFault: null,
    leaked: new Map(),
  };
}

/** A copy to try a successor on; page values and logs are immutable, so they are shared. */
export function clone(s: ModelState): ModelState {
  const copy = (m: Map<number, ModelTd>) => new Map([...m].map(([id, td]) => [id, { ...td, pages: new Map(td.pages) }]));
  return { ...s, tds: copy(s.tds), leaked: copy(s.leaked), upload: { ...s.upload } };
}

/** One CPU's flag in `online`, as a new frozen array. */
export function setOnline(s: ModelState, cpu: number, up: boolean): void {
  s.online = Object.freeze(s.online.map((o, i) => (i === cpu ? up : o)));
}

/** Type invariant: what every reachable state satisfies, whatever the implementation does. */
export function typeOk(s: ModelState): boolean {
  const tds = [...s.tds.values()];
  return (
    s.online.length === s.host.nrCpus &&
    s.online[0] === true &&
    Number.isInteger(s.slots) &&
    s.slots >= 0 &&
    s.slots <= s.host.numRemainingUpdates &&
    (s.module.status === 'ready' || tds.every((td) => !td.alive)) &&
    (s.upload.busy || (s.upload.pending === null && s.upload.ended === null)) &&
    (!s.upload.busy || s.upload.error === '') &&
    tds.every((td) => td.phase === 'building' || td.phase === 'finalized' || (td.mrtd === null && td.pages.size === 0)) &&
    tds.every((td) => !td.buildBroken || td.phase === 'building')
  );
}
