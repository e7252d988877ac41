// Each switch of a kernel revision (impl/kernel/revision.ts), under both settings: the same
// scenario on V2 with only that switch flipped shows the behaviour it controls.
import { describe, expect, it } from 'vitest';
import { TDH } from '../../../impl/firmware/abi.ts';
import { type Revision } from '../../../impl/kernel/revision.ts';
import { V2_KERNEL as V2, UPSTREAM_KERNEL as UPSTREAM } from '../../../properties/revisions/index.ts';
import { sysfsFiles } from '../../../impl/kernel/tdx_host.ts';
import { bootHost } from '../../../impl/host.ts';
import { hostConfig } from '../../../properties/scenario.ts';
import { cancel, hostData, imageRef, linResults, offline, range, readSeamldr, readVersion, run, scenario, tdAddPage, tdCreate, upload } from './helpers.ts';

const flip = (over: Partial<Revision>): Revision => ({ ...V2, ...over });
const lins = (r: ReturnType<typeof run>, op: string) => linResults(r.host, op);

describe('revision switches, each under both settings', () => {
  it('cpuOnlinePrecheck: an offline CPU refuses the update (-EBUSY), or the update runs and loses the module', () => {
    const s = scenario(hostData(2), [offline(1), upload()]);
    for (const [rev, ret, initialized] of [
      [V2, -16, true],
      [flip({ cpuOnlinePrecheck: false }), -19, false],
    ] as const) {
      const r = run(s, { rev });
      expect(r.violation).toBeNull();
      expect(lins(r, 'update')).toEqual([ret]);
      expect(r.host.tdx.state.initialized).toBe(initialized);
    }
  });

  it('slotsPrecheck: with no slots left the second update is refused (-ENOSPC), or loses the module', () => {
    const s = scenario(hostData(1, { slots: 1 }), [upload(), upload(imageRef('1.5.09'))]);
    for (const [rev, ret] of [
      [V2, -28],
      [flip({ slotsPrecheck: false }), -5],
    ] as const) {
      const r = run(s, { rev });
      expect(r.violation).toBeNull();
      expect(lins(r, 'update')).toEqual([0, ret]);
    }
  });

  it('imageFormat: each kernel takes its own container and refuses the other with -EINVAL', () => {
    for (const rev of [V2, flip({ imageFormat: 'v2' })]) {
      const own = rev.imageFormat,
        other = own === 'v1' ? 'v2' : 'v1';
      const r = run(scenario(hostData(1), [upload(imageRef('1.5.08', { format: other })), upload(imageRef('1.5.08', { format: own }))]), { rev });
      expect(r.violation).toBeNull();
      expect(lins(r, 'update')).toEqual([-22, 0]);
    }
  });

  it('avoidCompat: an UPDATE_COMPAT module refuses the update during a TD build (device-busy), or it goes through', () => {
    const s = scenario(hostData(1, { boot: { release: '1.5.24', moduleHv: 0, minUpdateHv: 0, noDowngrade: false } }), [
      tdCreate(0),
      tdAddPage(0, 1, 0),
      upload(imageRef('1.5.25')),
    ]);
    const on = run(s, { rev: flip({ avoidCompat: true, errorMap: 'compat' }) });
    const off = run(s, { rev: V2 });
    expect([on.violation, off.violation]).toEqual([null, null]);
    expect([lins(on, 'update'), lins(on, 'fw_done')]).toEqual([[-16], ['transferring:device-busy']]);
    expect([lins(off, 'update'), lins(off, 'fw_done')]).toEqual([[0], ['']]);
  });

  it('errorMap: -EBUSY reads device-busy only with the v8-v10 map', () => {
    const s = scenario(hostData(2), [offline(1), upload()]);
    expect(lins(run(s, { rev: flip({ errorMap: 'compat' }) }), 'fw_done')).toEqual(['transferring:device-busy']);
    expect(lins(run(s, { rev: V2 }), 'fw_done')).toEqual(['transferring:firmware-invalid']);
  });

  it('fwName and seamldrAttrs: the sysfs files and their modes', () => {
    const files = (rev: Revision) => sysfsFiles(bootHost(hostConfig(hostData(1)), rev, new Set()));
    expect(files(V2)).toEqual([
      { path: '/sys/devices/faux/tdx_host/version', mode: 0o444 },
      { path: '/sys/devices/faux/tdx_host/seamldr/version', mode: 0o444 },
      { path: '/sys/devices/faux/tdx_host/seamldr/num_remaining_updates', mode: 0o444 },
      { path: '/sys/class/firmware/seamldr_upload/loading', mode: 0o644 },
      { path: '/sys/class/firmware/seamldr_upload/status', mode: 0o444 },
      { path: '/sys/class/firmware/seamldr_upload/error', mode: 0o444 },
    ]);
    expect(files(flip({ fwName: 'tdx_module', seamldrAttrs: UPSTREAM.seamldrAttrs }))).toEqual([
      { path: '/sys/devices/faux/tdx_host/version', mode: 0o444 },
      { path: '/sys/devices/faux/tdx_host/seamldr_version', mode: 0o400 },
      { path: '/sys/devices/faux/tdx_host/num_remaining_updates', mode: 0o400 },
      { path: '/sys/class/firmware/tdx_module/loading', mode: 0o644 },
      { path: '/sys/class/firmware/tdx_module/status', mode: 0o444 },
      { path: '/sys/class/firmware/tdx_module/error', mode: 0o444 },
    ]);
  });

  it.each([
    ['fwName', { fwName: 'tdx_module' }],
    ['seamldrAttrs', { seamldrAttrs: UPSTREAM.seamldrAttrs }],
  ] as const)("%s: the operator's tool written for v2 finds the interface, or not", (_n, over) => {
    const s = scenario(hostData(2), [{ kind: 'tool_update' }]);
    const outcome = (rev: Revision) => (linResults(run(s, { rev }).host, 'tool_update')[0] as { outcome: string }).outcome;
    expect(outcome(V2)).toBe('applied');
    expect(outcome(flip(over))).toBe('no-interface');
  });

  it('cancelSupport: a cancel after prepare stops the upload (user-abort), or is a no-op', () => {
    // Schedule: run the worker through prepare, then issue the cancel before write looks.
    const s = scenario(hostData(1), [upload(), cancel], [0, 0, 0, 0, 1]);
    const on = run(s, { rev: V2 }),
      off = run(s, { rev: flip({ cancelSupport: false }) });
    expect([on.violation, off.violation]).toEqual([null, null]);
    expect(lins(on, 'fw_done')).toEqual(['transferring:user-abort']);
    expect(lins(off, 'fw_done')).toEqual(['']);
  });

  it('the lead is CPU 0 on every revision (no switch): SHUTDOWN and RUN_UPDATE run there only', () => {
    for (const rev of [V2, UPSTREAM]) {
      const t = run(scenario(hostData(4), [upload(imageRef('1.5.08', { format: rev.imageFormat }))]), { rev }).host.trace;
      const leadOnly = t.filter((e) => e.kind === 'update_work' && (e.state === 'SHUTDOWN' || e.state === 'RUN_UPDATE'));
      expect(leadOnly.map((e) => (e as { cpu: number }).cpu)).toEqual([0, 0]);
    }
  });

  it('handoffHvSource: the handoff version comes from the boot cache, or from a TDH.SYS.RD just before shutdown', () => {
    const rdBeforeShutdown = (rev: Revision) => {
      const t = run(scenario(hostData(1), [upload()]), { rev }).host.trace;
      const i = t.findIndex((e) => e.kind === 'seamcall' && e.leaf === TDH.SYS_SHUTDOWN);
      const prev = t[i - 1];
      return prev?.kind === 'seamcall' && prev.leaf === TDH.SYS_RD && prev.task.startsWith('stopper/');
    };
    expect(rdBeforeShutdown(V2)).toBe(false);
    expect(rdBeforeShutdown(flip({ handoffHvSource: 'read-fresh' }))).toBe(true);
  });

  it('lpResetScope: after shutdown an offline CPU keeps its LP flag, or loses it with every possible CPU', () => {
    const s = scenario(hostData(2), [offline(1), upload()]);
    const base = { cpuOnlinePrecheck: false } as const;
    expect(run(s, { rev: flip({ ...base, lpResetScope: 'online' }) }).host.tdx.lpInitialized[1]).toBe(true);
    expect(run(s, { rev: flip({ ...base, lpResetScope: 'possible' }) }).host.tdx.lpInitialized[1]).toBe(false);
  });

  it('refreshScope: after an update the cached handoff version follows the new module, or stays as booted', () => {
    const s = scenario(hostData(1), [upload(imageRef('1.5.08', { moduleHv: 1 }))]);
    expect(run(s, { rev: V2 }).host.tdx.sysinfo.moduleHv).toBe(1);
    expect(run(s, { rev: flip({ refreshScope: 'version', handoffHvSource: 'read-fresh' }) }).host.tdx.sysinfo.moduleHv).toBe(0);
  });

  it('seamldrEntropyRetry: one RDRAND failure on a one-CPU platform is retried and the update applies, or it loses the module', () => {
    const s = scenario(hostData(1), [upload(imageRef(), { kind: 'no_entropy', count: 1 })]);
    expect(lins(run(s, { rev: V2 }), 'update')).toEqual([0]);
    expect(lins(run(s, { rev: flip({ seamldrEntropyRetry: false }) }), 'update')).not.toEqual([0]);
  });

  it('vmcsErratumGuard: on an erratum CPU the update interface is hidden, or exposed as in v2', () => {
    const s = scenario(hostData(1, { erratum: true }), [readSeamldr('version'), upload()]);
    const guarded = run(s, { rev: flip({ vmcsErratumGuard: true }) }),
      open = run(s, { rev: V2 });
    expect([guarded.violation, open.violation]).toEqual([null, null]);
    expect(lins(guarded, 'read_seamldr')).toEqual([-2]);
    expect(guarded.host.tdxHost.fw).toBeNull();
    expect(lins(open, 'read_seamldr')).toEqual(['1.5.00']);
    expect(lins(open, 'update')).toEqual([0]);
  });

  it('versionLockout: a `version` read never straddles an update, or an update starts between its fields (B23, I-1)', () => {
    // cmd2, the read, starts after k scheduling steps of the upload, for every k.
    const at = (k: number) =>
      scenario(hostData(1), [upload(imageRef('1.5.08'), { kind: 'leaf', leaf: 'SYS_INIT', cpu: null }), readVersion], [...Array(k).fill(0), 1]);
    const open = flip({ versionLockout: false });
    const torn = range(12).filter((k) => run(at(k), { rev: open }).violation !== null);
    expect(range(12).filter((k) => run(at(k), { rev: V2 }).violation !== null)).toEqual([]);
    expect(torn.length).toBeGreaterThan(0);
    // What the lock-out prevents is the update starting between the fields of a read; the
    // result itself (the old module's version) would be one the contract allows.
    expect(run(at(torn[0]!), { rev: open }).violation).toMatchObject({ id: 'I-1' });
    expect(UPSTREAM.versionLockout).toBe(true);
  });
});
