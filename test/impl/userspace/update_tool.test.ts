// The operator's update tool driven on booted hosts: it reads versions through sysfs, chooses
// with the policy, uploads through the fw node, polls `status`, and reports.
import { describe, expect, it } from 'vitest';
import { bootHost, type Host } from '../../../impl/host.ts';
import { fwLoad, fwUploadMain } from '../../../impl/kernel/fw_upload.ts';
import { UPSTREAM_KERNEL as UPSTREAM, V2_KERNEL as V2 } from '../../../properties/revisions/index.ts';
import { spawn, type Yield } from '../../../impl/kernel/sched.ts';
import { sysfsExists, sysfsRead } from '../../../impl/userspace/sysfs.ts';
import { MAX_STATUS_POLLS, MERGED_PATHS, updateTool, V2_PATHS, type ToolEvent, type ToolIo, type ToolOptions } from '../../../impl/userspace/update_tool.ts';
import type { Bugs } from '../../../impl/faults.ts';
import { injectedFaults } from '../../../properties/faults.ts';
import { imageBytes } from '../../../properties/images.ts';
import { MAPPING_FILE_RELEASES, RELEASE_FACTS } from '../../../properties/releases.ts';
import { hostConfig } from '../../../properties/scenario.ts';
import { boot, events, hostData, imageRef, prefer, runBody, runTasks, type Picker } from '../kernel/helpers.ts';

const bootOn = (release: string, o: Parameters<typeof boot>[1] = {}) =>
  boot(4, { ...o, host: { boot: { release, moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, ...o.host } });

function io(h: Host, over: Partial<ToolIo> = {}): ToolIo {
  return { image: (v) => imageBytes(imageRef(v, { format: h.rev.imageFormat })), ...over };
}

function tool(h: Host, opts: ToolOptions = {}, o: { io?: Partial<ToolIo>; pick?: Picker } = {}) {
  return runBody(h, updateTool(h, opts, MAPPING_FILE_RELEASES, RELEASE_FACTS, io(h, o.io)), { name: 'tool', pick: o.pick });
}

const updates = (h: Host) => events(h.trace, 'update_begin').length;

describe('the update tool on the v2 kernel', () => {
  it("loads the policy's choice, polls until idle and reports it applied", () => {
    const h = bootOn('1.5.06');
    const r = tool(h);
    expect(r).toMatchObject({
      outcome: 'applied',
      running: '1.5.06',
      seamldr: '1.5.00',
      cpu: 0x806f8,
      chosen: '1.5.16',
      load: 'started',
      error: '',
      after: '1.5.16',
    });
    expect(r.selection?.choice).toBe('1.5.16');
    expect(h.tdx.sysinfo.version).toEqual({ major: 1, minor: 5, update: 16 });
  });

  it('loads a requested release when it is loadable', () => {
    const h = bootOn('1.5.06');
    expect(tool(h, { version: '1.5.08' })).toMatchObject({ outcome: 'applied', chosen: '1.5.08', after: '1.5.08' });
  });

  it('re-installs the running version when nothing newer is capable (2.0.02)', () => {
    const h = bootOn('2.0.02');
    expect(tool(h)).toMatchObject({ outcome: 'applied', chosen: '2.0.02', after: '2.0.02' });
    expect(updates(h)).toBe(1);
  });

  it.each([
    ['1.5.06', '1.5.05', /1\.5\.05 is not loadable \(not TD-preserving: older than the running 1\.5\.06 \(a downgrade\)\): nothing written/],
    ['2.0.02', '2.0.04', /2\.0\.04 is not loadable \(not TD-preserving: this release needs a running 2\.0\.04 or newer\)/],
    ['1.5.06', '2.0.08', /2\.0\.08 is not loadable \(P-SEAMLDR 1\.5\.00 cannot load it/],
    ['1.5.06', '1.5.24', /1\.5\.24 is not in the mapping/],
  ])('running %s, asked for %s: refuses and writes nothing', (running, version, message) => {
    const h = bootOn(running);
    const r = tool(h, { version });
    expect(r.outcome).toBe('refused');
    expect(r.message).toMatch(message);
    expect(r.load).toBeNull();
    expect(h.tdxHost.fw!.remainingSize).toBe(0);
    expect(updates(h)).toBe(0);
  });

  it('refuses when nothing is loadable (a CPU in no CPUID table)', () => {
    const h = bootHost({ ...hostConfig(hostData(2)), cpuFms: 0x906a3 }, V2, new Set() as Bugs);
    const r = tool(h);
    expect(r).toMatchObject({ outcome: 'refused', message: 'no release in the mapping is loadable here: nothing written', chosen: null, load: null });
    expect(updates(h)).toBe(0);
  });

  it('every release the policy allows from every running release is applied', () => {
    let n = 0;
    for (const running of MAPPING_FILE_RELEASES) {
      const s = tool(bootOn(running.version), { version: '0.0.00' }).selection!;
      for (const c of s.candidates.filter((x) => x.loadable)) {
        expect(tool(bootOn(running.version), { version: c.version }), `${running.version} -> ${c.version}`).toMatchObject({
          outcome: 'applied',
          after: c.version,
        });
        n++;
      }
    }
    expect(n).toBe(35);
  });

  it('reports a harmless failure (refused before shutdown) and a fatal one (version -ENXIO)', () => {
    const harmless = bootOn('1.5.06');
    harmless.seam.faults = injectedFaults({ kind: 'leaf', leaf: 'SHUTDOWN', cpu: null }, 4);
    expect(tool(harmless)).toMatchObject({ outcome: 'failed', error: 'transferring:firmware-invalid', after: '1.5.06' });
    const fatal = bootOn('1.5.06');
    fatal.seam.faults = injectedFaults({ kind: 'leaf', leaf: 'UPDATE', cpu: null }, 4);
    const r = tool(fatal);
    expect(r).toMatchObject({ outcome: 'lost', error: 'transferring:firmware-invalid', after: -6 });
    expect(r.message).toMatch(/version reads -ENXIO: the module and its TDs are lost/);
  });

  it('refuses to touch a host whose module is already lost', () => {
    const h = bootOn('1.5.06');
    h.seam.faults = injectedFaults({ kind: 'leaf', leaf: 'UPDATE', cpu: null }, 4);
    tool(h);
    h.seam.faults = injectedFaults(null, 4);
    expect(tool(h)).toMatchObject({ outcome: 'unreadable', running: null });
    expect(updates(h)).toBe(1);
  });

  it('shows every sysfs access to the observer, in order, and yields what it returns', () => {
    const h = bootOn('1.5.06');
    const seen: string[] = [];
    const observe = (e: ToolEvent): Yield | null => {
      seen.push(e.kind === 'read' ? `${e.path.split('/').slice(-2).join('/')}=${e.result}` : `load ${e.version}=${e.result}`);
      return e.kind === 'load' ? { kind: 'step', label: `tool_load ${String(e.result)}` } : null;
    };
    const yields: Yield[] = [];
    spawn(
      h.sched,
      'tool',
      0,
      (function* () {
        const body = updateTool(h, {}, MAPPING_FILE_RELEASES, RELEASE_FACTS, io(h, { observe }));
        for (let y = body.next(); !y.done; y = body.next()) {
          yields.push(y.value);
          yield y.value;
        }
      })(),
    );
    runTasks(h);
    expect(seen[0]).toBe('tdx_host/version=1.5.06');
    expect(seen[1]).toBe('seamldr/version=1.5.00');
    expect(seen[2]).toBe('load 1.5.16=started');
    expect(seen.slice(3, -2).every((s) => s.startsWith('seamldr_upload/status='))).toBe(true);
    expect(seen.at(-3)).toBe('seamldr_upload/status=idle');
    expect(seen.slice(-2)).toEqual(['seamldr_upload/error=', 'tdx_host/version=1.5.16']);
    expect(yields.filter((y) => y.kind === 'step' && y.label?.startsWith('tool_load'))).toEqual([{ kind: 'step', label: 'tool_load started' }]);
    expect(yields.filter((y) => y.kind === 'step').length).toBeGreaterThanOrEqual(seen.length);
  });
});

describe('the update tool and the sysfs layout', () => {
  it("a tool written for v2 cannot find the merged kernel's interface (spec §2.7)", () => {
    const h = bootOn('1.5.06', { rev: UPSTREAM });
    const r = tool(h);
    expect(r).toMatchObject({ outcome: 'no-interface', running: null, load: null });
    expect(r.message).toBe('no /sys/devices/faux/tdx_host/seamldr/version: this kernel does not expose the update interface the tool was written for');
    expect(updates(h)).toBe(0);
  });

  it('a tool written for the merged layout updates the merged kernel', () => {
    const h = bootOn('1.5.06', { rev: UPSTREAM });
    expect(tool(h, {}, { io: { paths: MERGED_PATHS } })).toMatchObject({ outcome: 'applied', seamldr: '1.5.00', after: '1.5.16' });
  });

  it('sysfs: the files each revision exposes', () => {
    const v2 = bootOn('1.5.06'),
      up = bootOn('1.5.06', { rev: UPSTREAM });
    expect([V2_PATHS.seamldrVersion, `${V2_PATHS.fwNode}/status`].map((p) => sysfsExists(v2, p))).toEqual([true, true]);
    expect([MERGED_PATHS.seamldrVersion, `${MERGED_PATHS.fwNode}/status`].map((p) => sysfsExists(v2, p))).toEqual([false, false]);
    expect([MERGED_PATHS.seamldrVersion, `${MERGED_PATHS.fwNode}/error`, `${MERGED_PATHS.fwNode}/nope`].map((p) => sysfsExists(up, p))).toEqual([
      true,
      true,
      false,
    ]);
    expect(runBody(v2, sysfsRead(v2, MERGED_PATHS.seamldrVersion))).toBe(-2);
    expect(runBody(up, sysfsRead(up, '/sys/devices/faux/tdx_host/num_remaining_updates'))).toBe('2');
  });
});

describe('the update tool alongside other uploads', () => {
  it('reports busy when another upload is in flight (its write to loading is ignored)', () => {
    const h = bootOn('1.5.06');
    const fw = h.tdxHost.fw!;
    expect(fwLoad(h, fw, imageBytes(imageRef('1.5.08')))).toBe('started');
    spawn(h.sched, 'fw_upload_worker', 0, fwUploadMain(h, fw));
    const r = tool(h, {}, { pick: prefer('tool') });
    expect(r).toMatchObject({ outcome: 'busy', load: 'ignored', chosen: '1.5.16' });
    expect(h.tdx.sysinfo.version.update).toBe(8);
  });

  it(`gives up after ${MAX_STATUS_POLLS} reads of status when uploads never stop`, () => {
    const h = bootOn('1.5.06', { host: { slots: 100 } });
    const fw = h.tdxHost.fw!;
    spawn(
      h.sched,
      'uploader',
      1,
      (function* (): Generator<Yield, void, void> {
        yield { kind: 'wait', until: () => fw.progress !== 'idle', on: fw, label: 'the tool started' };
        for (let i = 0; i < 2 * MAX_STATUS_POLLS; i++) {
          yield { kind: 'wait', until: () => fw.progress === 'idle' && !fw.loadingDone, on: fw, label: 'idle' };
          if (fwLoad(h, fw, imageBytes(imageRef('1.5.16'))) === 'started') spawn(h.sched, 'fw_upload_worker', 0, fwUploadMain(h, fw));
        }
      })(),
    );
    const r = tool(h, {}, { pick: prefer('uploader', 'tool') });
    expect(r).toMatchObject({ outcome: 'timeout', load: 'started', error: null });
    expect(r.message).toBe(`/sys/class/firmware/seamldr_upload/status did not go idle after ${MAX_STATUS_POLLS} reads`);
  });
});
