// Tests for impl/kernel/seamldr.ts: the v1 blob checks (spec §3.2, I-15), SEAMLDR_PARAMS
// (spec §5.1, I-16), the prechecks of seamldr_install_module (spec §2.3, §2.7 seed column),
// and the stop_machine state machine (spec §2.4, §2.5, §4.1, I-3..I-8), with failures injected
// at every step and the seeded bugs of this file (B2, B4, B5, B13).
import { describe, expect, it } from 'vitest';
import { TDH, TDX_SYS_BUSY, TDX_SYS_INVALID_HANDOFF, SEAMLDR_EUNSPECERR, P_SEAMLDR_INFO, P_SEAMLDR_INSTALL } from '../../../impl/firmware/abi.ts';
import { buildBlobV1, corruptBlobV1, fixChecksumV1, type ImageCorruption } from '../../../impl/firmware/image.ts';
import { EBUSY, EINVAL, EIO, ENOSPC } from '../../../impl/kernel/errno.ts';
import { V2_KERNEL as V2, UPSTREAM_KERNEL as UPSTREAM } from '../../../properties/revisions/index.ts';
import { initSeamldrParams, parseBlobV1, parseImageV2, populateSeamldrParams, UPDATE_STATES } from '../../../impl/kernel/seamldr.ts';
import { cpuDown } from '../../../impl/kernel/hotplug.ts';
import { spawn, stepTask, type Yield } from '../../../impl/kernel/sched.ts';
import { versionShow } from '../../../impl/kernel/tdx_host.ts';
import { seamldrInstallModuleOf } from '../../../impl/kernel/seamldr.ts';
import { identityOf, imageBytes } from '../../../properties/images.ts';
import type { FaultPlan } from '../../../model/types.ts';
import {
  ackOrder,
  acks,
  barrierProblems,
  boot,
  bufOf,
  calls,
  callsOf,
  corrupt,
  events,
  finalizedTd,
  hostData,
  imageRef,
  install,
  installRef,
  lastUpdate,
  lcgSchedule,
  linResults,
  range,
  readVersion,
  run,
  runTasks,
  scenario,
  states,
  tdRun,
  upload,
  work,
} from './helpers.ts';

const VALID = imageBytes(imageRef('1.5.08'));
const isLabel = (y: Yield | null, label: string) => y !== null && y.kind !== 'lin' && y.label === label;
/**
 * A schedule that makes CPU 0 the last to act in SHUTDOWN: choice 1 never picks the least
 * recently run task, and stopper/0 stays least recently run until the choices run out (the
 * first choices, before stop_machine, only order the upload command and its worker).
 */
const LEAD_LAST = Array<number>(7).fill(1);
const shutdownFault = { leafFail: { leaf: TDH.SYS_SHUTDOWN, cpu: null, status: TDX_SYS_BUSY } };

describe('parseBlobV1 (spec §3.2 v2 kernel checks)', () => {
  it('accepts a well-formed blob: one sigstruct page at page 1, module pages from page 2', () => {
    const h = boot(1);
    expect(VALID.length).toBe(4 * 4096);
    expect(parseBlobV1(h, bufOf(h, VALID))).toEqual({ ret: 0, layout: { sigPage: 1, nrSigPages: 1, modulePage: 2, nrModulePages: 2 } });
    expect(events(h.trace, 'oob_read')).toEqual([]);
  });

  it('accepts exactly 496 module pages', () => {
    const h = boot(1);
    const blob = buildBlobV1({ ...identityOf(imageRef('1.5.08')), nrPages: 496 });
    expect(parseBlobV1(h, bufOf(h, blob))).toEqual({ ret: 0, layout: { sigPage: 1, nrSigPages: 1, modulePage: 2, nrModulePages: 496 } });
  });

  const broken: [string, Uint8Array][] = [
    ...[0, 1, 2, 100, 4095, 4096, 8192, VALID.length - 4096, VALID.length - 1].map((n): [string, Uint8Array] => [
      `truncated to ${n} bytes`,
      corruptBlobV1(VALID, { kind: 'truncate', length: n }),
    ]),
    ...(
      [
        { kind: 'bad_checksum' },
        { kind: 'bad_magic' },
        { kind: 'bad_version' },
        { kind: 'bad_length' },
        { kind: 'reserved_nonzero', index: 0 },
        { kind: 'reserved_nonzero', index: 3 },
        { kind: 'reserved_nonzero', index: 4 },
        { kind: 'reserved_nonzero', index: 4075 },
        { kind: 'sig_size', pages: 0 },
        { kind: 'sig_size', pages: 2 },
        { kind: 'module_unaligned' },
        { kind: 'module_too_big' },
      ] as ImageCorruption[]
    ).map((c): [string, Uint8Array] => [JSON.stringify(c), corruptBlobV1(VALID, c)]),
    ['an empty module (8 KiB blob, offset_of_module == length)', buildBlobV1({ ...identityOf(imageRef('1.5.08')), nrPages: 0 })],
  ];

  it.each(broken)('rejects %s with -EINVAL and reads nothing past the image', (_, bytes) => {
    const h = boot(1);
    expect(parseBlobV1(h, bufOf(h, bytes))).toEqual({ ret: -EINVAL, layout: null });
    expect(events(h.trace, 'oob_read')).toEqual([]);
  });

  it.each([
    ['sigstruct byte 100', { kind: 'sigstruct_bitflip', byte: 100, bit: 3 }],
    ['reserved2 byte 3000', { kind: 'sigstruct_bitflip', byte: 3000, bit: 0 }],
    ['module byte 5', { kind: 'module_bitflip', byte: 5, bit: 1 }],
    ['a rogue signing key', { kind: 'rogue_key' }],
  ] as [string, ImageCorruption][])('passes %s on to P-SEAMLDR: the kernel does not look inside', (_, c) => {
    const h = boot(1);
    expect(parseBlobV1(h, bufOf(h, corruptBlobV1(VALID, c)))).toEqual({ ret: 0, layout: { sigPage: 1, nrSigPages: 1, modulePage: 2, nrModulePages: 2 } });
  });

  describe('seeded bug header-before-size (B13, I-15)', () => {
    /** 100 bytes whose header passes version, checksum, length and magic: the reserved scan runs past the end. */
    function plausibleShortHeader(): Uint8Array {
      const b = new Uint8Array(100);
      const v = new DataView(b.buffer);
      v.setUint16(0, 0x100, true);
      v.setUint32(4, 8192, true);
      b.set(new TextEncoder().encode('TDX-BLOB'), 8);
      v.setUint32(16, 100, true);
      fixChecksumV1(b);
      return b;
    }

    it('with the bug, a 1-byte image is read past its end (version field) and still refused', () => {
      const h = boot(1, { bugs: ['header-before-size'] });
      const bytes = corruptBlobV1(VALID, { kind: 'truncate', length: 1 });
      expect(parseBlobV1(h, bufOf(h, bytes))).toEqual({ ret: -EINVAL, layout: null });
      expect(events(h.trace, 'oob_read')).toEqual([{ kind: 'oob_read', offset: 0, len: 1 }]);
    });

    it('with the bug, a plausible 100-byte header makes the reserved scan read past the end', () => {
      const h = boot(1, { bugs: ['header-before-size'] });
      expect(parseBlobV1(h, bufOf(h, plausibleShortHeader())).ret).toBe(-EINVAL);
      expect(events(h.trace, 'oob_read')).toEqual([{ kind: 'oob_read', offset: 20, len: 100 }]);
    });

    it('with the bug, a 100-byte prefix of a real blob fails the checksum before any read past the end', () => {
      // The checksum reads exactly len bytes and comes before every other header check.
      const h = boot(1, { bugs: ['header-before-size'] });
      expect(parseBlobV1(h, bufOf(h, corruptBlobV1(VALID, { kind: 'truncate', length: 100 }))).ret).toBe(-EINVAL);
      expect(events(h.trace, 'oob_read')).toEqual([]);
    });

    it('without the bug, the same short images are refused before a byte is read', () => {
      const h = boot(1);
      for (const b of [plausibleShortHeader(), corruptBlobV1(VALID, { kind: 'truncate', length: 1 })]) {
        expect(parseBlobV1(h, bufOf(h, b)).ret).toBe(-EINVAL);
      }
      expect(events(h.trace, 'oob_read')).toEqual([]);
    });
  });
});

describe('populateSeamldrParams (spec §5.1, I-16)', () => {
  it('writes version 0, scenario UPDATE, the sigstruct page, the module pages in order, and zero elsewhere', () => {
    const h = boot(1);
    const blob = buildBlobV1({ ...identityOf(imageRef('1.5.08')), nrPages: 5 });
    const img = bufOf(h, blob);
    const { layout } = parseBlobV1(h, img);
    const pages = h.mem.size;
    const pa = h.mem.allocPages(1)[0]!;
    populateSeamldrParams(h, pa, img, layout!);
    expect(h.mem.size).toBe(pages + 1);
    expect(pa % 4096).toBe(0);
    const p = h.mem.page(pa)!;
    const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
    expect(v.getUint32(0, true)).toBe(0);
    expect(v.getUint32(4, true)).toBe(1);
    expect(v.getBigUint64(8, true)).toBe(BigInt(img.pas[1]!));
    expect(p.subarray(16, 120).every((b) => b === 0)).toBe(true);
    expect(v.getBigUint64(120, true)).toBe(5n);
    const list = range(496).map((j) => Number(v.getBigUint64(128 + 8 * j, true)));
    expect(list.slice(0, 5)).toEqual(img.pas.slice(2, 7));
    expect(list.slice(5).every((x) => x === 0)).toBe(true);
    // The image's pages are not contiguous (vmalloc), so a list built by adding 4096 would be wrong.
    expect(img.pas[3]! - img.pas[2]!).not.toBe(4096);
  });
});

describe('seamldrInstallModule prechecks (spec §2.3, §2.7 seed)', () => {
  it('refuses with -ENOSPC when P-SEAMLDR has no update slots, before looking at the image', () => {
    const h = boot(2);
    h.seam.pseamldr.numRemainingUpdates = 0;
    const pages = h.mem.size;
    expect(install(h, corruptBlobV1(VALID, { kind: 'bad_magic' }))).toBe(-ENOSPC);
    expect(calls(h.trace.slice(-1))).toEqual(['SEAMLDR.INFO@0=0x0']);
    expect(events(h.trace, 'update_begin')).toEqual([]);
    expect(h.mem.size - pages).toBe(4); // only the image buffer: no params page left behind
  });

  it('refuses a corrupt image with -EINVAL without taking the hotplug lock or calling the module', () => {
    const h = boot(2);
    const n = h.trace.length;
    expect(install(h, corruptBlobV1(VALID, { kind: 'bad_checksum' }))).toBe(-EINVAL);
    expect(calls(h.trace.slice(n))).toEqual(['SEAMLDR.INFO@0=0x0']);
    expect(h.platform.hotplugReaders).toBe(0);
  });

  it('refuses with -EBUSY when a present CPU is offline, and drops the lock and the params page', () => {
    const h = boot(4);
    h.platform.cpus[2]!.online = false;
    const pages = h.mem.size;
    expect(install(h, VALID)).toBe(-EBUSY);
    expect(events(h.trace, 'update_begin')).toEqual([]);
    expect(h.platform.hotplugReaders).toBe(0);
    expect(h.mem.size - pages).toBe(4);
  });

  it('checks in the seed order: slots, then the image, then the CPUs', () => {
    const h = boot(4);
    h.platform.cpus[3]!.online = false;
    expect(install(h, corruptBlobV1(VALID, { kind: 'bad_version' }))).toBe(-EINVAL);
    h.seam.pseamldr.numRemainingUpdates = 0;
    expect(install(h, corruptBlobV1(VALID, { kind: 'bad_version' }))).toBe(-ENOSPC);
  });
});

describe('the update state machine: success (spec §2.4, I-3)', () => {
  it.each([1, 2, 4, 8])('updates 1.5.06 -> 1.5.08 on %i CPUs with the steps in lockstep', (n) => {
    const r = run(scenario(hostData(n), [upload(), readVersion]));
    expect(r.violation).toBeNull();
    const h = r.host;
    const w = lastUpdate(h.trace);
    expect(w[0]).toMatchObject({ kind: 'update_begin', cpus: range(n), lead: 0 });
    expect(w.at(-1)).toEqual({ kind: 'update_end', ret: 0, state: 'DONE' });
    expect(states(w)).toEqual(['CPU_INSTALL', 'CPU_INIT', 'RUN_UPDATE', 'DONE']);
    // Round-robin: each step's work in CPU order, lead-only steps on CPU 0 alone.
    expect(work(w)).toEqual(['SHUTDOWN@0=0', ...range(n).map((c) => `CPU_INSTALL@${c}=0`), ...range(n).map((c) => `CPU_INIT@${c}=0`), 'RUN_UPDATE@0=0']);
    expect(barrierProblems(w, range(n))).toEqual([]);
    for (const s of UPDATE_STATES.slice(1))
      expect(
        acks(w, s)
          .map((a) => a.cpu)
          .sort(),
      ).toEqual(range(n));
    expect(calls(w)).toEqual([
      'TDH.SYS.SHUTDOWN@0=0x0',
      ...range(n).map((c) => `SEAMLDR.INSTALL@${c}=0x0`),
      'TDH.SYS.INIT@0=0x0',
      ...range(n).map((c) => `TDH.SYS.LP.INIT@${c}=0x0`),
      'TDH.SYS.UPDATE@0=0x0',
    ]);
    expect(callsOf(w, TDH.SYS_SHUTDOWN)[0]!.rcx).toBe(0n); // the boot module's MODULE_HV
    expect(linResults(h, 'read_version')).toEqual(['1.5.08']);
    expect(h.seam.pseamldr.numRemainingUpdates).toBe(1);
    expect(h.tdx.state).toEqual({ initialized: true, sysinitDone: true, sysinitRet: 0 });
    expect(h.tdx.lpInitialized).toEqual(range(n).map(() => true));
    expect(h.platform.hotplugReaders).toBe(0);
    expect(h.sched.stopMachine).toBeNull();
  });

  it('keeps the barrier under 30 pseudo-random interleavings of 4 CPUs', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = run(scenario(hostData(4), [upload(), readVersion], lcgSchedule(seed, 120)));
      expect(r.violation, `seed ${seed}`).toBeNull();
      const w = lastUpdate(r.host.trace);
      expect(barrierProblems(w, range(4)), `seed ${seed}`).toEqual([]);
      expect(states(w)).toEqual(['CPU_INSTALL', 'CPU_INIT', 'RUN_UPDATE', 'DONE']);
      expect(versionShow(r.host)).toBe('1.5.08');
    }
  });

  it('the lead can be the last to ack SHUTDOWN (forced by the schedule)', () => {
    const r = run(scenario(hostData(4), [upload()], LEAD_LAST));
    expect(r.violation).toBeNull();
    const w = lastUpdate(r.host.trace);
    expect(acks(w, 'SHUTDOWN').map((a) => a.cpu)).toEqual([1, 2, 3, 0]);
    expect(work(w)[0]).toBe('SHUTDOWN@0=0');
    expect(w.at(-1)).toEqual({ kind: 'update_end', ret: 0, state: 'DONE' });
  });
});

/** One injected fault, what the trace must show, and whether TDs survive. */
interface FaultCase {
  name: string;
  fault: FaultPlan;
  work: string[];
  states: string[];
  lost: boolean;
  installed: boolean;
}

function faultCases(n: number): FaultCase[] {
  const all = range(n);
  const installOk = all.map((c) => `CPU_INSTALL@${c}=0`);
  const initOk = all.map((c) => `CPU_INIT@${c}=0`);
  return [
    {
      name: 'TDH.SYS.SHUTDOWN fails',
      fault: { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null },
      work: ['SHUTDOWN@0=-5'],
      states: [],
      lost: false,
      installed: false,
    },
    // Every CPU read CPU_INSTALL before the failing one came back out of P-SEAMLDR (the calls are
    // serialized by seamldr_lock), so all of them still do step 2; none does step 3 (spec §2.4).
    ...all.map(
      (c): FaultCase => ({
        name: `SEAMLDR.INSTALL fails on cpu ${c}`,
        fault: { kind: 'install', cpu: c },
        work: ['SHUTDOWN@0=0', ...all.map((i) => `CPU_INSTALL@${i}=${i === c ? -5 : 0}`)],
        states: ['CPU_INSTALL'],
        lost: true,
        installed: false,
      }),
    ),
    // CPU 0 steps out while it holds sysinit_lock after TDH.SYS.INIT, so every CPU has read
    // CPU_INIT by then and still does step 3: each gets the one cached result (spec §2.5 step 3).
    {
      name: 'TDH.SYS.INIT fails',
      fault: { kind: 'leaf', leaf: 'SYS_INIT', cpu: null },
      work: ['SHUTDOWN@0=0', ...installOk, ...all.map((i) => `CPU_INIT@${i}=-5`)],
      states: ['CPU_INSTALL', 'CPU_INIT'],
      lost: true,
      installed: true,
    },
    ...all.map(
      (c): FaultCase => ({
        name: `TDH.SYS.LP.INIT fails on cpu ${c}`,
        fault: { kind: 'leaf', leaf: 'LP_INIT', cpu: c },
        work: ['SHUTDOWN@0=0', ...installOk, ...all.map((i) => `CPU_INIT@${i}=${i === c ? -5 : 0}`)],
        states: ['CPU_INSTALL', 'CPU_INIT'],
        lost: true,
        installed: true,
      }),
    ),
    {
      name: 'TDH.SYS.UPDATE fails',
      fault: { kind: 'leaf', leaf: 'UPDATE', cpu: null },
      work: ['SHUTDOWN@0=0', ...installOk, ...initOk, 'RUN_UPDATE@0=-5'],
      states: ['CPU_INSTALL', 'CPU_INIT', 'RUN_UPDATE'],
      lost: true,
      installed: true,
    },
  ];
}

const NEXT_STATE: Record<string, string> = { SHUTDOWN: 'CPU_INSTALL', CPU_INSTALL: 'CPU_INIT', CPU_INIT: 'RUN_UPDATE', RUN_UPDATE: 'DONE' };

describe('the update state machine: a failure at every step on every CPU (spec §4.1, I-4, I-7, I-8)', () => {
  for (const n of [1, 2, 4, 8]) {
    describe(`${n} CPU${n > 1 ? 's' : ''}`, () => {
      it.each(faultCases(n).map((c) => [c.name, c] as const))('%s', (_, c) => {
        const r = run(scenario(hostData(n), [...finalizedTd(), upload(imageRef(), c.fault), readVersion, tdRun()]));
        expect(r.violation).toBeNull();
        const h = r.host;
        const w = lastUpdate(h.trace);
        expect(work(w)).toEqual(c.work);
        expect(states(w)).toEqual(c.states);
        // Abort: nobody did the work of the step after the failed one, and the update failed.
        const failed = events(w, 'update_work').find((e) => e.ret !== 0)!;
        expect(events(w, 'update_work').filter((e) => e.state === NEXT_STATE[failed.state])).toEqual([]);
        expect(w.at(-1)).toEqual({ kind: 'update_end', ret: -EIO, state: failed.state });
        expect(linResults(h, 'update')).toEqual([-EIO]);
        expect(linResults(h, 'fw_done')).toEqual(['transferring:firmware-invalid']);
        expect(h.sched.tasks).toEqual([]);
        expect(h.seam.pseamldr.numRemainingUpdates).toBe(c.installed ? 1 : 2);
        expect(h.seam.seamdb.length).toBe(c.installed ? 2 : 1);
        const td = [...h.kvm.tds.values()][0]!;
        if (c.lost) {
          expect(linResults(h, 'read_version')).toEqual([-6]);
          expect(linResults(h, 'td_run')).toEqual([false]);
          expect(td.bugged).toBe(true);
          expect(h.tdx.state.initialized).toBe(false);
        } else {
          // Refused: the old module runs untouched and so does the kernel's view of it (I-8).
          expect(h.seam.module!.identity.version).toEqual({ major: 1, minor: 5, update: 6 });
          expect(h.seam.module!.sysState).toBe('SYS_READY');
          expect(h.tdx.state).toEqual({ initialized: true, sysinitDone: true, sysinitRet: 0 });
          expect(h.tdx.lpInitialized).toEqual(range(n).map(() => true));
          expect(linResults(h, 'read_version')).toEqual(['1.5.06']);
          expect(linResults(h, 'td_run')).toEqual([true]);
          expect(td.bugged).toBe(false);
        }
      });
    });
  }

  it('SHUTDOWN failure with the lead acking last: still refused, no CPU installs', () => {
    const r = run(scenario(hostData(4), [upload(imageRef(), { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null })], LEAD_LAST));
    expect(r.violation).toBeNull();
    const w = lastUpdate(r.host.trace);
    expect(acks(w, 'SHUTDOWN')).toEqual([
      { cpu: 1, ret: 0 },
      { cpu: 2, ret: 0 },
      { cpu: 3, ret: 0 },
      { cpu: 0, ret: -EIO },
    ]);
    expect(callsOf(w, P_SEAMLDR_INSTALL)).toEqual([]);
    expect(versionShow(r.host)).toBe('1.5.06');
  });

  it('INSTALL failing on the CPU that acts first: the others never install', () => {
    const h = boot(4);
    const ret = installRef(h, imageRef(), { faults: { installFail: { cpu: 3, status: SEAMLDR_EUNSPECERR } }, pick: ackOrder(h, 'CPU_INSTALL', [3, 2, 1, 0]) });
    expect(ret).toBe(-EIO);
    const w = lastUpdate(h.trace);
    expect(work(w)).toEqual(['SHUTDOWN@0=0', 'CPU_INSTALL@3=-5']);
    expect(callsOf(w, P_SEAMLDR_INSTALL).map((e) => e.cpu)).toEqual([3]);
    expect(versionShow(h)).toBe(-6);
  });

  it('LP.INIT failing on the lead after every other CPU initialized: no RUN_UPDATE', () => {
    const h = boot(4);
    const ret = installRef(h, imageRef(), {
      faults: { leafFail: { leaf: TDH.SYS_LP_INIT, cpu: 0, status: TDX_SYS_BUSY } },
      pick: ackOrder(h, 'CPU_INIT', [1, 2, 3, 0]),
    });
    expect(ret).toBe(-EIO);
    const w = lastUpdate(h.trace);
    expect(work(w).slice(-4)).toEqual(['CPU_INIT@1=0', 'CPU_INIT@2=0', 'CPU_INIT@3=0', 'CPU_INIT@0=-5']);
    expect(states(w)).toEqual(['CPU_INSTALL', 'CPU_INIT']);
    expect(callsOf(w, TDH.SYS_UPDATE)).toEqual([]);
    expect(h.seam.module!.sysState).toBe('SYSINIT_DONE');
  });
});

describe('seeded bugs of seamldr.ts, driven directly', () => {
  it('ack-before-fail (B2): the lead acks its failed SHUTDOWN last, CPU 1 then calls SEAMLDR.INSTALL', () => {
    const h = boot(2, { bugs: ['ack-before-fail'] });
    expect(install(h, VALID, { faults: shutdownFault, pick: ackOrder(h, 'SHUTDOWN', [1, 0]) })).toBe(-EIO);
    const w = lastUpdate(h.trace);
    expect(states(w)).toEqual(['CPU_INSTALL']);
    expect(work(w)).toEqual(['SHUTDOWN@0=-5', 'CPU_INSTALL@1=0']);
    // The recoverable failure became destructive: the old module can no longer be entered,
    // yet the kernel still calls it initialized (I-9).
    expect(h.seam.seamReady).toBe(false);
    expect(h.seam.module!.sysState).toBe('SYS_READY');
    expect(h.tdx.state.initialized).toBe(true);
  });

  it('without ack-before-fail the same order aborts after SHUTDOWN', () => {
    const h = boot(2);
    expect(install(h, VALID, { faults: shutdownFault, pick: ackOrder(h, 'SHUTDOWN', [1, 0]) })).toBe(-EIO);
    expect(work(lastUpdate(h.trace))).toEqual(['SHUTDOWN@0=-5']);
    expect(h.seam.seamReady).toBe(true);
  });

  it("no-early-abort (B5): after a failed SHUTDOWN every CPU installs, and only RUN_UPDATE's failure is returned", () => {
    const h = boot(2, { bugs: ['no-early-abort'] });
    // The lead keeps its RUN_UPDATE result through DONE (the switch's default case leaves ret).
    expect(install(h, VALID, { faults: shutdownFault })).toBe(-EIO);
    const w = lastUpdate(h.trace);
    expect(states(w)).toEqual(['CPU_INSTALL', 'CPU_INIT', 'RUN_UPDATE', 'DONE']);
    expect(work(w)).toEqual(['SHUTDOWN@0=-5', 'CPU_INSTALL@0=0', 'CPU_INSTALL@1=0', 'CPU_INIT@0=0', 'CPU_INIT@1=0', 'RUN_UPDATE@0=-5']);
    // The new module was installed but never initialized; the kernel believes in the old one.
    expect(h.seam.module!.identity.version.update).toBe(8);
    expect(h.seam.module!.sysState).toBe('SYSINIT_PENDING');
    expect(versionShow(h)).toBe('1.5.06');
  });

  describe('hotplug-before-lock (B4)', () => {
    /** Steps the upload worker to `label`, then runs `echo 0 > cpu1/online` to completion. */
    function offlineAt(h: ReturnType<typeof boot>, label: string): void {
      const worker = spawn(h.sched, 'fw_upload_worker', 0, seamldrInstallModuleOf(h)(h, bufOf(h, VALID)));
      while (!isLabel(stepTask(h.sched, worker), label)) if (worker.done) throw new Error(`worker finished before ${label}`);
      const down = spawn(h.sched, 'offline', 1, cpuDown(h, 1));
      while (!down.done && (down.waitUntil === null || down.waitUntil())) stepTask(h.sched, down);
    }

    it('with the bug and no CPU-online precheck, an offline between the count and the lock hangs stop_machine', () => {
      const h = boot(2, { rev: { ...V2, cpuOnlinePrecheck: false }, bugs: ['hotplug-before-lock'] });
      offlineAt(h, 'init_state before cpus_read_lock');
      expect(h.platform.cpus[1]!.online).toBe(false);
      // CPU 0 waits in cpu_relax for the ack of a CPU that is gone
      expect(() => runTasks(h)).toThrow(/^deadlock: .*stopper\/0/);
      expect(events(h.trace, 'update_begin')[0]).toMatchObject({ cpus: [0] });
      expect(acks(h.trace, 'SHUTDOWN')).toEqual([{ cpu: 0, ret: 0 }]); // 1 of the 2 acks it waits for
    });

    it('on the seed revision the CPU-online precheck under the lock masks the bug: -EBUSY', () => {
      const h = boot(2, { bugs: ['hotplug-before-lock'] });
      offlineAt(h, 'init_state before cpus_read_lock');
      const worker = h.sched.tasks.find((t) => t.name === 'fw_upload_worker')!;
      runTasks(h);
      expect(worker.done).toBe(true);
      expect(events(h.trace, 'update_begin')).toEqual([]);
      expect(h.seam.module!.sysState).toBe('SYS_READY');
    });

    it('without the bug the offline waits for cpus_read_unlock and the update completes on both CPUs', () => {
      const h = boot(2, { rev: { ...V2, cpuOnlinePrecheck: false } });
      const worker = spawn(h.sched, 'fw_upload_worker', 0, seamldrInstallModuleOf(h)(h, bufOf(h, VALID)));
      while (!isLabel(stepTask(h.sched, worker), 'params ready'));
      const down = spawn(h.sched, 'offline', 1, cpuDown(h, 1));
      expect(stepTask(h.sched, down)).toMatchObject({ kind: 'wait', label: 'cpus_write_lock' });
      expect(stepTask(h.sched, worker)).toMatchObject({ kind: 'wait', label: 'stop_machine' }); // cpus_read_lock taken
      expect(h.platform.hotplugReaders).toBe(1);
      runTasks(h);
      const kinds = h.trace.map((e) => e.kind);
      expect(kinds.indexOf('hotplug')).toBeGreaterThan(kinds.indexOf('update_end'));
      expect(events(h.trace, 'update_begin')[0]).toMatchObject({ cpus: [0, 1] });
      expect(events(h.trace, 'update_end')[0]).toEqual({ kind: 'update_end', ret: 0, state: 'DONE' });
      expect(h.platform.cpus[1]!.online).toBe(false);
    });
  });
});

describe('SEAMLDR.INSTALL no-entropy retry (seed, spec §2.7)', () => {
  it('one CPU: the retry opens a fresh session that completes', () => {
    const h = boot(1);
    expect(install(h, VALID, { faults: { noEntropy: 1 } })).toBe(0);
    expect(callsOf(h.trace, P_SEAMLDR_INSTALL).map((e) => e.status)).toEqual([0x8000000000030001n, 0n]);
    expect(versionShow(h)).toBe('1.5.08');
  });

  it('two CPUs: the retry joins a new session alone, "succeeds", and TDH.SYS.INIT finds no module', () => {
    const h = boot(2);
    expect(install(h, VALID, { faults: { noEntropy: 1 } })).toBe(-19);
    const w = lastUpdate(h.trace);
    expect(calls(w).filter((c) => c.startsWith('SEAMLDR'))).toEqual(['SEAMLDR.INSTALL@0=0x0', 'SEAMLDR.INSTALL@1=0x8000000000030001', 'SEAMLDR.INSTALL@1=0x0']);
    expect(work(w).filter((x) => x.startsWith('CPU_INIT'))).toEqual(['CPU_INIT@0=-19', 'CPU_INIT@1=-19']);
    expect(h.seam.pseamldr.session?.called).toEqual(new Set([1]));
    expect(h.log).toContain('virt/tdx: module not loaded');
    expect(versionShow(h)).toBe(-6);
  });

  it('without the retry (merged policy) even one CPU fails', () => {
    const h = boot(1, { rev: { ...V2, seamldrEntropyRetry: false } });
    expect(install(h, VALID, { faults: { noEntropy: 1 } })).toBe(-EIO);
    expect(callsOf(h.trace, P_SEAMLDR_INSTALL)).toHaveLength(1);
  });
});

describe('the image in P-SEAMLDR hands', () => {
  it('P-SEAMLDR reads the module through the params page: SEAMLDR.INFO first, then the update', () => {
    const h = boot(2);
    const n = h.trace.length;
    expect(install(h, VALID)).toBe(0);
    expect(callsOf(h.trace.slice(n), P_SEAMLDR_INFO)).toHaveLength(1);
    expect(h.seam.seamdb[1]!.version).toEqual({ major: 1, minor: 5, update: 8 });
  });

  it('a UPDATE failing with a status whose low half is 0 is still a failure without the seeded bug', () => {
    const h = boot(2);
    expect(install(h, VALID, { faults: { leafFail: { leaf: TDH.SYS_UPDATE, cpu: null, status: TDX_SYS_INVALID_HANDOFF } } })).toBe(-EIO);
    expect(h.tdx.state.initialized).toBe(false);
  });

  it('a module with a bad hash passes the kernel and is lost in P-SEAMLDR after shutdown', () => {
    const h = boot(2);
    expect(installRef(h, corrupt({ kind: 'module_bitflip', byte: 9, bit: 2 }))).toBe(-EIO);
    expect(calls(lastUpdate(h.trace)).slice(-1)).toEqual(['SEAMLDR.INSTALL@1=0x8000000000020001']);
    expect(h.seam.module).toBeNull();
    expect(versionShow(h)).toBe(-6);
  });
});

describe('parseImageV2 (merged tdx_image 0x200, spec §3.2) on the upstream revision', () => {
  const V2 = imageBytes(imageRef('1.5.08', { format: 'v2' }));
  const v2 = (c: ImageCorruption) => imageBytes(imageRef('1.5.08', { format: 'v2', corruption: c }));

  it('accepts a well-formed image, and installs it end to end with CPU 0 as the lead', () => {
    const h = boot(2, { rev: UPSTREAM });
    expect(parseImageV2(h, bufOf(h, V2))).toEqual({ ret: 0, layout: { sigPage: 1, nrSigPages: 1, modulePage: 2, nrModulePages: 2 } });
    expect(install(h, V2)).toBe(0);
    expect(events(h.trace, 'update_begin')[0]).toMatchObject({ cpus: [0, 1], lead: 0 });
    expect(h.seam.module!.identity.version.update).toBe(8);
  });

  it.each([
    { kind: 'truncate', length: 100 },
    { kind: 'truncate', length: 4095 },
    { kind: 'short_blob', length: 100 },
    { kind: 'bad_magic' },
    { kind: 'bad_version' },
    { kind: 'bad_length' },
    { kind: 'reserved_nonzero', index: 9 },
    { kind: 'sig_size', pages: 2 },
    { kind: 'module_unaligned' },
    { kind: 'module_too_big' },
    { kind: 'page_count_overflow', extra: 0 },
  ] as ImageCorruption[])('rejects %o with -EINVAL without reading past the image or stopping the machine', (c) => {
    const h = boot(1, { rev: UPSTREAM });
    expect(install(h, v2(c))).toBe(-EINVAL);
    expect(events(h.trace, 'oob_read')).toEqual([]);
    expect(events(h.trace, 'update_begin')).toEqual([]);
  });

  it('does not check the checksum', () => {
    const h = boot(1, { rev: UPSTREAM });
    expect(parseImageV2(h, bufOf(h, v2({ kind: 'bad_checksum' }))).ret).toBe(0);
  });

  it('passes s = 0 and m = 0 on to P-SEAMLDR (spec §3.2 "Not rejected by the kernel")', () => {
    const h = boot(1, { rev: UPSTREAM });
    expect(parseImageV2(h, bufOf(h, v2({ kind: 'sig_size', pages: 0 })))).toEqual({
      ret: 0,
      layout: { sigPage: 1, nrSigPages: 0, modulePage: 1, nrModulePages: 2 },
    });
    expect(parseImageV2(h, bufOf(h, v2({ kind: 'no_module_pages' })))).toEqual({
      ret: 0,
      layout: { sigPage: 1, nrSigPages: 1, modulePage: 2, nrModulePages: 0 },
    });
  });

  it('without a sigstruct page, SEAMLDR_PARAMS carries no sigstruct address', () => {
    const h = boot(1, { rev: UPSTREAM });
    const img = bufOf(h, v2({ kind: 'sig_size', pages: 0 }));
    const pa = h.mem.allocPages(1)[0]!;
    expect(initSeamldrParams(h, pa, img)).toBe(0);
    const v = new DataView(h.mem.page(pa)!.buffer);
    expect([v.getBigUint64(8, true), v.getBigUint64(120, true), v.getBigUint64(128, true)]).toEqual([0n, 2n, BigInt(img.pas[1]!)]);
  });

  it('header-before-size (B13) also bites the v2 parser: a 10-byte image has its page counts read past the end', () => {
    const h = boot(1, { rev: UPSTREAM, bugs: ['header-before-size'] });
    expect(install(h, v2({ kind: 'truncate', length: 10 }))).toBe(-EINVAL);
    expect(events(h.trace, 'oob_read')[0]).toEqual({ kind: 'oob_read', offset: 12, len: 10 });
  });

  it('the seed revision refuses a v2 image and the upstream one a v1 blob', () => {
    expect(install(boot(1), V2)).toBe(-EINVAL);
    expect(install(boot(1, { rev: UPSTREAM }), VALID)).toBe(-EINVAL);
  });
});

describe('populateSeamldrParams at the bound of module_pages_pa_list (496 entries, spec §5.1, I-16)', () => {
  /** A layout of n module pages after one sigstruct page, over an image of freshly allocated pages. */
  function params(n: number) {
    const h = boot(1);
    const img = { pas: h.mem.allocPages(2 + n), len: (2 + n) * 4096 };
    const pa = h.mem.allocPages(1)[0]!;
    populateSeamldrParams(h, pa, img, { sigPage: 1, nrSigPages: 1, modulePage: 2, nrModulePages: n });
    const v = new DataView(h.mem.page(pa)!.buffer);
    const list = range(496).map((j) => Number(v.getBigUint64(128 + 8 * j, true)));
    return { h, img, v, list };
  }

  it('a 496-page module fills the list exactly and writes nothing past it', () => {
    const { h, img, v, list } = params(496);
    expect(v.getBigUint64(120, true)).toBe(496n);
    expect(list).toEqual(img.pas.slice(2, 498));
    expect(events(h.trace, 'oob_write')).toEqual([]);
  });

  it('a 497-page layout (what the B14 overflow lets through) stops at the 496th entry and records the overflow', () => {
    const { h, img, v, list } = params(497);
    expect(v.getBigUint64(120, true)).toBe(497n);
    expect(list).toEqual(img.pas.slice(2, 498));
    expect(events(h.trace, 'oob_write')).toEqual([{ kind: 'oob_write', index: 496, of: 497 }]);
  });
});

describe('seeded bugs of the prechecks and the v2 parser (B27, B28, B14), driven directly', () => {
  it('no-slots-check (B28): with no update slots left the seed kernel goes on to stop_machine', () => {
    const h = boot(2, { bugs: ['no-slots-check'] });
    h.seam.pseamldr.numRemainingUpdates = 0;
    expect(install(h, VALID)).not.toBe(-ENOSPC);
    expect(events(h.trace, 'update_begin')).toHaveLength(1);
  });

  it('no-cpu-online-check (B27): with a present CPU offline the seed kernel goes on to stop_machine on the others', () => {
    const h = boot(4, { bugs: ['no-cpu-online-check'] });
    h.platform.cpus[2]!.online = false;
    expect(install(h, VALID)).not.toBe(-EBUSY);
    expect(events(h.trace, 'update_begin')[0]).toMatchObject({ cpus: [0, 1, 3] });
  });

  it('page-count-overflow (B14): upstream takes m = 2^20 + k for its u32-wrapped size and overflows the PA list', () => {
    const h = boot(1, { rev: UPSTREAM, bugs: ['page-count-overflow'] });
    const img = bufOf(h, imageBytes(imageRef('1.5.08', { format: 'v2', corruption: { kind: 'page_count_overflow', extra: 0 } })));
    const { ret, layout } = parseImageV2(h, img);
    expect(ret).toBe(0);
    expect(layout).toMatchObject({ nrSigPages: 1, nrModulePages: 0x100000 + 1 });
    expect(initSeamldrParams(h, h.mem.allocPages(1)[0]!, img)).toBe(0);
    expect(events(h.trace, 'oob_write')).toEqual([{ kind: 'oob_write', index: 496, of: 0x100001 }]);
  });
});

describe('the merged statement order, visible in the trace (spec §2.3, §2.5 step 4, §2.7)', () => {
  const V2IMG = imageBytes(imageRef('1.5.08', { format: 'v2' }));
  const upstreamUpload = (bytes: Uint8Array) => {
    const h = boot(2, { rev: UPSTREAM });
    const n = h.trace.length;
    return { h, ret: install(h, bytes), t: h.trace.slice(n) };
  };

  it('upstream refreshes the version inside stop_machine, on the lead CPU, after TDH.SYS.UPDATE and before DONE', () => {
    const { h, ret, t } = upstreamUpload(V2IMG);
    expect(ret).toBe(0);
    const upd = t.findIndex((e) => e.kind === 'seamcall' && e.leaf === TDH.SYS_UPDATE);
    const done = t.findIndex((e) => e.kind === 'state' && e.state === 'DONE');
    const reads = t.flatMap((e, i) => (e.kind === 'seamcall' && e.leaf === TDH.SYS_RD && i > upd ? [{ i, task: e.task, cpu: e.cpu }] : []));
    expect(reads.map((r) => [r.task, r.cpu])).toEqual([
      ['stopper/0', 0],
      ['stopper/0', 0],
      ['stopper/0', 0],
    ]);
    expect(reads.every((r) => r.i < done)).toBe(true);
    expect(upd).toBeGreaterThan(0);
    expect(h.tdx.sysinfo.version).toEqual({ major: 1, minor: 5, update: 8 });
  });

  it('v2 refreshes it afterwards, from the upload worker, once stop_machine has returned', () => {
    const h = boot(2);
    const n = h.trace.length;
    expect(install(h, VALID)).toBe(0);
    const t = h.trace.slice(n);
    const end = t.findIndex((e) => e.kind === 'update_end');
    const reads = t.flatMap((e, i) => (e.kind === 'seamcall' && e.leaf === TDH.SYS_RD ? [{ i, task: e.task }] : []));
    expect(reads).toHaveLength(4); // major, minor, update, MODULE_HV
    expect(reads.every((r) => r.i > end && r.task === 'fw_upload_worker')).toBe(true);
  });

  it('upstream issues no SEAMLDR.INFO: a corrupt image is refused without any SEAMCALL, a good one starts with the handoff read', () => {
    expect(calls(upstreamUpload(imageBytes(imageRef('1.5.08', { format: 'v2', corruption: { kind: 'bad_magic' } }))).t)).toEqual([]);
    const { t } = upstreamUpload(V2IMG);
    expect(callsOf(t, P_SEAMLDR_INFO)).toEqual([]);
    expect(events(t, 'seamcall')[0]).toMatchObject({ task: 'stopper/0', leaf: TDH.SYS_RD });
  });

  it('v2 asks SEAMLDR.INFO for the slots before it looks at the image', () => {
    const h = boot(2);
    const n = h.trace.length;
    expect(install(h, corruptBlobV1(VALID, { kind: 'bad_magic' }))).toBe(-EINVAL);
    expect(calls(h.trace.slice(n))).toEqual(['SEAMLDR.INFO@0=0x0']);
  });
});
