// No kernel state without a reader (issue 14 part 3): every field of the state the emulated
// kernel keeps about the module and the CPUs must be read by the kernel itself, where the real
// kernel reads it, in some scenario, so that it changes what happens next. The fields are
// taken from the interfaces in the source (a new field is covered without editing this test);
// the reads are recorded by proxies over h.tdx and h.tdxHost while only kernel code runs (no
// invariant or refinement reads count), and update_ctrl, which lives inside one update, is
// checked in the source of its only user.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TDH, TDX_SYS_BUSY } from '../../../impl/firmware/abi.ts';
import type { Host } from '../../../impl/host.ts';
import { fwCancel } from '../../../impl/kernel/fw_upload.ts';
import { cpuDown, cpuUp } from '../../../impl/kernel/hotplug.ts';
import { type Revision } from '../../../impl/kernel/revision.ts';
import { COMPAT_KERNEL as COMPAT, UPSTREAM_KERNEL as UPSTREAM, V2_KERNEL as V2 } from '../../../properties/revisions/index.ts';
import { seamldrAttrShow, sysfsFiles, tdxHostProbe, versionShowTask } from '../../../impl/kernel/tdx_host.ts';
import { imageBytes } from '../../../properties/images.ts';
import { boot, imageRef, runBody, uploadVia } from './helpers.ts';

const src = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

/** The fields of `export interface NAME { ... }` in a source file, with their types. */
function fields(path: string, name: string): { name: string; type: string }[] {
  const body = new RegExp(`export interface ${name}(?: extends [^{]+)? \\{([\\s\\S]*?)\\n?\\}`).exec(src(path))?.[1];
  if (body === undefined) throw new Error(`no interface ${name} in ${path}`);
  const decls = body
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*/g, '')
    .split(/[;\n]/);
  return decls.flatMap((d) => {
    const m = /^\s*(?:readonly\s+)?(\w+)\??:\s*(.+?)\s*$/.exec(d);
    return m ? [{ name: m[1]!, type: m[2]! }] : [];
  });
}

const TYPES: Record<string, string> = {
  Tdx: 'impl/kernel/tdx.ts',
  TdxModuleState: 'impl/kernel/tdx.ts',
  TdxSysinfo: 'impl/kernel/tdx.ts',
  Version: 'impl/firmware/types.ts',
  TdxHost: 'impl/kernel/tdx_host.ts',
};

/** Leaf paths of a state type: nested state types are expanded, anything else is a leaf. */
function leafPaths(type: string, prefix = ''): string[] {
  return fields(TYPES[type]!, type).flatMap((f) => (TYPES[f.type] ? leafPaths(f.type, `${prefix}${f.name}.`) : [`${prefix}${f.name}`]));
}

/**
 * A proxy that records a read of every primitive reached through it (an array element counts
 * as a read of the array; an object is recorded only when something inside it is read, so
 * `h.tdx.lpInitialized[c] = true` is no read of lpInitialized).
 */
function recorder<T extends object>(target: T, prefix: string, reads: Set<string>): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      const v = Reflect.get(t, key, receiver);
      if (typeof key === 'symbol' || typeof v === 'function') return v;
      const path = Array.isArray(t) ? prefix.slice(0, -1) : `${prefix}${key}`;
      if (v !== null && typeof v === 'object') return recorder(v, `${path}.`, reads);
      if (!Array.isArray(t) || /^\d+$/.test(key)) reads.add(path);
      return v;
    },
  });
}

function watch(h: Host, reads: Set<string>): void {
  h.tdx = recorder(h.tdx, '', reads);
  h.tdxHost = recorder(h.tdxHost, '', reads);
}

const img = (rev: Revision, release: string) => imageBytes(imageRef(release, { format: rev.imageFormat }));

/** Kernel-only activity on a booted host of `rev`: probe, two updates, a failed one, reads, hotplug, cancel. */
function exercise(rev: Revision, reads: Set<string>, releases: [string, string, string]): void {
  const boot0 = { release: releases[0], moduleHv: 0, minUpdateHv: 0, noDowngrade: false };
  const h = boot(2, { rev, host: { slots: 5, boot: boot0 } });
  watch(h, reads);
  expect(tdxHostProbe(h)).toBe(0);
  expect(sysfsFiles(h).length).toBeGreaterThan(0);
  expect(uploadVia(h, img(rev, releases[1])).ret).toBe(0);
  expect(uploadVia(h, img(rev, releases[2])).ret).toBe(0);
  runBody(h, versionShowTask(h));
  runBody(h, seamldrAttrShow(h, 0, 'version'));
  runBody(h, cpuDown(h, 1));
  runBody(h, cpuUp(h, 1));
  fwCancel(h, h.tdxHost.fw!, '1');
  uploadVia(h, img(rev, '1.5.13'));
  // A failing TDH.SYS.INIT: the second CPU into CPU_INIT gets the cached result.
  uploadVia(h, img(rev, '1.5.13'), { faults: { leafFail: { leaf: TDH.SYS_INIT, cpu: null, status: TDX_SYS_BUSY } } });
}

describe('no kernel state without a reader (issue 14 part 3)', () => {
  const reads = new Set<string>();
  // compat refuses updates of modules without UPDATE_COMPAT: it boots one that has it (README).
  exercise(V2, reads, ['1.5.06', '1.5.08', '1.5.09']);
  exercise(COMPAT, reads, ['1.5.24', '1.5.25', '1.5.25']);
  exercise(UPSTREAM, reads, ['1.5.06', '1.5.08', '1.5.09']);

  it.each([...leafPaths('Tdx').map((p) => ['h.tdx', p]), ...leafPaths('TdxHost').map((p) => ['h.tdxHost', p])])('%s.%s is read by the kernel', (_, path) => {
    expect([...reads].some((r) => r === path || r.startsWith(`${path}.`))).toBe(true);
  });

  it('the walk covers the fields the issue names (flags, LP flags, cached version and features, handoff)', () => {
    expect(leafPaths('Tdx')).toEqual([
      'state.initialized',
      'state.sysinitDone',
      'state.sysinitRet',
      'lpInitialized',
      'sysinfo.version.major',
      'sysinfo.version.minor',
      'sysinfo.version.update',
      'sysinfo.features0',
      'sysinfo.moduleHv',
    ]);
  });

  it('the recorder tells a write from a read', () => {
    const seen = new Set<string>();
    const t = recorder({ a: { b: 1 }, l: [false] }, '', seen);
    t.a.b = 2;
    t.l[0] = true;
    expect([...seen]).toEqual([]);
    expect([t.a.b, t.l[0]]).toEqual([2, true]);
    expect([...seen]).toEqual(['a.b', 'l']);
  });

  it.each(fields('impl/kernel/seamldr.ts', 'UpdateCtrl').map((f) => f.name))('update_ctrl.%s is read in seamldr.ts', (name) => {
    // A read: `ctrl.NAME` not on the left of an assignment (`=`, `+=`, `++`).
    const read = new RegExp(`ctrl\\.${name}\\b(?!\\s*(?:[-+]?=(?!=)|\\+\\+|--))`);
    expect(
      src('impl/kernel/seamldr.ts')
        .split('\n')
        .some((l) => read.test(l) && !l.trim().startsWith('//') && !l.trim().startsWith('*')),
    ).toBe(true);
  });
});
