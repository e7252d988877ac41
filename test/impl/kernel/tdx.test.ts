// Tests for impl/kernel/tdx.ts: tdx_cpu_enable and the cached TDH.SYS.INIT result, boot-time
// tdx_enable (and a boot fault on its configuration leaves), tdx_module_shutdown (handoff version source, which LP flags are reset, I-8, I-12),
// tdx_module_run_update (and the v2 int truncation), the post-update refresh (spec §2.5, §2.7),
// and the seeded bugs stale-handoff-hv (B9), run-update-int-truncation (v2 p19), no-avoid-compat
// (B29), lp-reset-online-only (B7) and retry-skips-shutdown (B31).
import { describe, expect, it } from 'vitest';
import {
  AVOID_COMPAT_SENSITIVE,
  TDH,
  TDX_INCOMPATIBLE_SEAM_CAPABILITIES,
  TDX_OPERAND_INVALID,
  OPERAND_ID_RCX,
  TDX_SYS_BUSY,
  TDX_SYS_INVALID_HANDOFF,
  TDX_SYS_SHUTDOWN,
  TDX_SEAMCALL_VMFAILINVALID,
} from '../../../impl/firmware/abi.ts';
import { EIO, ENODEV } from '../../../impl/kernel/errno.ts';
import { COMPAT_KERNEL as COMPAT, V2_KERNEL as V2, UPSTREAM_KERNEL as UPSTREAM } from '../../../properties/revisions/index.ts';
import {
  clearedModuleState,
  getTdxSysInfoVersion,
  tdxCpuEnable,
  tdxGetSysinfo,
  tdxModuleRunUpdate,
  tdxModuleRunUpdateV2,
  tdxModuleShutdown,
  tdxModuleShutdownV2,
  tdxRefreshAfterUpdate,
} from '../../../impl/kernel/tdx.ts';
import { sysfsFiles, versionShow } from '../../../impl/kernel/tdx_host.ts';
import {
  boot,
  calls,
  callsOf,
  hostData,
  imageRef,
  installRef,
  lastUpdate,
  linResults,
  readVersion as readVersionCmd,
  run,
  runBody,
  runTasks,
  scenario,
  upload,
  work,
} from './helpers.ts';
import { runnableTasks, spawn, stepTask } from '../../../impl/kernel/sched.ts';
import type { Host } from '../../../impl/host.ts';

const fresh = { ...V2, handoffHvSource: 'read-fresh' as const };
/** tdx_cpu_enable() on `cpu`, run as a task to its end. */
const enable = (h: Host, cpu: number): number => runBody(h, tdxCpuEnable(h, cpu), { cpu });

describe('boot: tdx_enable', () => {
  it('initializes the BIOS-loaded module on every CPU and caches version, features and MODULE_HV', () => {
    const h = boot(3, { host: { boot: { release: '1.5.06', moduleHv: 3, minUpdateHv: 1, noDowngrade: false } } });
    expect(calls(h.trace).filter((c) => !c.startsWith('TDH.SYS.RD'))).toEqual([
      'TDH.SYS.INIT@0=0x0',
      'TDH.SYS.LP.INIT@0=0x0',
      'TDH.SYS.LP.INIT@1=0x0',
      'TDH.SYS.LP.INIT@2=0x0',
      '45@0=0x0',
      '31@0=0x0',
      'SEAMLDR.INFO@0=0x0',
    ]);
    expect(h.tdx.state).toEqual({ initialized: true, sysinitDone: true, sysinitRet: 0 });
    expect(h.tdx.lpInitialized).toEqual([true, true, true]);
    expect(h.tdx.sysinfo).toEqual({ version: { major: 1, minor: 5, update: 6 }, features0: 0x2e1f0fbfn, moduleHv: 3 });
    expect(tdxGetSysinfo(h)).toBe(h.tdx.sysinfo);
    expect(h.seam.module!.sysState).toBe('SYS_READY');
  });

  it('tdx_get_sysinfo() is NULL once the module is not initialized', () => {
    const h = boot(1);
    h.tdx.state.initialized = false;
    expect(tdxGetSysinfo(h)).toBeNull();
  });

  it.each([
    ['SYS_CONFIG', ['45@0=0x8000020200000000'], 'SYSINIT_DONE'],
    ['SYS_KEY_CONFIG', ['45@0=0x0', '31@0=0x8000020200000000'], 'SYSCONFIG_DONE'],
  ] as const)('a boot fault on %s: tdx_enable fails, TDX stays off, tdx_host creates no device, every CPU keeps its LP flag', (bootFault, config, sysState) => {
    const h = boot(3, { host: { bootFault } });
    expect(calls(h.trace).filter((c) => /^(45|31)@/.test(c))).toEqual(config);
    expect(h.tdx.state).toEqual({ initialized: false, sysinitDone: true, sysinitRet: 0 });
    expect(h.tdx.lpInitialized).toEqual([true, true, true]);
    expect(tdxGetSysinfo(h)).toBeNull();
    expect([h.tdxHost.fw, h.tdxHost.seamldrAttrsVisible]).toEqual([null, false]);
    expect(h.seam.module!.sysState).toBe(sysState);
    expect(h.seam.faults.leafFail).toBeNull();
    expect(versionShow(h)).toBe(-6);
    // tdx_host_init() gave up before creating the device: userspace finds no file at all.
    expect([h.tdxHost.device, sysfsFiles(h)]).toEqual([false, []]);
  });
});

describe('tdx_cpu_enable and try_init_module_global', () => {
  it('returns 0 without a SEAMCALL when the LP is already initialized', () => {
    const h = boot(2);
    const n = h.trace.length;
    expect(enable(h, 1)).toBe(0);
    expect(h.trace.length).toBe(n);
  });

  it('returns the cached TDH.SYS.INIT error on every CPU without another TDH.SYS.INIT', () => {
    const h = boot(4);
    h.tdx.state = { initialized: false, sysinitDone: true, sysinitRet: -ENODEV };
    h.tdx.lpInitialized = [false, false, false, false];
    const n = h.trace.length;
    expect([0, 1, 2, 3].map((c) => enable(h, c))).toEqual([-ENODEV, -ENODEV, -ENODEV, -ENODEV]);
    expect(h.trace.length).toBe(n);
    expect(h.tdx.lpInitialized).toEqual([false, false, false, false]);
  });

  it('one failing TDH.SYS.INIT during an update: the error is cached and every CPU gets it', () => {
    const h = boot(4);
    const ret = installRef(h, imageRef(), { faults: { leafFail: { leaf: TDH.SYS_INIT, cpu: null, status: TDX_INCOMPATIBLE_SEAM_CAPABILITIES } } });
    expect(ret).toBe(-EIO);
    expect(callsOf(lastUpdate(h.trace), TDH.SYS_INIT).map((e) => e.status)).toEqual([TDX_INCOMPATIBLE_SEAM_CAPABILITIES]);
    expect(h.tdx.state).toMatchObject({ sysinitDone: true, sysinitRet: -EIO });
    expect(h.log.filter((l) => l.startsWith('SEAMCALL (0x21)'))).toEqual(['SEAMCALL (0x21) failed: 0xc000050d00000000']);
    // Every CPU, whenever it asks (here: as the online callback would), gets the same error.
    const n = h.trace.length;
    expect([0, 1, 2, 3].map((c) => enable(h, c))).toEqual([-EIO, -EIO, -EIO, -EIO]);
    expect(h.trace.length).toBe(n);
  });

  it('VMfailInvalid on TDH.SYS.INIT is -ENODEV, logged as "module not loaded", not as a SEAMCALL failure', () => {
    const h = boot(2);
    h.tdx.state = { initialized: false, sysinitDone: false, sysinitRet: 0 };
    h.tdx.lpInitialized = [false, false];
    h.seam.seamReady = false;
    expect(enable(h, 1)).toBe(-ENODEV);
    expect(calls(h.trace.slice(-1))).toEqual([`TDH.SYS.INIT@1=0x${TDX_SEAMCALL_VMFAILINVALID.toString(16)}`]);
    expect(h.log).toEqual(['virt/tdx: module not loaded']);
    expect(h.tdx.state).toMatchObject({ sysinitDone: true, sysinitRet: -ENODEV });
  });

  it('an LP.INIT failure leaves that CPU uninitialized and is not cached', () => {
    const h = boot(2);
    h.seam.module!.lpInit.delete(1);
    h.tdx.lpInitialized[1] = false;
    h.seam.faults.leafFail = { leaf: TDH.SYS_LP_INIT, cpu: 1, status: TDX_SYS_BUSY };
    expect(enable(h, 1)).toBe(-EIO);
    expect(h.tdx.lpInitialized[1]).toBe(false);
    // The module is SYS_READY now, so a second LP.INIT is refused as not pending.
    expect(enable(h, 1)).toBe(-EIO);
    expect(calls(h.trace.slice(-2))).toEqual(['TDH.SYS.LP.INIT@1=0x8000020200000000', 'TDH.SYS.LP.INIT@1=0xc000050b00000000']);
  });
});

describe('tdx_module_shutdown (spec §2.5 step 1, §2.7)', () => {
  it('seed: RCX is the boot-time cached MODULE_HV, no TDH.SYS.RD is issued', () => {
    const h = boot(2, { host: { boot: { release: '1.5.06', moduleHv: 2, minUpdateHv: 0, noDowngrade: false } } });
    const n = h.trace.length;
    expect(tdxModuleShutdownV2(h, 0)).toBe(0);
    expect(calls(h.trace.slice(n))).toEqual(['TDH.SYS.SHUTDOWN@0=0x0']);
    expect(callsOf(h.trace.slice(n), TDH.SYS_SHUTDOWN)[0]!.rcx).toBe(2n);
    expect(h.seam.module!.sysState).toBe('SYS_SHUTDOWN');
    expect(h.seam.handoff).toMatchObject({ valid: true, hv: 2 });
  });

  it('merged: MODULE_HV is read fresh with TDH.SYS.RD just before the shutdown', () => {
    const h = boot(2, { rev: fresh, host: { boot: { release: '1.5.06', moduleHv: 2, minUpdateHv: 0, noDowngrade: false } } });
    h.tdx.sysinfo.moduleHv = 7; // a stale cache must not matter
    const n = h.trace.length;
    expect(tdxModuleShutdown(h, 0)).toBe(0);
    const ev = h.trace.slice(n);
    expect(calls(ev)).toEqual(['TDH.SYS.RD@0=0x0', 'TDH.SYS.SHUTDOWN@0=0x0']);
    expect(callsOf(ev, TDH.SYS_SHUTDOWN)[0]!.rcx).toBe(2n);
  });

  it('merged: when MODULE_HV cannot be read, no shutdown is attempted and nothing changes (I-12)', () => {
    const h = boot(2, { rev: fresh });
    h.seam.faults.leafFail = { leaf: TDH.SYS_RD, cpu: null, status: TDX_SYS_BUSY };
    const n = h.trace.length;
    expect(tdxModuleShutdown(h, 0)).toBe(-EIO);
    expect(calls(h.trace.slice(n))).toEqual(['TDH.SYS.RD@0=0x8000020200000000']);
    expect(h.tdx.state).toEqual({ initialized: true, sysinitDone: true, sysinitRet: 0 });
    expect(h.seam.module!.sysState).toBe('SYS_READY');
  });

  it('seed resets tdx_lp_initialized for online CPUs only (v2 p15), the module state entirely', () => {
    const h = boot(4);
    h.platform.cpus[3]!.online = false;
    expect(tdxModuleShutdownV2(h, 0)).toBe(0);
    expect(h.tdx.state).toEqual({ initialized: false, sysinitDone: false, sysinitRet: 0 });
    expect(h.tdx.lpInitialized).toEqual([false, false, false, true]);
  });

  it('v6+ resets every possible CPU', () => {
    const h = boot(4, { rev: { ...V2, lpResetScope: 'possible' } });
    h.platform.cpus[3]!.online = false;
    expect(tdxModuleShutdownV2(h, 0)).toBe(0);
    expect(h.tdx.lpInitialized).toEqual([false, false, false, false]);
  });

  it('a refused shutdown (bad handoff version) leaves the kernel state alone (I-8); v2 does not log it', () => {
    const h = boot(2);
    h.tdx.sysinfo.moduleHv = 5; // > the module's MODULE_HV 0
    expect(tdxModuleShutdownV2(h, 0)).toBe(-EIO);
    expect(calls(h.trace.slice(-1))).toEqual([`TDH.SYS.SHUTDOWN@0=0x${(TDX_OPERAND_INVALID | OPERAND_ID_RCX).toString(16)}`]);
    expect(h.log).toEqual([]); // "log TDH.SYS.SHUTDOWN failure" came in v7 (spec §2.7)
    expect(h.tdx.state).toEqual({ initialized: true, sysinitDone: true, sysinitRet: 0 });
    expect(h.tdx.lpInitialized).toEqual([true, true]);
    expect(h.seam.module!.sysState).toBe('SYS_READY');
    expect(versionShow(h)).toBe('1.5.06');
  });
});

describe('tdx_module_run_update (spec §2.5 step 4)', () => {
  it('fails with -EIO on a module that is not SYSINIT_DONE, and initialized stays false', () => {
    const h = boot(2);
    expect(tdxModuleShutdown(h, 0)).toBe(0);
    expect(tdxModuleRunUpdate(h, 0)).toBe(-EIO);
    expect(calls(h.trace.slice(-1))).toEqual([`TDH.SYS.UPDATE@0=0x${TDX_SYS_SHUTDOWN.toString(16)}`]);
    expect(h.tdx.state.initialized).toBe(false);
  });

  it('v2 int truncation: a status with a zero low half reads as success (seeded bug run-update-int-truncation)', () => {
    const h = boot(2, { bugs: ['run-update-int-truncation'] });
    expect(tdxModuleShutdown(h, 0)).toBe(0);
    h.seam.faults.leafFail = { leaf: TDH.SYS_UPDATE, cpu: null, status: TDX_SYS_INVALID_HANDOFF };
    // Let the dispatcher admit TDH.SYS.UPDATE, so that the injected status is what comes back.
    h.seam.module!.sysState = 'SYSINIT_DONE';
    expect(tdxModuleRunUpdateV2(h, 0)).toBe(0);
    expect(h.tdx.state.initialized).toBe(true);
  });

  it('v2 int truncation does not hide a status with a non-zero low half', () => {
    const h = boot(2, { bugs: ['run-update-int-truncation'] });
    expect(tdxModuleShutdown(h, 0)).toBe(0);
    h.seam.module!.sysState = 'SYSINIT_DONE';
    h.seam.faults.leafFail = { leaf: TDH.SYS_UPDATE, cpu: null, status: TDX_OPERAND_INVALID | OPERAND_ID_RCX };
    expect(tdxModuleRunUpdateV2(h, 0)).toBe(-EIO);
    expect(h.tdx.state.initialized).toBe(false);
  });

  it('in a whole update, the truncation turns a lost update into a "success" on a SYSINIT_DONE module', () => {
    const h = boot(2, { bugs: ['run-update-int-truncation'] });
    const ret = installRef(h, imageRef(), { faults: { leafFail: { leaf: TDH.SYS_UPDATE, cpu: null, status: TDX_SYS_INVALID_HANDOFF } } });
    expect(ret).toBe(0);
    expect(work(lastUpdate(h.trace)).slice(-1)).toEqual(['RUN_UPDATE@0=0']);
    expect(h.seam.module!.sysState).toBe('SYSINIT_DONE');
    expect(h.tdx.state.initialized).toBe(true);
    expect(versionShow(h)).toBe('1.5.08'); // the refresh reads the new, never-ready module
  });
});

describe('post-update refresh (spec §2.6/§2.7 "Post-update")', () => {
  it('seed refreshes the version and the handoff version', () => {
    const h = boot(2);
    expect(installRef(h, imageRef('1.5.09', { moduleHv: 3 }))).toBe(0);
    expect(h.tdx.sysinfo).toMatchObject({ version: { major: 1, minor: 5, update: 9 }, moduleHv: 3 });
    expect(h.tdx.sysinfo.features0).toBe(0x2e1f0fbfn); // features stay the boot module's (I-11)
  });

  it('merged scope refreshes the version only', () => {
    const h = boot(2, { rev: { ...V2, refreshScope: 'version' } });
    expect(installRef(h, imageRef('1.5.09', { moduleHv: 3 }))).toBe(0);
    expect(h.tdx.sysinfo).toMatchObject({ version: { major: 1, minor: 5, update: 9 }, moduleHv: 0 });
  });

  it('a failed version re-read is only warned about (B12)', () => {
    const h = boot(2);
    h.seam.faults.leafFail = { leaf: TDH.SYS_RD, cpu: null, status: TDX_SYS_BUSY };
    tdxRefreshAfterUpdate(h, 0);
    expect(h.log).toEqual(['WARN: failed to refresh TDX module version']);
    expect(h.tdx.sysinfo.version).toEqual({ major: 1, minor: 5, update: 6 });
  });

  it('get_tdx_sys_info_version reads minor, major, update and stops at the first failing field', () => {
    const h = boot(1);
    const out = { major: 9, minor: 9, update: 9 };
    h.seam.faults.leafFail = { leaf: TDH.SYS_RD, cpu: null, status: TDX_SYS_BUSY };
    const n = h.trace.length;
    expect(getTdxSysInfoVersion(h, 0, out)).toBe(-EIO);
    expect(out).toEqual({ major: 9, minor: 9, update: 9 });
    expect(callsOf(h.trace.slice(n), TDH.SYS_RD).map((e) => e.status)).toEqual([TDX_SYS_BUSY]);
    expect(getTdxSysInfoVersion(h, 0, out)).toBe(0);
    expect(out).toEqual({ major: 1, minor: 5, update: 6 });
  });
});

describe('seeded bug stale-handoff-hv (B9)', () => {
  // Boot module A: MODULE_HV 1. Module B: MODULE_HV 2, accepts 1..2 on import, no downgrade.
  const hostA = { boot: { release: '1.5.06', moduleHv: 1, minUpdateHv: 0, noDowngrade: false } };
  const B = imageRef('1.5.08', { moduleHv: 2, minUpdateHv: 1, noDowngrade: true });
  const C = imageRef('1.5.09', { moduleHv: 2, minUpdateHv: 1, noDowngrade: true });

  it('with the bug the second update asks B for handoff version 1 and is refused for good', () => {
    const h = boot(2, { bugs: ['stale-handoff-hv'], host: hostA });
    expect(installRef(h, B)).toBe(0);
    expect(h.tdx.sysinfo.moduleHv).toBe(1);
    expect(installRef(h, C)).toBe(-EIO);
    const w = lastUpdate(h.trace);
    expect(callsOf(w, TDH.SYS_SHUTDOWN).map((e) => [e.rcx, e.status])).toEqual([[1n, TDX_OPERAND_INVALID | OPERAND_ID_RCX]]);
    expect(versionShow(h)).toBe('1.5.08');
    expect(installRef(h, C)).toBe(-EIO); // "blocks updates forever"
  });

  it('without the bug the second update passes handoff version 2 and succeeds', () => {
    const h = boot(2, { host: hostA });
    expect(installRef(h, B)).toBe(0);
    expect(h.tdx.sysinfo.moduleHv).toBe(2);
    expect(installRef(h, C)).toBe(0);
    expect(callsOf(lastUpdate(h.trace), TDH.SYS_SHUTDOWN)[0]!.rcx).toBe(2n);
    expect(versionShow(h)).toBe('1.5.09');
  });

  it('the merged read-fresh source is immune to the bug', () => {
    const h = boot(2, { rev: fresh, bugs: ['stale-handoff-hv'], host: hostA });
    expect(installRef(h, B)).toBe(0);
    expect(installRef(h, C)).toBe(0);
    expect(callsOf(lastUpdate(h.trace), TDH.SYS_RD).map((e) => e.status)).toEqual([0n]); // the fresh MODULE_HV read
    expect(callsOf(lastUpdate(h.trace), TDH.SYS_SHUTDOWN)[0]!.rcx).toBe(2n);
  });

  it('through the harness: model and implementation agree on both updates without the bug', () => {
    const r = run(scenario(hostData(2, hostA), [upload(B), upload(C), readVersionCmd]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([0, 0]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.09']);
  });
});

describe('seeded bug no-avoid-compat (B29)', () => {
  const compatBoot = { boot: { release: '1.5.24', moduleHv: 0, minUpdateHv: 0, noDowngrade: false } };
  it('compat asks TDH.SYS.SHUTDOWN to avoid compat-sensitive moments (RCX bit 16); with B29 it does not', () => {
    const ok = boot(2, { rev: COMPAT, host: compatBoot });
    expect(tdxModuleShutdownV2(ok, 0)).toBe(0);
    expect(callsOf(ok.trace, TDH.SYS_SHUTDOWN)[0]!.rcx).toBe(AVOID_COMPAT_SENSITIVE);
    const bug = boot(2, { rev: COMPAT, host: compatBoot, bugs: ['no-avoid-compat'] });
    expect(tdxModuleShutdownV2(bug, 0)).toBe(0);
    expect(callsOf(bug.trace, TDH.SYS_SHUTDOWN)[0]!.rcx).toBe(0n);
  });
});

describe('seeded bug lp-reset-online-only (B7)', () => {
  it('upstream with B7 keeps the flag of an offline CPU, so tdx_cpu_enable there skips TDH.SYS.LP.INIT later', () => {
    const h = boot(4, { rev: UPSTREAM, bugs: ['lp-reset-online-only'] });
    h.platform.cpus[3]!.online = false;
    expect(tdxModuleShutdown(h, 0)).toBe(0);
    expect(h.tdx.lpInitialized).toEqual([false, false, false, true]);
    const n = h.trace.length;
    expect(enable(h, 3)).toBe(0);
    expect(h.trace.length).toBe(n); // no SEAMCALL: the new module never sees LP 3
  });
});

describe('seeded bug retry-skips-shutdown (B31)', () => {
  it('after a destructive failure the merged kernel refuses a retry at TDH.SYS.SHUTDOWN; with B31 it issues none and reports success', () => {
    for (const bugs of [[], ['retry-skips-shutdown'] as const]) {
      const h = boot(2, { rev: UPSTREAM, bugs: [...bugs] });
      expect(tdxModuleShutdown(h, 0)).toBe(0);
      h.seam.module!.sysState = 'SYSINIT_DONE'; // the new module never reached SYS_READY
      h.tdx.state.sysinitDone = true;
      const n = h.trace.length;
      expect(tdxModuleShutdown(h, 0)).toBe(bugs.length ? 0 : -EIO);
      expect(callsOf(h.trace.slice(n), TDH.SYS_SHUTDOWN)).toHaveLength(bugs.length ? 0 : 1);
    }
  });
});

describe('races inside CPU_INIT: sysinit_lock and the cached result (issue 14 part 4)', () => {
  it('a CPU that comes while another holds sysinit_lock waits, then takes the cached result: one TDH.SYS.INIT', () => {
    const h = boot(2);
    h.tdx.state = clearedModuleState();
    h.tdx.lpInitialized = [false, false];
    const rets: number[] = [];
    const [a, b] = [0, 1].map((cpu) =>
      spawn(
        h.sched,
        `cpu${cpu}`,
        cpu,
        (function* () {
          rets[cpu] = yield* tdxCpuEnable(h, cpu);
        })(),
      ),
    );
    expect(stepTask(h.sched, a!)).toEqual({ kind: 'step', label: 'TDH.SYS.INIT done, under sysinit_lock' });
    expect(h.sysinitLock.owner).toBe(0);
    expect(h.tdx.state.sysinitDone).toBe(false); // the result is not cached yet
    expect(stepTask(h.sched, b!)).toMatchObject({ kind: 'wait', label: 'sysinit_lock' });
    expect(runnableTasks(h.sched).includes(b!)).toBe(false);
    runTasks(h);
    // The running module is SYS_READY, so TDH.SYS.INIT fails; both CPUs report that one result.
    expect(rets).toEqual([-EIO, -EIO]);
    expect(
      callsOf(h.trace, TDH.SYS_INIT)
        .slice(-1)
        .map((e) => e.cpu),
    ).toEqual([0]);
    expect(callsOf(h.trace, TDH.SYS_INIT)).toHaveLength(2); // boot's and this one
    expect(h.sysinitLock.owner).toBeNull();
  });
});
