// Tests for impl/kernel/hotplug.ts: cpu_down/cpu_up against cpus_read_lock (spec §3.6), the
// boot CPU, and the TDX online callback before, during and after an update — in particular
// onlining after a lost update works only if the new module reached SYSINIT_DONE (§3.6 "After a
// failed post-shutdown update").
import { describe, expect, it } from 'vitest';
import { SEAMLDR_EUNSPECERR, TDH, TDX_SYS_BUSY, TDX_SYS_SHUTDOWN, TDX_SEAMCALL_VMFAILINVALID } from '../../../impl/firmware/abi.ts';
import { EBUSY, EIO, ENODEV } from '../../../impl/kernel/errno.ts';
import { cpuDown, cpuUp } from '../../../impl/kernel/hotplug.ts';
import { getTdxSysInfoVersion } from '../../../impl/kernel/tdx.ts';
import { runnableTasks, spawn, stepTask, wakeUp } from '../../../impl/kernel/sched.ts';
import { ackOrder, boot, calls, events, imageRef, installRef, runBody, runTasks } from './helpers.ts';

describe('cpu_down', () => {
  it('offlines a CPU, records it, and linearizes with result 0', () => {
    const h = boot(4);
    const ys = [] as unknown[];
    const t = spawn(h.sched, 'down', 2, cpuDown(h, 2));
    for (let y = stepTask(h.sched, t); y; y = stepTask(h.sched, t)) ys.push(y);
    expect(ys).toEqual([
      expect.objectContaining({ kind: 'wait', label: 'cpus_write_lock' }),
      { kind: 'lin', op: { name: 'cpu_offline', args: { cpu: 2 } }, result: 0 },
    ]);
    expect(h.platform.cpus.map((c) => c.online)).toEqual([true, true, false, true]);
    expect(events(h.trace, 'hotplug')).toEqual([{ kind: 'hotplug', cpu: 2, online: false, ret: 0 }]);
  });

  it('CPU 0 cannot go offline: -EBUSY', () => {
    const h = boot(2);
    runBody(h, cpuDown(h, 0));
    expect(h.platform.cpus[0]!.online).toBe(true);
    expect(events(h.trace, 'hotplug')).toEqual([{ kind: 'hotplug', cpu: 0, online: false, ret: -EBUSY }]);
  });

  it('waits while cpus_read_lock is held, and proceeds once it is dropped', () => {
    const h = boot(2);
    h.platform.hotplugReaders = 1;
    const t = spawn(h.sched, 'down', 1, cpuDown(h, 1));
    expect(stepTask(h.sched, t)).toMatchObject({ kind: 'wait', label: 'cpus_write_lock' });
    expect(runnableTasks(h.sched).includes(t)).toBe(false);
    expect(() => runTasks(h)).toThrow(/deadlock/);
    expect(h.platform.cpus[1]!.online).toBe(true);
    h.platform.hotplugReaders = 0;
    wakeUp(h.platform.hotplugWriter);
    expect(runnableTasks(h.sched).includes(t)).toBe(true);
    runTasks(h);
    expect(h.platform.cpus[1]!.online).toBe(false);
  });
});

describe('cpu_up and tdx_online_cpu', () => {
  it('onlining an online CPU does nothing', () => {
    const h = boot(2);
    const n = h.trace.length;
    runBody(h, cpuUp(h, 1));
    expect(calls(h.trace.slice(n))).toEqual([]);
    expect(events(h.trace, 'hotplug')).toEqual([{ kind: 'hotplug', cpu: 1, online: true, ret: 0 }]);
  });

  it('a CPU offlined and onlined again keeps its LP flag: no SEAMCALL', () => {
    const h = boot(2);
    runBody(h, cpuDown(h, 1));
    const n = h.trace.length;
    runBody(h, cpuUp(h, 1));
    expect(h.platform.cpus[1]!.online).toBe(true);
    expect(calls(h.trace.slice(n))).toEqual([]);
  });

  it('after a successful update, the LP flags CPU_INIT set carry a CPU through offline/online', () => {
    const h = boot(3);
    expect(installRef(h)).toBe(0);
    runBody(h, cpuDown(h, 2));
    const n = h.trace.length;
    runBody(h, cpuUp(h, 2));
    expect(calls(h.trace.slice(n))).toEqual([]);
    expect(h.platform.cpus[2]!.online).toBe(true);
    // ... and the new module knows the LP: metadata reads work on it.
    const version = { major: 0, minor: 0, update: 0 };
    expect(getTdxSysInfoVersion(h, 2, version)).toBe(0);
    expect(version).toEqual({ major: 1, minor: 5, update: 8 });
  });

  it('a lost update at INSTALL (SEAM_READY cleared): onlining fails with -ENODEV, then from the cache', () => {
    const h = boot(2);
    expect(installRef(h, imageRef(), { faults: { installFail: { cpu: 1, status: SEAMLDR_EUNSPECERR } } })).toBe(-EIO);
    expect(h.seam.seamReady).toBe(false);
    runBody(h, cpuDown(h, 1));
    const n = h.trace.length;
    runBody(h, cpuUp(h, 1));
    expect(calls(h.trace.slice(n))).toEqual([`TDH.SYS.INIT@1=0x${TDX_SEAMCALL_VMFAILINVALID.toString(16)}`]);
    expect(h.platform.cpus[1]!.online).toBe(false);
    expect(events(h.trace, 'hotplug').at(-1)).toEqual({ kind: 'hotplug', cpu: 1, online: true, ret: -ENODEV });
    const m = h.trace.length;
    runBody(h, cpuUp(h, 1));
    expect(calls(h.trace.slice(m))).toEqual([]);
    expect(events(h.trace, 'hotplug').at(-1)).toMatchObject({ ret: -ENODEV });
  });

  it('a lost update where the old module stays reachable in SYS_SHUTDOWN: onlining fails with -EIO', () => {
    const h = boot(2);
    // CPU 0 fails INSTALL before CPU 1 looks at the state, so CPU 1 aborts without calling
    // P-SEAMLDR: nobody opened a session and SEAM_READY is still set.
    const pick = ackOrder(h, 'CPU_INSTALL', [0, 1]);
    expect(installRef(h, imageRef(), { faults: { installFail: { cpu: 0, status: SEAMLDR_EUNSPECERR } }, pick })).toBe(-EIO);
    expect([h.seam.seamReady, h.seam.module!.sysState]).toEqual([true, 'SYS_SHUTDOWN']);
    runBody(h, cpuDown(h, 1));
    const n = h.trace.length;
    runBody(h, cpuUp(h, 1));
    expect(calls(h.trace.slice(n))).toEqual([`TDH.SYS.INIT@1=0x${TDX_SYS_SHUTDOWN.toString(16)}`]);
    expect(h.platform.cpus[1]!.online).toBe(false);
    expect(events(h.trace, 'hotplug').at(-1)).toMatchObject({ ret: -EIO });
  });

  it('a lost update at RUN_UPDATE (new module SYSINIT_DONE): onlining works, LP.INIT on the new module', () => {
    const h = boot(3);
    expect(installRef(h, imageRef(), { faults: { leafFail: { leaf: TDH.SYS_UPDATE, cpu: null, status: TDX_SYS_BUSY } } })).toBe(-EIO);
    runBody(h, cpuDown(h, 2));
    h.seam.module!.lpInit.delete(2); // an LP the new module has not seen yet
    h.tdx.lpInitialized[2] = false;
    const n = h.trace.length;
    runBody(h, cpuUp(h, 2));
    expect(calls(h.trace.slice(n))).toEqual(['TDH.SYS.LP.INIT@2=0x0']);
    expect(h.platform.cpus[2]!.online).toBe(true);
  });

  it('a lost update at LP.INIT: the CPU that failed can be brought up afterwards', () => {
    const h = boot(2);
    expect(installRef(h, imageRef(), { faults: { leafFail: { leaf: TDH.SYS_LP_INIT, cpu: 1, status: TDX_SYS_BUSY } } })).toBe(-EIO);
    expect(h.tdx.lpInitialized).toEqual([true, false]);
    runBody(h, cpuDown(h, 1));
    const n = h.trace.length;
    runBody(h, cpuUp(h, 1));
    expect(calls(h.trace.slice(n))).toEqual(['TDH.SYS.LP.INIT@1=0x0']);
    expect(h.platform.cpus[1]!.online).toBe(true);
  });

  it('a failed TDH.SYS.INIT at update time is what every later online gets (cached sysinit_ret)', () => {
    const h = boot(3);
    expect(installRef(h, imageRef(), { faults: { leafFail: { leaf: TDH.SYS_INIT, cpu: null, status: TDX_SYS_BUSY } } })).toBe(-EIO);
    for (const cpu of [1, 2]) {
      runBody(h, cpuDown(h, cpu));
      const n = h.trace.length;
      runBody(h, cpuUp(h, cpu));
      expect(calls(h.trace.slice(n))).toEqual([]);
      expect(events(h.trace, 'hotplug').at(-1)).toEqual({ kind: 'hotplug', cpu, online: true, ret: -EIO });
    }
    expect(h.platform.cpus.map((c) => c.online)).toEqual([true, false, false]);
    expect(ENODEV).toBe(19);
  });
});
