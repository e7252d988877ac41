// Injected firmware faults: the model's FaultPlan as the firmware's one-shot InjectedFaults.
// The status each fault returns is one the real leaf can return (spec §3.3, §3.4).
import {
  MD_MAJOR_VERSION,
  MD_MINOR_VERSION,
  MD_MODULE_HV,
  MD_UPDATE_VERSION,
  SEAMLDR_EUNSPECERR,
  TDH,
  TDX_INCOMPATIBLE_SEAM_CAPABILITIES,
  TDX_SYS_BUSY,
  TDX_SYS_INVALID_HANDOFF,
  TDX_SYS_LP_INIT_NOT_DONE,
} from '../impl/firmware/abi.ts';
import type { InjectedFaults } from '../impl/firmware/types.ts';
import type { FaultLeaf, FaultPlan } from '../model/types.ts';

export const NO_FAULTS: InjectedFaults = { installFail: null, noEntropy: 0, leafFail: null };

const LEAF: Record<FaultLeaf, { leaf: bigint; status: bigint; field?: bigint }> = {
  // Another LP is busy in SEAM: the module reverts to SYS_READY (spec §2.5).
  SHUTDOWN: { leaf: TDH.SYS_SHUTDOWN, status: TDX_SYS_BUSY },
  SYS_INIT: { leaf: TDH.SYS_INIT, status: TDX_INCOMPATIBLE_SEAM_CAPABILITIES },
  LP_INIT: { leaf: TDH.SYS_LP_INIT, status: TDX_SYS_BUSY },
  // Low 32 bits are 0: what v2's int truncation read as success [T-v2 p19].
  UPDATE: { leaf: TDH.SYS_UPDATE, status: TDX_SYS_INVALID_HANDOFF },
  // TDH.SYS.RD's one listed failure (spec §3.4 "RD and INFO"), on one field: MODULE_HV (merged:
  // before shutdown; v2: re-read after the update), or a version field re-read after it.
  RD_MODULE_HV: { leaf: TDH.SYS_RD, status: TDX_SYS_LP_INIT_NOT_DONE, field: MD_MODULE_HV },
  RD_MINOR_VERSION: { leaf: TDH.SYS_RD, status: TDX_SYS_LP_INIT_NOT_DONE, field: MD_MINOR_VERSION },
  RD_MAJOR_VERSION: { leaf: TDH.SYS_RD, status: TDX_SYS_LP_INIT_NOT_DONE, field: MD_MAJOR_VERSION },
  RD_UPDATE_VERSION: { leaf: TDH.SYS_RD, status: TDX_SYS_LP_INIT_NOT_DONE, field: MD_UPDATE_VERSION },
};

export function injectedFaults(f: FaultPlan | null, nrCpus: number): InjectedFaults {
  if (f === null) return { ...NO_FAULTS };
  switch (f.kind) {
    // Only LP.INIT runs on every CPU; the others strike wherever they run (see generators.ts).
    case 'leaf':
      return { ...NO_FAULTS, leafFail: { ...LEAF[f.leaf], cpu: f.cpu === null || f.leaf !== 'LP_INIT' ? null : f.cpu % nrCpus } };
    case 'install':
      return { ...NO_FAULTS, installFail: { cpu: f.cpu % nrCpus, status: SEAMLDR_EUNSPECERR } };
    case 'no_entropy':
      return { ...NO_FAULTS, noEntropy: f.count };
    // Armed when the upload starts (infoFaultAtUploadStart): the update's beginning disarms it.
    case 'seamldr_info':
      return { ...NO_FAULTS };
  }
}

/**
 * A SEAMLDR.INFO failure is armed when the upload starts, not when its update begins: v2's
 * precheck issues SEAMLDR.INFO before stop_machine. Any other plan arms nothing then.
 */
export function infoFaultAtUploadStart(f: FaultPlan | null, nrCpus: number): InjectedFaults['infoFail'] {
  return f?.kind === 'seamldr_info' ? { cpu: f.cpu % nrCpus, status: SEAMLDR_EUNSPECERR } : null;
}

/**
 * The fault vocabulary, for `--list` and the coverage table (`fault NAME`): each injected fault,
 * the call it fails, and what the contract allows then (model/update.ts).
 */
export const INJECTED_FAULTS: readonly { readonly name: string; readonly call: string; readonly outcome: string }[] = [
  { name: 'SHUTDOWN', call: 'TDH.SYS.SHUTDOWN (lead CPU)', outcome: 'refused, nothing changed' },
  { name: 'RD_MODULE_HV', call: 'TDH.SYS.RD of MODULE_HV', outcome: 'merged: refused before shutdown; v2: applied, the cached handoff version may stay old' },
  { name: 'seamldr_info', call: 'SEAMLDR.INFO on one CPU, from the upload on', outcome: 'v2 precheck: refused (-EIO); a P-SEAMLDR sysfs read: -EIO' },
  { name: 'install', call: 'SEAMLDR.INSTALL on one CPU', outcome: 'lost' },
  { name: 'no_entropy', call: 'SEAMLDR.INSTALL, P-SEAMLDR without entropy', outcome: 'lost (v2: one failure retried: applied or lost)' },
  { name: 'SYS_INIT', call: 'TDH.SYS.INIT (first CPU in CPU_INIT)', outcome: 'lost' },
  { name: 'LP_INIT', call: 'TDH.SYS.LP.INIT on one CPU or any', outcome: 'lost' },
  { name: 'UPDATE', call: 'TDH.SYS.UPDATE (lead CPU)', outcome: 'lost' },
  ...(['MINOR', 'MAJOR', 'UPDATE'] as const).map((f) => ({
    name: `RD_${f}_VERSION`,
    call: `TDH.SYS.RD of ${f}_VERSION after TDH.SYS.UPDATE`,
    outcome: 'applied; `version` may show the old module, field by field (B12); v2 may keep the old handoff version',
  })),
];
