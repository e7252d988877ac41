// Tests that flip one emulator switch need a revision record to run it under: the record of the
// revision the switches start from, with those switches, and the contract parameters that
// describe the same behaviour (the switch tests check both sides agree, so each switch whose
// behaviour the contract describes is mirrored here).
import type { Revision } from '../impl/kernel/revision.ts';
import { findRevision, type RevisionRecord } from '../properties/revisions/index.ts';

export function recordWith(kernel: Revision): RevisionRecord {
  const base = findRevision(kernel.name)!;
  return {
    ...base,
    kernel,
    contract: {
      ...base.contract,
      cpuOnlinePrecheck: kernel.cpuOnlinePrecheck,
      slotsPrecheck: kernel.slotsPrecheck,
      entropyRetry: kernel.seamldrEntropyRetry,
      avoidCompat: kernel.avoidCompat,
      deviceBusyError: kernel.errorMap === 'compat',
      cancelSupport: kernel.cancelSupport,
      vmcsErratumGuard: kernel.vmcsErratumGuard,
    },
    checks: {
      ...base.checks,
      imageFormat: kernel.imageFormat,
      lpResetAllCpus: kernel.lpResetScope === 'possible',
      handoffFromModule: kernel.handoffHvSource === 'read-fresh',
    },
  };
}
