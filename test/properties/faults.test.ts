// The injected-fault vocabulary: every fault the generator draws is listed, reaches the firmware
// as the leaf (and TDH.SYS.RD field) it names, and is a required coverage label.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MD_MAJOR_VERSION, MD_MINOR_VERSION, MD_MODULE_HV, MD_UPDATE_VERSION, TDH } from '../../impl/firmware/abi.ts';
import { REQUIRED_LABELS } from '../../harness/coverage.ts';
import { FAULT_LEAVES, type FaultPlan } from '../../model/types.ts';
import { UPLOAD } from '../../properties/commands/upload.ts';
import { INJECTED_FAULTS, infoFaultAtUploadStart, injectedFaults } from '../../properties/faults.ts';
import type { GenConfig } from '../../properties/generators.ts';

const cfg = { cpus: [1, 4], maxCommands: 1, maxSchedule: 0, faultRate: 1, corruptRate: 0, weights: { upload: 1 } } as unknown as GenConfig;

describe('injected faults', () => {
  it('the generator draws every fault of the vocabulary, and each is listed and required in the coverage table', () => {
    const drawn = new Set(fc.sample(UPLOAD.arbitrary(cfg), { numRuns: 2000, seed: 1 }).map((c) => (c.fault!.kind === 'leaf' ? c.fault!.leaf : c.fault!.kind)));
    const listed = INJECTED_FAULTS.map((f) => f.name);
    expect([...drawn].sort()).toEqual([...listed].sort());
    expect([...FAULT_LEAVES, 'seamldr_info', 'install', 'no_entropy'].sort()).toEqual([...listed].sort());
    for (const n of listed) expect(REQUIRED_LABELS).toContain(`fault ${n}`);
  });

  it('the reads fail TDH.SYS.RD of their own field only; the other leaves on any CPU but LP.INIT', () => {
    const leaf = (l: (typeof FAULT_LEAVES)[number], cpu: number | null = 5): FaultPlan => ({ kind: 'leaf', leaf: l, cpu });
    expect(injectedFaults(leaf('RD_MODULE_HV'), 4).leafFail).toMatchObject({ leaf: TDH.SYS_RD, field: MD_MODULE_HV, cpu: null });
    expect(injectedFaults(leaf('RD_UPDATE_VERSION'), 4).leafFail).toMatchObject({ leaf: TDH.SYS_RD, field: MD_UPDATE_VERSION, cpu: null });
    expect(injectedFaults(leaf('RD_MINOR_VERSION'), 4).leafFail).toMatchObject({ leaf: TDH.SYS_RD, field: MD_MINOR_VERSION });
    expect(injectedFaults(leaf('RD_MAJOR_VERSION'), 4).leafFail).toMatchObject({ leaf: TDH.SYS_RD, field: MD_MAJOR_VERSION });
    expect(injectedFaults(leaf('LP_INIT'), 4).leafFail).toMatchObject({ leaf: TDH.SYS_LP_INIT, cpu: 1 });
    expect(injectedFaults(leaf('SHUTDOWN'), 4).leafFail?.field).toBeUndefined();
  });

  it('a SEAMLDR.INFO failure is armed when the upload starts, and the update beginning disarms it', () => {
    const info: FaultPlan = { kind: 'seamldr_info', cpu: 5 };
    expect(infoFaultAtUploadStart(info, 4)).toMatchObject({ cpu: 1 });
    expect(infoFaultAtUploadStart({ kind: 'install', cpu: 0 }, 4)).toBeNull();
    expect(injectedFaults(info, 4)).toEqual(injectedFaults(null, 4));
  });
});
