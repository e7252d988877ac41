// What was merged: v10 plus Dave Hansen's rework (2026-06), spec §2.7 right column.
import type { RevisionRecord } from './record.ts';

export const UPSTREAM: RevisionRecord = {
  name: 'upstream',
  title: 'merged, v10 + rework, 2026-06',
  date: '2026-06-05',
  source: 'torvalds/linux arch/x86/virt/vmx/tdx/seamldr.c @ b2128290, drivers/virt/coco/tdx-host/tdx-host.c @ 637315cb',
  kernel: {
    name: 'upstream',
    title: 'merged, v10 + rework, 2026-06',
    cpuOnlinePrecheck: false,
    slotsPrecheck: false,
    imageFormat: 'v2',
    avoidCompat: false,
    errorMap: 'merged',
    fwName: 'tdx_module',
    seamldrAttrs: { dir: '', mode: 0o400 },
    cancelSupport: false,
    handoffHvSource: 'read-fresh',
    lpResetScope: 'possible',
    refreshScope: 'version',
    seamldrEntropyRetry: false,
    versionLockout: true,
    vmcsErratumGuard: true,
  },
  contract: {
    cpuOnlinePrecheck: false,
    slotsPrecheck: false,
    entropyRetry: false,
    currentHandoffHv: true,
    handoffHvReadAtShutdown: true,
    avoidCompat: false,
    deviceBusyError: false,
    cancelSupport: false,
    vmcsErratumGuard: true,
    sysfsAbi: 'merged',
  },
  checks: { imageFormat: 'v2', lpResetAllCpus: true, handoffFromModule: true, compatModules: false },
  verdicts: {
    // The CPU-online and slots prechecks were dropped in v5 (spec §3.6, §3.3; B27, B28).
    'no-td-loss-with-offline-cpu': 'expected-violation',
    'no-td-loss-without-slots': 'expected-violation',
    'td-build-measurement-intact': 'expected-violation',
    'error-tells-fatal': 'expected-violation',
    'version-tells-fatal': 'holds',
    // fw_upload's refused load in the worker's last moment (sysfs_upload.c @ 2b1333b8): every revision uses it.
    'upload-not-wedged': 'expected-violation',
    // The merged kernel checks neither CPUs nor slots: the policy's choice can still lose TDs.
    'policy-update-keeps-tds': 'expected-violation',
    // A tool written for v2 looks for seamldr_upload and seamldr/version, renamed in v4/v8 (spec §2.7).
    'tool-finds-interface': 'expected-violation',
    'policy-picks-accepted': 'holds',
  },
};
