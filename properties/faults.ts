// Injected firmware faults: the model's FaultPlan as the firmware's one-shot InjectedFaults, and
// a TD command's fault on one of its leaves. The status each fault returns is one the real leaf
// can return (spec §3.3, §3.4, §5.3).
import {
  LEAF_NAMES,
  MD_MAJOR_VERSION,
  MD_MINOR_VERSION,
  MD_MODULE_HV,
  MD_TDX_FEATURES0,
  MD_UPDATE_VERSION,
  OPERAND_ID_RCX,
  OPERAND_ID_RDX,
  SEAMLDR_EUNSPECERR,
  TDH,
  TDX_INCOMPATIBLE_SEAM_CAPABILITIES,
  TDX_OPERAND_BUSY,
  TDX_SYS_BUSY,
  TDX_SYS_INVALID_HANDOFF,
  TDX_SYS_LP_INIT_NOT_DONE,
  TDH_SYS_CONFIG,
  TDH_SYS_KEY_CONFIG,
} from '../impl/firmware/abi.ts';
import type { InjectedFaults } from '../impl/firmware/types.ts';
import type { Host } from '../impl/host.ts';
import type { LinOp, TaskBody } from '../impl/kernel/sched.ts';
import type { BootFaultLeaf, FaultLeaf, FaultPlan, TdFaultLeaf } from '../model/types.ts';

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
    case 'tdx_no_entropy':
      return { ...NO_FAULTS, tdxNoEntropy: f.count };
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
 * A TD leaf fails busy: every TD leaf takes locks on its operands and, finding one held, returns
 * TDX_OPERAND_BUSY with that operand's id in bits 31:0 (spec §5.3; KVM's busy handling, §3.7
 * [T-v7 #76]). The operand is the TDR (RCX, or RDX where the GPA comes first), or for
 * TDH.MEM.PAGE.ADD the GPA's Secure-EPT entry (RCX).
 */
const TD_LEAF: Record<TdFaultLeaf, { leaf: bigint; status: bigint }> = {
  MNG_CREATE: { leaf: TDH.MNG_CREATE, status: TDX_OPERAND_BUSY | OPERAND_ID_RCX },
  MNG_KEY_CONFIG: { leaf: TDH.MNG_KEY_CONFIG, status: TDX_OPERAND_BUSY | OPERAND_ID_RCX },
  MNG_INIT: { leaf: TDH.MNG_INIT, status: TDX_OPERAND_BUSY | OPERAND_ID_RCX },
  MEM_PAGE_ADD: { leaf: TDH.MEM_PAGE_ADD, status: TDX_OPERAND_BUSY | OPERAND_ID_RCX },
  MR_EXTEND: { leaf: TDH.MR_EXTEND, status: TDX_OPERAND_BUSY | OPERAND_ID_RDX },
  MR_FINALIZE: { leaf: TDH.MR_FINALIZE, status: TDX_OPERAND_BUSY | OPERAND_ID_RCX },
  VP_ENTER: { leaf: TDH.VP_ENTER, status: TDX_OPERAND_BUSY | OPERAND_ID_RCX },
  MNG_KEY_FREEID: { leaf: TDH.MNG_KEY_FREEID, status: TDX_OPERAND_BUSY | OPERAND_ID_RCX },
};

/** A TD leaf by its spec name (TDH.MEM.PAGE.ADD). */
export const tdLeafName = (leaf: TdFaultLeaf): string => LEAF_NAMES.get(TD_LEAF[leaf].leaf)!;

/**
 * A TD command's task with its fault armed: the first call of `leaf` the task makes fails. The
 * fault is armed only while this task steps, and a step runs alone, so no other task's call
 * takes it; an update's armed fault waits aside meanwhile. The linearization point of the call
 * it failed is marked `injected`, which is how the model learns of it.
 */
export function* withTdFault(h: Host, leaf: TdFaultLeaf, body: TaskBody): TaskBody {
  const fault = { ...TD_LEAF[leaf], cpu: null };
  let armed = true;
  for (;;) {
    const aside = h.seam.faults.leafFail;
    if (armed) h.seam.faults.leafFail = fault;
    const r = body.next();
    const struck: boolean = armed && h.seam.faults.leafFail === null;
    if (armed) h.seam.faults.leafFail = aside;
    armed &&= !struck;
    if (r.done) return r.value;
    yield struck && r.value.kind === 'lin' ? { ...r.value, op: { ...r.value.op, args: { ...r.value.op.args, injected: leaf } } as LinOp } : r.value;
  }
}

/**
 * The boot-time configuration leaves fail on the global lock every TDH.SYS leaf takes: another
 * LP holds it (spec §5.3 TDX_SYS_BUSY, class 0x02; §2.5 for SHUTDOWN and UPDATE); a metadata read
 * with TDH.SYS.RD's one listed failure, on one field. The kernel retries neither: tdx_enable() fails.
 */
const BOOT_LEAF: Record<BootFaultLeaf, { leaf: bigint; status: bigint; field?: bigint }> = {
  SYS_CONFIG: { leaf: TDH_SYS_CONFIG, status: TDX_SYS_BUSY },
  SYS_KEY_CONFIG: { leaf: TDH_SYS_KEY_CONFIG, status: TDX_SYS_BUSY },
  BOOT_RD_MINOR_VERSION: { leaf: TDH.SYS_RD, status: TDX_SYS_LP_INIT_NOT_DONE, field: MD_MINOR_VERSION },
  BOOT_RD_TDX_FEATURES0: { leaf: TDH.SYS_RD, status: TDX_SYS_LP_INIT_NOT_DONE, field: MD_TDX_FEATURES0 },
  BOOT_RD_MODULE_HV: { leaf: TDH.SYS_RD, status: TDX_SYS_LP_INIT_NOT_DONE, field: MD_MODULE_HV },
};

/** A host's boot fault as the firmware's (impl/host.ts HostConfig.bootFault). */
export const bootFaultOf = (leaf: BootFaultLeaf): { leaf: bigint; status: bigint; field?: bigint } => ({ ...BOOT_LEAF[leaf] });

const KVM_BUG_ON = 'KVM_BUG_ON: that TD is dead, its pages, measurement and phase as they were; no other TD, nothing of the module or an update changes';

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
  {
    name: 'tdx_no_entropy',
    call: "the update's first TDX module SEAMCALL, TDX_RND_NO_ENTROPY 1-10 times",
    outcome: 'up to 9: retried by the SEAMCALL wrapper, as if no fault; 10: that call fails, refused, nothing changed',
  },
  { name: 'SYS_INIT', call: 'TDH.SYS.INIT (first CPU in CPU_INIT)', outcome: 'lost' },
  { name: 'LP_INIT', call: 'TDH.SYS.LP.INIT on one CPU or any', outcome: 'lost' },
  { name: 'UPDATE', call: 'TDH.SYS.UPDATE (lead CPU)', outcome: 'lost' },
  ...(['MINOR', 'MAJOR', 'UPDATE'] as const).map((f) => ({
    name: `RD_${f}_VERSION`,
    call: `TDH.SYS.RD of ${f}_VERSION after TDH.SYS.UPDATE`,
    outcome: 'applied; `version` may show the old module, field by field (B12); v2 may keep the old handoff version',
  })),
  {
    name: 'SYS_CONFIG',
    call: 'TDH.SYS.CONFIG at boot (init_tdx_module), busy',
    outcome: 'TDX off until reboot: no tdx_host device, no TD; CPUs still come up',
  },
  { name: 'SYS_KEY_CONFIG', call: 'TDH.SYS.KEY.CONFIG at boot (config_global_keyid), busy', outcome: 'as SYS_CONFIG' },
  { name: 'BOOT_RD_MINOR_VERSION', call: 'TDH.SYS.RD of MINOR_VERSION at boot (get_tdx_sys_info_version)', outcome: 'as SYS_CONFIG' },
  { name: 'BOOT_RD_TDX_FEATURES0', call: 'TDH.SYS.RD of TDX_FEATURES0 at boot', outcome: 'as SYS_CONFIG' },
  { name: 'BOOT_RD_MODULE_HV', call: 'TDH.SYS.RD of MODULE_HV at boot (get_tdx_sys_info_handoff)', outcome: 'as SYS_CONFIG' },
  { name: 'MNG_CREATE', call: 'TDH.MNG.CREATE in td_create (KVM_TDX_INIT_VM), busy', outcome: 'no TD is created; nothing else changes' },
  { name: 'MNG_KEY_CONFIG', call: 'TDH.MNG.KEY.CONFIG in td_create, busy', outcome: KVM_BUG_ON },
  { name: 'MNG_INIT', call: 'TDH.MNG.INIT in td_create, busy', outcome: KVM_BUG_ON },
  { name: 'MEM_PAGE_ADD', call: 'TDH.MEM.PAGE.ADD in td_add_page, busy', outcome: '-EBUSY: the TD is as it was and usable (no page, nothing measured)' },
  { name: 'MR_EXTEND', call: 'TDH.MR.EXTEND in td_add_page, busy', outcome: KVM_BUG_ON },
  { name: 'MR_FINALIZE', call: 'TDH.MR.FINALIZE in td_finalize, busy', outcome: KVM_BUG_ON },
  { name: 'VP_ENTER', call: 'TDH.VP.ENTER in td_run, busy', outcome: `${KVM_BUG_ON}; no guest store lands` },
  {
    name: 'MNG_KEY_FREEID',
    call: 'TDH.MNG.KEY.FREEID in td_teardown, busy',
    outcome: 'KVM forgets the TD; the module keeps it and its HKID, and a build it held stays in progress for later updates',
  },
];
