// Tests for model/update.ts: the update contract as a reader of the spec would check it.
// Refused = nothing changed and a documented errno; Lost = only after the old module was shut
// down, every TD dead, `version` -ENXIO; Applied = the new module, one slot used, TDs kept.
// Where several conditions hold and the spec promises no order, every one is allowed.
import { describe, expect, it } from 'vitest';
import { cpuOffline, cpuOnline, readSeamldr, readVersion } from '../../model/host.ts';
import { typeOk, type ModelState } from '../../model/state.ts';
import { tdCreate, tdRun } from '../../model/td.ts';
import { EBUSY, ECANCELED, EINVAL, EIO, ENODEV, ENOSPC, ENXIO, type ContractParams, type Errno, type FaultPlan, type ModelImage } from '../../model/types.ts';
import { cancel, fwDone, fwLoad, fwPrepare, fwWrite, readError, readStatus, update } from '../../model/update.ts';
import { attempt, BOOT, COMPAT_PARAMS, img, load, NEXT, NO_PRECHECKS, spec, state, take, UPSTREAM_PARAMS, withoutUpload, withTds } from './fixtures.ts';

/** A model state with TDs in every phase, after `setup`. */
function prepared(setup: (s: ModelState) => void = () => {}, host = {}, params?: ContractParams): ModelState {
  const s = withTds(state(host, params));
  setup(s);
  return s;
}

const errnos = (s: ModelState, image = img(), fault: FaultPlan | null = null) => attempt(s, image, fault).map((a) => [a.result.outcome, a.result.errno]);

/** Makes the module lost the way the contract does: an install that fails. */
function loseModule(s: ModelState): void {
  take(s, attempt(s, img(), { kind: 'install', cpu: 1 }), -5);
  fwDone(s);
}

interface Refusal {
  name: string;
  errno: Errno;
  image?: ModelImage;
  fault?: FaultPlan;
  setup?: (s: ModelState) => void;
  host?: object;
  params?: ContractParams;
  error?: string;
}

const REFUSALS: Refusal[] = [
  { name: 'no update slots left (v2 precheck)', errno: ENOSPC, host: { numRemainingUpdates: 0 } },
  { name: 'the kernel rejects the image header', errno: EINVAL, image: img(NEXT, 'header') },
  {
    name: 'a CPU is offline (v2 precheck)',
    errno: EBUSY,
    setup: (s) => {
      cpuOffline(s, 2);
    },
  },
  { name: 'the module was already lost', errno: 'nonzero', setup: loseModule },
  {
    name: 'the running module refuses the handoff version (above module_hv)',
    errno: 'nonzero',
    setup: (s) => {
      s.handoffHv = 1;
    },
  },
  {
    name: 'a no-downgrade module refuses a handoff version below its module_hv',
    errno: 'nonzero',
    host: { boot: spec(6, { moduleHv: 2, minUpdateHv: 1, noDowngrade: true }) },
    setup: (s) => {
      s.handoffHv = 1;
    },
  },
  { name: 'TDH.SYS.SHUTDOWN fails (e.g. TDX_SYS_BUSY)', errno: 'nonzero', fault: { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null } },
  { name: 'the TDX module has no entropy 10 times: its first call fails after sc_retry', errno: 'nonzero', fault: { kind: 'tdx_no_entropy', count: 10 } },
  {
    name: 'merged: TDH.SYS.RD of MODULE_HV fails, so nothing is shut down (spec §2.5 step 1)',
    errno: 'nonzero',
    fault: { kind: 'leaf', leaf: 'RD_MODULE_HV', cpu: null },
    params: UPSTREAM_PARAMS,
  },
  { name: 'v3-v10: a module without UPDATE_COMPAT reads AVOID_COMPAT_SENSITIVE as a handoff version', errno: 'nonzero', params: COMPAT_PARAMS },
  {
    name: 'v3-v10: a TD is being built on a module with UPDATE_COMPAT',
    errno: EBUSY,
    params: COMPAT_PARAMS,
    host: { boot: spec(6, { updateCompat: true }) },
    error: 'transferring:device-busy',
  },
];

describe('refused: a documented errno and nothing changed', () => {
  it.each(REFUSALS.map((r) => [r.name, r] as const))('%s', (_n, r) => {
    const s = prepared(r.setup, r.host, r.params);
    const version = readVersion(s);
    load(s, r.image ?? img(), r.fault ?? null);
    const before = withoutUpload(s);
    const choices = update(s);
    expect(choices.map((a) => a.result)).toContainEqual({ outcome: 'refused', errno: r.errno });
    expect(choices.every((a) => a.result.outcome === 'refused')).toBe(true);
    take(s, choices, r.errno === 'nonzero' ? -5 : r.errno, (a) => a.result.errno === r.errno);
    expect(withoutUpload(s)).toEqual(before);
    expect(readVersion(s)).toEqual(version);
    expect(fwDone(s)).toBe(r.error ?? 'transferring:firmware-invalid');
    expect(s.upload.remainingSize).toBe((r.image ?? img()).size);
    expect(typeOk(s)).toBe(true);
  });

  it('two refusal reasons at once: either errno is allowed, since the spec orders neither', () => {
    const s = state({ numRemainingUpdates: 0 });
    cpuOffline(s, 1);
    expect(errnos(s, img(NEXT, 'header'))).toEqual([
      ['refused', ENOSPC],
      ['refused', EINVAL],
      ['refused', EBUSY],
    ]);
  });

  it('a refusal is never lost, even when a loss condition holds too (the kernel checks before shutdown)', () => {
    expect(errnos(state(), img(NEXT, 'header'), { kind: 'install', cpu: 0 })).toEqual([['refused', EINVAL]]);
  });

  it('a cancel that reached the write op: -ECANCELED, nothing changed, user-abort', () => {
    const s = prepared();
    take(s, fwLoad(s, img(), null), undefined);
    fwPrepare(s);
    expect(cancel(s)).toBe(0);
    expect(fwWrite(s)).toBe(true);
    const before = withoutUpload(s);
    take(s, update(s), ECANCELED, (a) => a.result.errno === ECANCELED);
    expect(withoutUpload(s)).toEqual(before);
    expect(fwDone(s)).toBe('transferring:user-abort');
  });

  it('a cancel before prepare does not count (v3 fix of B20); without cancel support none does', () => {
    const s = prepared();
    take(s, fwLoad(s, img(), null), undefined);
    cancel(s);
    fwPrepare(s);
    expect(fwWrite(s)).toBe(false);
    const m = prepared(() => {}, {}, UPSTREAM_PARAMS);
    take(m, fwLoad(m, img(), null), undefined);
    fwPrepare(m);
    expect(cancel(m)).toBe(0);
    expect(fwWrite(m)).toBe(false);
    expect(cancel(state())).toBe(ENODEV);
  });
});

const LOSSES: { name: string; image?: ModelImage; fault?: FaultPlan; host?: object; params?: ContractParams; setup?: (s: ModelState) => void }[] = [
  {
    name: 'a CPU is offline and the kernel does not check (merged, B27)',
    params: NO_PRECHECKS,
    setup: (s) => {
      cpuOffline(s, 3);
    },
  },
  { name: 'SEAMLDR.INSTALL fails on one CPU', fault: { kind: 'install', cpu: 2 } },
  { name: 'P-SEAMLDR rejects the sigstruct', image: img(NEXT, 'signature') },
  { name: 'a debug module on a production platform', image: img(spec(8, { debug: true })) },
  { name: 'a SEAMSVN downgrade', image: img(spec(8, { seamsvn: BOOT.seamsvn - 1 })) },
  { name: "the CPU is not in the module's CPUID table", image: img(spec(8, { cpuids: [0xa06d0] })) },
  { name: 'no entropy twice, with the v2 retry', fault: { kind: 'no_entropy', count: 2 } },
  { name: 'no entropy once, without a retry', fault: { kind: 'no_entropy', count: 1 }, params: UPSTREAM_PARAMS },
  { name: 'no update slots and no precheck (merged, B28)', host: { numRemainingUpdates: 0 }, params: NO_PRECHECKS },
  { name: 'the module does not match its sigstruct hash', image: img(NEXT, 'hash') },
  { name: 'TDH.SYS.INIT fails', fault: { kind: 'leaf', leaf: 'SYS_INIT', cpu: null } },
  { name: 'TDH.SYS.LP.INIT fails', fault: { kind: 'leaf', leaf: 'LP_INIT', cpu: 3 } },
  { name: 'the new module cannot import the handoff version', image: img(spec(8, { moduleHv: 2, minUpdateHv: 1 })) },
  { name: 'TDH.SYS.UPDATE fails', fault: { kind: 'leaf', leaf: 'UPDATE', cpu: null } },
];

describe('lost: only after shutdown; every TD dead, version -ENXIO', () => {
  it.each(LOSSES.map((l) => [l.name, l] as const))('%s', (_n, l) => {
    const s = prepared(l.setup, l.host, l.params);
    const slots = s.slots;
    const choices = attempt(s, l.image ?? img(), l.fault ?? null);
    expect(choices.every((a) => a.result.outcome === 'lost' && a.result.errno === 'nonzero')).toBe(true);
    // Whether P-SEAMLDR installed it (a slot used) is the firmware's business: both are allowed
    // while slots are left; with none, nothing can have been installed.
    expect(choices.length).toBe(slots > 0 ? 3 : 1);
    take(s, choices, -5);
    expect(s.module).toEqual({ status: 'lost', lpInitWorks: false });
    expect([...s.tds.values()].every((td) => !td.alive)).toBe(true);
    expect(readVersion(s)).toEqual([{ result: ENXIO, because: expect.any(String) }]);
    expect(s.slots).toBe(slots);
    expect(fwDone(s)).toBe('transferring:firmware-invalid');
    expect(typeOk(s)).toBe(true);
    // A retry is refused and changes nothing (spec §8 B31); nothing runs any more.
    const before = withoutUpload(s);
    expect(attempt(s, img(spec(9))).map((a) => a.result)).toContainEqual({ outcome: 'refused', errno: 'nonzero' });
    expect(withoutUpload(s)).toEqual(before);
    expect(tdRun(s, 4, [])).toBe(false);
    expect(tdCreate(s, 9)).toBe(false);
  });

  it('a CPU comes back after a loss only where the new module got to SYSINIT_DONE', () => {
    for (const lpInitWorks of [false, true]) {
      const s = state();
      take(s, attempt(s, img(), { kind: 'leaf', leaf: 'UPDATE', cpu: null }), -5, (a) =>
        a.because.includes(lpInitWorks ? 'initialized, never' : 'never initialized'),
      );
      expect(s.slots).toBe(1);
      cpuOffline(s, 1);
      const up = cpuOnline(s, 1);
      expect(up.map((a) => a.result)).toEqual([lpInitWorks ? 0 : 'nonzero']);
      take(s, up, lpInitWorks ? 0 : -19);
      expect(s.online[1]).toBe(lpInitWorks);
    }
  });
});

describe('applied: the new module, one slot used, TDs carried over', () => {
  it('the new module runs, its SEAMSVN and handoff version are current, TDs keep pages and launch TCB', () => {
    const s = prepared();
    const before = structuredClone([...s.tds.entries()].map(([id, td]) => [id, td.pages, td.launch, td.alive]));
    const choices = attempt(s);
    expect(choices.map((a) => a.result)).toEqual([{ outcome: 'applied', errno: 0 }]);
    take(s, choices, 0);
    expect(s.module).toEqual({ status: 'ready', spec: NEXT });
    expect([s.slots, s.seamsvn]).toEqual([1, NEXT.seamsvn]);
    expect(readVersion(s).map((a) => a.result)).toEqual([NEXT.version]);
    expect(readSeamldr(s, 'num_remaining_updates').map((a) => a.result)).toEqual([1]);
    expect(structuredClone([...s.tds.entries()].map(([id, td]) => [id, td.pages, td.launch, td.alive]))).toEqual(before);
    expect(fwDone(s)).toBe('');
    expect(s.upload.remainingSize).toBe(0);
    expect(typeOk(s)).toBe(true);
  });

  it('a TD mid-build: an old module restarts its measurement, one with UPDATE_COMPAT breaks the build (§3.7)', () => {
    for (const updateCompat of [false, true]) {
      const s = prepared();
      take(s, attempt(s, img(spec(8, { updateCompat }))), 0);
      const td = s.tds.get(3)!;
      expect([td.buildBroken, td.mrtd === null]).toEqual([updateCompat, !updateCompat]);
      expect(s.tds.get(4)!.mrtd).not.toBeNull(); // finalized: its measurement stays
    }
  });

  it('the TDX module without entropy fewer than 10 times: retried away, applied as without the fault', () => {
    for (const count of [1, 9]) expect(errnos(state(), img(), { kind: 'tdx_no_entropy', count })).toEqual(errnos(state(), img(), null));
  });

  it('one no-entropy failure with the v2 retry: applied or lost, the firmware decides', () => {
    expect(errnos(state(), img(), { kind: 'no_entropy', count: 1 }).map(([o]) => o)).toEqual(['applied', 'lost', 'lost', 'lost']);
  });
});

describe('a failed TDH.SYS.RD after TDH.SYS.UPDATE: applied, and what it would refresh may be stale (B12)', () => {
  const rd = (leaf: 'RD_UPDATE_VERSION' | 'RD_MODULE_HV'): FaultPlan => ({ kind: 'leaf', leaf, cpu: null });
  const hvImage = img(spec(8, { moduleHv: 1 }));

  it('never refuses nor loses on the v2 kernel, and never loses on the merged one', () => {
    for (const leaf of ['RD_UPDATE_VERSION', 'RD_MODULE_HV'] as const) {
      expect(errnos(state(), img(), rd(leaf)).every(([o]) => o === 'applied')).toBe(true);
    }
    expect(errnos(state({}, UPSTREAM_PARAMS), img(), rd('RD_UPDATE_VERSION'))).toEqual([['applied', 0]]);
  });

  it('the version re-read: `version` may show the old module field by field, until an update re-reads it', () => {
    const s = state();
    take(s, attempt(s, img(spec(8)), rd('RD_UPDATE_VERSION')), 0);
    expect(readVersion(s).map((a) => a.result)).toEqual([NEXT.version, BOOT.version]);
    fwDone(s);
    take(s, attempt(s, img(spec(9))), 0);
    expect(readVersion(s).map((a) => a.result)).toEqual([spec(9).version]);
    const other = state({ boot: spec(6, { version: { major: 1, minor: 4, update: 6 } }) });
    other.module = { status: 'ready', spec: NEXT, staleVersion: { major: 1, minor: 4, update: 6 } };
    expect(readVersion(other)).toHaveLength(4);
  });

  it('v2 caches MODULE_HV: after a failed re-read the kernel may ask for the old one; merged reads it at shutdown', () => {
    for (const leaf of ['RD_UPDATE_VERSION', 'RD_MODULE_HV'] as const) {
      const choices = attempt(state(), hvImage, rd(leaf));
      const hvs = choices.map((a) => {
        const t = state();
        load(t, hvImage, rd(leaf));
        a.next?.(t, 0);
        return t.handoffHv;
      });
      expect(hvs).toEqual([1, 0]);
    }
    const m = state({}, UPSTREAM_PARAMS);
    take(m, attempt(m, hvImage, rd('RD_UPDATE_VERSION')), 0);
    expect(m.handoffHv).toBe(1);
  });
});

describe('an injected SEAMLDR.INFO failure', () => {
  const info = (cpu: number): FaultPlan => ({ kind: 'seamldr_info', cpu });

  it('v2, armed on the worker CPU: the precheck may refuse with -EIO, or a read took it first', () => {
    const s = state();
    load(s, img(), info(4)); // CPU 4 of 4 is CPU 0
    expect(s.infoFault).toBe(0);
    expect(update(s).map((a) => a.result)).toEqual([
      { outcome: 'refused', errno: EIO },
      { outcome: 'applied', errno: 0 },
    ]);
    take(s, update(s), -5);
    expect([s.infoFault, s.module.status === 'ready' && s.module.spec]).toEqual([null, BOOT]);
  });

  it('a P-SEAMLDR read may get -EIO while armed, once; the merged update never issues SEAMLDR.INFO', () => {
    const s = state({}, UPSTREAM_PARAMS);
    load(s, img(), info(0));
    expect(update(s).map((a) => a.result)).toEqual([{ outcome: 'applied', errno: 0 }]);
    const read = readSeamldr(s, 'version');
    expect(read.map((a) => a.result)).toEqual([s.host.seamldrVersion, EIO]);
    take(s, read, EIO, (a) => a.result === EIO);
    expect(readSeamldr(s, 'version').map((a) => a.result)).toEqual([s.host.seamldrVersion]);
  });

  it('an update that got past shutdown disarms it', () => {
    const s = state();
    load(s, img(), info(1));
    expect(update(s).map((a) => a.result)).toEqual([{ outcome: 'applied', errno: 0 }]);
    take(s, update(s), 0);
    expect(s.infoFault).toBeNull();
  });
});

describe('chained updates name where they stand (the coverage table)', () => {
  const labels = (a: { because: string }) => a.because.split('; ');

  it('the first update is no chain; the second and third say so, and a change of features', () => {
    const s = state({ numRemainingUpdates: 3 });
    expect(labels(take(s, attempt(s, img(spec(7))), 0))).toEqual(['the new module runs']);
    fwDone(s);
    expect(labels(take(s, attempt(s, img(spec(8, { updateCompat: true }))), 0))).toEqual([
      'the new module runs',
      'after one applied update',
      'to a module whose features differ, after an applied update',
    ]);
    fwDone(s);
    expect(labels(take(s, attempt(s, img(spec(9, { updateCompat: true }))), 0))).toEqual(['the new module runs', 'after two or more applied updates']);
  });

  it('a TD build begun on the module an update installed, refused on compat', () => {
    const s = state({ numRemainingUpdates: 3, boot: spec(6, { updateCompat: true }) }, COMPAT_PARAMS);
    take(s, attempt(s, img(spec(7, { updateCompat: true }))), 0);
    fwDone(s);
    tdCreate(s, 1);
    s.tds.get(1)!.phase = 'building';
    const refused = attempt(s, img(spec(8, { updateCompat: true })));
    expect(refused.map((a) => a.result)).toEqual([{ outcome: 'refused', errno: EBUSY }]);
    expect(labels(refused[0]!)).toContain('right after a TD build began on a module an update installed');
  });
});

describe('the fw_upload node', () => {
  const results = (s: ModelState, size = 16384) => fwLoad(s, img(NEXT, 'none', size), null).map((a) => a.result);

  it('fw_load: a second upload in flight is ignored or refused busy; an empty one starts nothing and keeps the old error', () => {
    const s = state();
    expect(take(s, fwLoad(s, img(), null), undefined).result).toBe('started');
    expect(results(s)).toEqual(['ignored', 'busy']);
    take(s, fwLoad(s, img(), null), undefined, (a) => a.result === 'ignored');
    fwPrepare(s);
    fwWrite(s);
    take(s, update(s), -22, () => true);
    fwDone(s);
    expect(results(s, 0)).toEqual(['empty']);
    expect(readError(s).map((a) => a.result)).toEqual([s.upload.error]);
    expect(results(s)).toEqual(['started']);
  });

  it('fw_load refused busy leaves the loading state done: every later load is ignored, after the upload in flight too', () => {
    const s = state();
    load(s);
    take(s, fwLoad(s, img(), null), undefined, (a) => a.result === 'busy');
    take(s, update(s), 0, (a) => a.result.outcome === 'applied');
    fwDone(s);
    expect(s.upload.busy).toBe(false);
    expect(results(s)).toEqual(['ignored']);
    expect(results(s, 0)).toEqual(['ignored']);
  });

  it('error reads -EBUSY in flight; status moves idle -> (receiving|preparing|transferring) -> (transferring|programming) -> idle', () => {
    const s = state();
    expect(readStatus(s).map((a) => a.result)).toEqual(['idle']);
    load(s);
    expect(readError(s).map((a) => a.result)).toEqual([EBUSY]);
    expect(readStatus(s).map((a) => a.result)).toEqual(['receiving', 'preparing', 'transferring']);
    take(s, update(s), 0);
    expect(readStatus(s).map((a) => a.result)).toEqual(['transferring', 'programming']);
    fwDone(s);
    expect(readStatus(s).map((a) => a.result)).toEqual(['idle']);
  });

  it('-EBUSY reads device-busy only where the revision says so (v8-v10)', () => {
    for (const [params, err] of [
      [COMPAT_PARAMS, 'transferring:device-busy'],
      [NO_PRECHECKS, 'transferring:firmware-invalid'],
    ] as const) {
      const s = state({}, params);
      load(s);
      s.upload.ended = { applied: false, errno: EBUSY };
      expect(fwDone(s)).toBe(err);
    }
  });
});
