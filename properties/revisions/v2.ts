// v2 of "Runtime TDX Module update support" (Chao Gao, 2025-09-30), the series this project
// started from, with its review bugs fixed (the seeded faults put them back).
import type { RevisionRecord } from './record.ts';

export const V2: RevisionRecord = {
  name: 'v2',
  title: 'v2, 2025-09-30',
  date: '2025-09-30',
  source: '[PATCH v2 00/21] Runtime TDX Module update support, 20251001025442.427697-1-chao.gao@intel.com',
  kernel: {
    name: 'v2',
    title: 'v2, 2025-09-30',
    cpuOnlinePrecheck: true,
    slotsPrecheck: true,
    imageFormat: 'v1',
    avoidCompat: false,
    errorMap: 'v2',
    fwName: 'seamldr_upload',
    seamldrAttrs: { dir: 'seamldr/', mode: 0o444 },
    cancelSupport: true,
    handoffHvSource: 'boot-cache',
    lpResetScope: 'online',
    refreshScope: 'version+handoff',
    seamldrEntropyRetry: true,
    // v2 had no lock here (spec §2.7); the record fixes its review bugs, and this is B23's fix.
    versionLockout: true,
    vmcsErratumGuard: false,
  },
  contract: {
    cpuOnlinePrecheck: true,
    slotsPrecheck: true,
    entropyRetry: true,
    currentHandoffHv: true,
    handoffHvReadAtShutdown: false,
    avoidCompat: false,
    deviceBusyError: false,
    cancelSupport: true,
    vmcsErratumGuard: false,
    sysfsAbi: 'v2',
  },
  checks: { imageFormat: 'v1', lpResetAllCpus: false, handoffFromModule: false, compatModules: false },
  verdicts: {
    'no-td-loss-with-offline-cpu': 'holds',
    'no-td-loss-without-slots': 'holds',
    // v2 passes no AVOID_COMPAT_SENSITIVE: an update during a TD build goes through (spec §3.7).
    'td-build-measurement-intact': 'expected-violation',
    // Every failure reads firmware-invalid (spec §4.3).
    'error-tells-fatal': 'expected-violation',
    'version-tells-fatal': 'holds',
    // fw_upload's refused load in the worker's last moment (sysfs_upload.c @ 2b1333b8): every revision uses it.
    'upload-not-wedged': 'expected-violation',
    'policy-update-keeps-tds': 'holds',
    'tool-finds-interface': 'holds',
    'policy-picks-accepted': 'holds',
  },
};
