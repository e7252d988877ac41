// v2 with the v3-v10 answer to updates during a TD build: TDH.SYS.SHUTDOWN with
// AVOID_COMPAT_SENSITIVE, -EBUSY read as device-busy. The design dropped before the merge.
import type { RevisionRecord } from './record.ts';
import { V2 } from './v2.ts';

export const COMPAT: RevisionRecord = {
  name: 'compat',
  title: 'v2 + v3-v10 compat-sensitive handling',
  date: '2026-05-20',
  source: 'v2 plus "x86/virt/tdx: Avoid updates during update-sensitive operations" (v3-v10) [T-v10 p22]',
  kernel: { ...V2.kernel, name: 'compat', title: 'v2 + v3-v10 compat-sensitive handling', avoidCompat: true, errorMap: 'compat' },
  contract: { ...V2.contract, avoidCompat: true, deviceBusyError: true },
  checks: { ...V2.checks, compatModules: true },
  verdicts: {
    'no-td-loss-with-offline-cpu': 'holds',
    'no-td-loss-without-slots': 'holds',
    'td-build-measurement-intact': 'holds',
    // device-busy is harmless, but firmware-invalid still covers fatal and harmless failures.
    'error-tells-fatal': 'expected-violation',
    'version-tells-fatal': 'holds',
    // fw_upload's refused load in the worker's last moment (sysfs_upload.c @ 2b1333b8): every revision uses it.
    'upload-not-wedged': 'expected-violation',
    'policy-update-keeps-tds': 'holds',
    'tool-finds-interface': 'holds',
    // AVOID_COMPAT_SENSITIVE makes every module without UPDATE_COMPAT (all of the mapping) refuse.
    'policy-picks-accepted': 'expected-violation',
  },
};
