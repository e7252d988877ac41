// Tests for model/update.ts: the update contract as a reader of the spec would check it.
// Refused = nothing changed and a documented errno; Lost = only after the old module was shut
// down, every TD dead, `version` -ENXIO; Applied = the new module, one slot used, TDs kept.
import { describe, expect, it } from 'vitest';
import { cpuOffline, cpuOnline, readSeamldr, readVersion } from '../../model/host.ts';
import { MRTD_INIT, measurePageAdd } from '../../model/measure.ts';
import { typeOk, type ModelState } from '../../model/state.ts';
import { tdCreate, tdExtend, tdPageAdd, tdRun } from '../../model/td.ts';
import type { FaultPlan, ModelImage, ModelParams } from '../../model/types.ts';
import { cancel, fwDone, fwLoad, fwPrepare, fwWrite, readError, update, type Errno } from '../../model/update.ts';
import { attempt, BOOT, COMPAT_PARAMS, img, load, NEXT, NO_PRECHECKS, page, SEED_PARAMS, spec, state, UPSTREAM_PARAMS, withoutUpload, withTds } from './fixtures.ts';

const EBUSY = -16, ENODEV = -19, EINVAL = -22, ENOSPC = -28, ENXIO = -6, ECANCELED = -125;

/** A model state with TDs in every phase, after `setup`. */
function prepared(setup: (s: ModelState) => void = () => {}, host = {}, params: ModelParams = SEED_PARAMS): ModelState {
  const s = withTds(state(host, params));
  setup(s);
  return s;
}

/** Makes the module lost the way the contract does: an update whose image fails its hash. */
function loseModule(s: ModelState, lpInitWorks = false): void {
  const p = attempt(s, img(NEXT, 'none'), lpInitWorks ? { kind: 'leaf', leaf: 'UPDATE', cpu: null } : { kind: 'install', cpu: 1 });
  expect(p.outcome).toBe('lost');
  fwDone(s);
}

interface Refusal { name: string; errno: Errno; image?: ModelImage; fault?: FaultPlan; setup?: (s: ModelState) => void; host?: object; params?: ModelParams; because: RegExp; error?: string }

const REFUSALS: Refusal[] = [
  { name: 'no update slots left (seed precheck)', errno: ENOSPC, host: { numRemainingUpdates: 0 }, because: /no update slots/ },
  { name: 'the kernel rejects the image header', errno: EINVAL, image: img(NEXT, 'header'), because: /rejects the image/ },
  { name: 'a CPU is offline (seed precheck)', errno: EBUSY, setup: (s) => { cpuOffline(s, 2); }, because: /offline/ },
  { name: 'the module was already lost', errno: 'fails', setup: (s) => loseModule(s), because: /already lost/ },
  { name: 'the running module refuses the handoff version (above module_hv)', errno: 'fails', setup: (s) => { s.handoffHv = 1; }, because: /handoff version 1/ },
  {
    name: 'a no-downgrade module refuses a handoff version below its module_hv', errno: 'fails',
    host: { boot: spec(6, { moduleHv: 2, minUpdateHv: 1, noDowngrade: true }) }, setup: (s) => { s.handoffHv = 1; }, because: /handoff version 1/,
  },
  { name: 'the running module refuses a handoff version below min_update_hv', errno: 'fails', host: { boot: spec(6, { moduleHv: 2, minUpdateHv: 2 }) }, setup: (s) => { s.handoffHv = 1; }, because: /handoff version 1/ },
  { name: 'TDH.SYS.SHUTDOWN fails (e.g. TDX_SYS_BUSY)', errno: 'fails', fault: { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null }, because: /SHUTDOWN fails/ },
  {
    name: 'v3-v10: a module without UPDATE_COMPAT reads AVOID_COMPAT_SENSITIVE as a handoff version (OPERAND_INVALID)', errno: 'fails',
    params: COMPAT_PARAMS, because: /AVOID_COMPAT_SENSITIVE/,
  },
  {
    name: 'v3-v10: a TD is being built on a module with UPDATE_COMPAT (-EBUSY, device-busy)', errno: EBUSY,
    params: COMPAT_PARAMS, host: { boot: spec(6, { updateCompat: true }) }, because: /being built/, error: 'transferring:device-busy',
  },
  { name: 'v3-v10: a CPU is offline (-EBUSY reads device-busy too)', errno: EBUSY, params: COMPAT_PARAMS, setup: (s) => { cpuOffline(s, 1); }, because: /offline/, error: 'transferring:device-busy' },
];

describe('refused: a documented errno and nothing changed', () => {
  it.each(REFUSALS.map((r) => [r.name, r] as const))('%s', (_n, r) => {
    const s = prepared(r.setup, r.host, r.params);
    const version = readVersion(s);
    load(s, r.image ?? img(), r.fault ?? null);
    const before = withoutUpload(s);
    const p = update(s);
    expect(p.outcome).toBe('refused');
    expect(p.errno).toBe(r.errno);
    expect(p.because).toMatch(r.because);
    expect(withoutUpload(s)).toEqual(before);
    expect(readVersion(s)).toBe(version);
    expect(fwDone(s)).toBe(r.error ?? 'transferring:firmware-invalid');
    expect(s.upload.remainingSize).toBe((r.image ?? img()).size);
    expect(typeOk(s)).toBe(true);
  });
  it('a cancel that reached the write op: -ECANCELED, nothing changed, user-abort', () => {
    const s = prepared();
    fwLoad(s, img(), null);
    fwPrepare(s);
    expect(cancel(s)).toBe(0);
    expect(fwWrite(s)).toBe(true);
    const before = withoutUpload(s);
    expect(update(s)).toMatchObject({ outcome: 'refused', errno: ECANCELED });
    expect(withoutUpload(s)).toEqual(before);
    expect(fwDone(s)).toBe('transferring:user-abort');
    expect(s.upload.remainingSize).toBe(16384);
  });
});

interface Loss { name: string; image?: ModelImage; fault?: FaultPlan; host?: object; params?: ModelParams; setup?: (s: ModelState) => void; lpInitWorks: boolean; installed: boolean; because: RegExp }

const LOSSES: Loss[] = [
  // P-SEAMLDR installs nothing (spec §4.1 row 5).
  {
    // P-SEAMLDR waits for every platform LP: nothing installed, TDH.SYS.INIT gets VMfailInvalid.
    name: 'a CPU is offline and the kernel does not check (merged, spec §3.6, §8 B27)', params: NO_PRECHECKS,
    setup: (s) => { cpuOffline(s, 3); }, lpInitWorks: false, installed: false, because: /offline/,
  },
  { name: 'SEAMLDR.INSTALL fails on one CPU', fault: { kind: 'install', cpu: 2 }, lpInitWorks: false, installed: false, because: /INSTALL fails on CPU 2/ },
  { name: 'P-SEAMLDR rejects the sigstruct (EBADSIG)', image: img(NEXT, 'signature'), lpInitWorks: false, installed: false, because: /sigstruct/ },
  { name: 'a debug module on a production platform', image: img(spec(8, { debug: true })), lpInitWorks: false, installed: false, because: /debug/ },
  { name: 'a SEAMSVN downgrade', image: img(spec(8, { seamsvn: BOOT.seamsvn - 1 })), lpInitWorks: false, installed: false, because: /SEAMSVN/ },
  { name: 'the CPU is not in the module\'s CPUID table (EUNSUPCPU)', image: img(spec(8, { cpuids: [0xa06d0] })), lpInitWorks: false, installed: false, because: /CPUID/ },
  { name: 'no entropy twice, with the v2 retry', fault: { kind: 'no_entropy', count: 2 }, lpInitWorks: false, installed: false, because: /entropy/ },
  { name: 'no update slots and no precheck (merged, spec §8 B28)', host: { numRemainingUpdates: 0 }, params: NO_PRECHECKS, lpInitWorks: false, installed: false, because: /no update slots/ },
  { name: 'the module does not match its sigstruct hash (EBADHASH)', image: img(NEXT, 'hash'), lpInitWorks: false, installed: false, because: /hash/ },
  // Installed, but the new module never becomes ready (rows 7 and 8).
  { name: 'TDH.SYS.INIT fails', fault: { kind: 'leaf', leaf: 'SYS_INIT', cpu: null }, lpInitWorks: false, installed: true, because: /SYS.INIT/ },
  { name: 'TDH.SYS.LP.INIT fails', fault: { kind: 'leaf', leaf: 'LP_INIT', cpu: 3 }, lpInitWorks: true, installed: true, because: /LP.INIT/ },
  { name: 'the new module cannot import the handoff version', image: img(spec(8, { moduleHv: 2, minUpdateHv: 1 })), lpInitWorks: true, installed: true, because: /import handoff version 0/ },
  { name: 'TDH.SYS.UPDATE fails', fault: { kind: 'leaf', leaf: 'UPDATE', cpu: null }, lpInitWorks: true, installed: true, because: /SYS.UPDATE/ },
];

describe('lost: only after shutdown; every TD dead, version -ENXIO', () => {
  it.each(LOSSES.map((l) => [l.name, l] as const))('%s', (_n, l) => {
    const s = prepared(l.setup, l.host, l.params);
    const slots = s.slots;
    const pages = structuredClone([...s.tds.values()].map((td) => td.pages));
    const image = l.image ?? img();
    const p = attempt(s, image, l.fault ?? null);
    expect(p).toMatchObject({ outcome: 'lost', errno: 'fails' });
    expect(p.because).toMatch(l.because);
    expect(s.module).toEqual({ status: 'lost', lpInitWorks: l.lpInitWorks });
    expect([...s.tds.values()].every((td) => !td.alive)).toBe(true);
    expect([...s.tds.values()].map((td) => td.pages)).toEqual(pages);
    expect(readVersion(s)).toBe(ENXIO);
    // A module that P-SEAMLDR installed used a slot and set the SEAMSVN, even if it never ran.
    expect(s.slots).toBe(slots - (l.installed ? 1 : 0));
    expect(s.seamsvn).toBe(l.installed ? image.module.seamsvn : BOOT.seamsvn);
    expect(readSeamldr(s, 'num_remaining_updates')).toBe(String(s.slots));
    expect(fwDone(s)).toBe('transferring:firmware-invalid');
    expect(typeOk(s)).toBe(true);
    // A retry is refused, never applied, and changes nothing (spec §8 B31).
    const before = withoutUpload(s);
    expect(attempt(s, img(spec(9)))).toMatchObject({ outcome: 'refused', errno: 'fails' });
    expect(withoutUpload(s)).toEqual(before);
    fwDone(s);
    // Nothing runs any more; a CPU comes back only if the new module got to SYSINIT_DONE.
    expect(tdRun(s, 4, [])).toBe(false);
    expect(tdCreate(s, 9)).toBe(false);
    expect(s.tds.get(9)!.alive).toBe(false);
    expect(cpuOffline(s, 1)).toBe(0);
    expect(cpuOnline(s, 1)).toBe(l.lpInitWorks ? 0 : 'fails');
    expect(s.online[1]).toBe(l.lpInitWorks);
    expect(typeOk(s)).toBe(true);
  });
});

describe('applied', () => {
  it('runs the new module, uses one slot, keeps every TD and its pages, restarts measurements mid-build', () => {
    const s = prepared();
    const before = structuredClone(s.tds);
    const p = attempt(s, img(NEXT));
    expect(p).toEqual({ outcome: 'applied', errno: 0, because: 'the new module runs' });
    expect(s.module).toEqual({ status: 'ready', spec: NEXT });
    expect(readVersion(s)).toBe('1.5.08');
    expect(s.slots).toBe(1);
    expect(readSeamldr(s, 'num_remaining_updates')).toBe('1');
    expect(s.seamsvn).toBe(NEXT.seamsvn);
    for (const [id, td] of s.tds) {
      const was = before.get(id)!;
      expect(td.alive).toBe(was.alive);
      expect(td.phase).toBe(was.phase);
      expect(td.pages).toEqual(was.pages);
      expect(td.launch).toEqual(was.launch);
      expect(td.mrtd).toEqual(td.phase === 'building' ? MRTD_INIT : was.mrtd);
    }
    expect(before.get(3)!.mrtd).not.toEqual(MRTD_INIT);
    expect(fwDone(s)).toBe('');
    expect(s.upload.remainingSize).toBe(0);
    expect(typeOk(s)).toBe(true);
  });
  it('a TD mid-build measures on from the restarted measurement; its launch TCB stays the old module', () => {
    const s = prepared();
    attempt(s, img(NEXT));
    expect(tdPageAdd(s, 3, 5, page(9))).toBe(true);
    expect(s.tds.get(3)!.mrtd).toEqual(measurePageAdd(MRTD_INIT, 5));
    expect(s.tds.get(3)!.launch).toEqual({ version: BOOT.version, seamsvn: BOOT.seamsvn });
    tdCreate(s, 7);
    expect(s.tds.get(7)!.launch).toEqual({ version: NEXT.version, seamsvn: NEXT.seamsvn });
  });
  it('a new module with UPDATE_COMPAT keeps the TD mid-build but refuses to continue its measurement (spec §3.7)', () => {
    const s = prepared();
    const before = structuredClone(s.tds.get(3)!);
    expect(attempt(s, img(spec(8, { updateCompat: true }))).outcome).toBe('applied');
    const td = s.tds.get(3)!;
    expect(td).toMatchObject({ alive: true, phase: 'building', buildBroken: true, pages: before.pages, mrtd: before.mrtd });
    expect([...s.tds.values()].filter((t) => t.buildBroken).length).toBe(1);
    // TDX_INCOMPATIBLE_MRTD_CONTEXT on the next build call: KVM_BUG_ON.
    expect(tdExtend(s, 3, 1)).toBe(false);
    expect(td.alive).toBe(false);
    expect(tdRun(s, 4, [])).toBe(true);
  });
  it('v3-v10: with AVOID_COMPAT_SENSITIVE on an UPDATE_COMPAT module and no TD mid-build, the update applies', () => {
    const s = state({ boot: spec(6, { updateCompat: true }) }, COMPAT_PARAMS);
    tdCreate(s, 1);
    expect(attempt(s, img(spec(8, { updateCompat: true })))).toMatchObject({ outcome: 'applied', errno: 0 });
    expect(fwDone(s)).toBe('');
  });
  it('the merged kernel: no prechecks, no retry, no cancel; a healthy update still applies', () => {
    const s = withTds(state({}, UPSTREAM_PARAMS));
    fwLoad(s, img(), null);
    expect(cancel(s)).toBe(0);
    fwPrepare(s);
    expect(fwWrite(s)).toBe(false);
    expect(update(s).outcome).toBe('applied');
    expect(attempt(state({ numRemainingUpdates: 0 }, UPSTREAM_PARAMS), img())).toMatchObject({ outcome: 'lost', because: expect.stringMatching(/no update slots/) });
  });
  it('the kernel asks the new module for its own handoff version next time, if the revision refreshes it', () => {
    const next = spec(8, { moduleHv: 2, minUpdateHv: 0 });
    const fresh = state();
    attempt(fresh, img(next));
    expect(fresh.handoffHv).toBe(2);
    const stale = state({}, { ...SEED_PARAMS, currentHandoffHv: false });
    attempt(stale, img(next));
    expect(stale.handoffHv).toBe(0);
  });
  it('a stale handoff version makes the next update refused by a no-downgrade module (spec §8 B9)', () => {
    const s = state({ numRemainingUpdates: 3 }, { ...SEED_PARAMS, currentHandoffHv: false });
    expect(attempt(s, img(spec(8, { moduleHv: 1, minUpdateHv: 0, noDowngrade: true }))).outcome).toBe('applied');
    fwDone(s);
    expect(attempt(s, img(spec(9, { moduleHv: 1 })))).toMatchObject({ outcome: 'refused', errno: 'fails' });
  });
  it('allows an equal SEAMSVN, a debug module on a debug-unlocked platform, and ignores the CPU stepping', () => {
    expect(attempt(state(), img(spec(8, { seamsvn: BOOT.seamsvn }))).outcome).toBe('applied');
    expect(attempt(state({ debugUnlocked: true }), img(spec(8, { debug: true }))).outcome).toBe('applied');
    expect(attempt(state({ cpuFms: 0x806ff }), img(NEXT)).outcome).toBe('applied');
  });
  it('a reinstall of the running version is an update like any other', () => {
    const s = state();
    expect(attempt(s, img(BOOT)).outcome).toBe('applied');
    expect(s.slots).toBe(1);
  });
  it('updates use the slots up, then the seed refuses with -ENOSPC', () => {
    const s = state();
    for (const u of [8, 9]) {
      expect(attempt(s, img(spec(u))).outcome).toBe('applied');
      fwDone(s);
    }
    expect(s.slots).toBe(0);
    expect(attempt(s, img(spec(13)))).toMatchObject({ outcome: 'refused', errno: ENOSPC });
  });
});

describe('order of the checks', () => {
  const outcomeOf = (s: ModelState, image: ModelImage, fault: FaultPlan | null = null) => attempt(s, image, fault);
  it('a cancel seen by the write op beats every other reason', () => {
    const s = state({ numRemainingUpdates: 0 });
    cpuOffline(s, 1);
    fwLoad(s, img(NEXT, 'header'), null);
    fwPrepare(s);
    cancel(s);
    fwWrite(s);
    expect(update(s).errno).toBe(ECANCELED);
  });
  it('no slots (-ENOSPC) beats a header defect (-EINVAL): v2 checks slots before parsing', () => {
    expect(outcomeOf(state({ numRemainingUpdates: 0 }), img(NEXT, 'header')).errno).toBe(ENOSPC);
  });
  it('a header defect (-EINVAL) beats an offline CPU (-EBUSY)', () => {
    const s = state();
    cpuOffline(s, 3);
    expect(outcomeOf(s, img(NEXT, 'header')).errno).toBe(EINVAL);
  });
  it('an offline CPU (-EBUSY) beats a lost module', () => {
    const s = state();
    loseModule(s, true);
    cpuOffline(s, 3);
    expect(outcomeOf(s, img(spec(9))).errno).toBe(EBUSY);
  });
  it('a lost module beats a handoff refusal', () => {
    const s = state();
    loseModule(s);
    s.handoffHv = 7;
    expect(outcomeOf(s, img(spec(9))).because).toMatch(/already lost/);
  });
  it('a SHUTDOWN fault beats a handoff refusal (the fault strikes before the leaf looks at RCX); both refuse', () => {
    const s = state();
    s.handoffHv = 7;
    expect(outcomeOf(s, img(), { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null })).toMatchObject({ outcome: 'refused', because: expect.stringMatching(/SHUTDOWN fails/) });
    expect(outcomeOf(state({}, COMPAT_PARAMS), img(), { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null }).because).toMatch(/SHUTDOWN fails/);
  });
  it('a handoff refusal beats the AVOID_COMPAT_SENSITIVE refusals', () => {
    const s = state({ boot: spec(6, { updateCompat: true }) }, COMPAT_PARAMS);
    s.handoffHv = 7;
    tdCreate(s, 1);
    expect(outcomeOf(s, img()).because).toMatch(/handoff version 7/);
  });
  it('a failing SHUTDOWN beats every P-SEAMLDR rejection: refused, not lost', () => {
    for (const image of [img(NEXT, 'signature'), img(NEXT, 'hash'), img(spec(8, { seamsvn: 1 }))]) {
      expect(outcomeOf(state(), image, { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null }).outcome).toBe('refused');
    }
  });
  it('P-SEAMLDR rejections beat bring-up faults: nothing installed, no slot used', () => {
    const s = state();
    const p = outcomeOf(s, img(NEXT, 'signature'), { kind: 'leaf', leaf: 'UPDATE', cpu: null });
    expect(p.because).toMatch(/sigstruct/);
    expect(s.module).toEqual({ status: 'lost', lpInitWorks: false });
    expect(s.slots).toBe(2);
  });
  it('without prechecks, the kernel\'s header check still comes first', () => {
    const s = state({ numRemainingUpdates: 0 }, NO_PRECHECKS);
    cpuOffline(s, 2);
    expect(outcomeOf(s, img(NEXT, 'header')).errno).toBe(EINVAL);
  });
  it('in P-SEAMLDR the manifest checks come before the slots, and the slots before the hash', () => {
    expect(outcomeOf(state({ numRemainingUpdates: 0 }, NO_PRECHECKS), img(NEXT, 'signature')).because).toMatch(/sigstruct/);
    expect(outcomeOf(state({ numRemainingUpdates: 0 }, NO_PRECHECKS), img(NEXT, 'hash')).because).toMatch(/no update slots/);
  });
});

describe('no entropy in P-SEAMLDR', () => {
  const grid = [true, false].flatMap((retry) => [1, 2].flatMap((count) => [1, 2, 4].map((nrCpus) => [retry, count, nrCpus] as const)));
  it.each(grid)('entropyRetry %s, %i failure(s), %i CPU(s)', (retry, count, nrCpus) => {
    const s = state({ nrCpus }, { ...SEED_PARAMS, entropyRetry: retry });
    const recovers = retry && count === 1 && nrCpus === 1;
    expect(attempt(s, img(), { kind: 'no_entropy', count }).outcome).toBe(recovers ? 'applied' : 'lost');
  });
  it('zero failures is no fault at all', () => {
    expect(attempt(state(), img(), { kind: 'no_entropy', count: 0 }).outcome).toBe('applied');
  });
});

describe('cancel and the fw_upload node', () => {
  it('cancel while idle: -ENODEV and no effect at all', () => {
    const s = withTds(state());
    const before = structuredClone(s);
    expect(cancel(s)).toBe(ENODEV);
    expect(s).toEqual(before);
    expect(attempt(s, img()).outcome).toBe('applied');
  });
  it('cancel after the upload started but before prepare is forgotten', () => {
    const s = state();
    fwLoad(s, img(), null);
    expect(cancel(s)).toBe(0);
    fwPrepare(s);
    expect(fwWrite(s)).toBe(false);
    expect(update(s).outcome).toBe('applied');
    expect(fwDone(s)).toBe('');
  });
  it('cancel after prepare: the write op refuses with -ECANCELED, error reads transferring:user-abort', () => {
    const s = state();
    fwLoad(s, img(), null);
    fwPrepare(s);
    expect(cancel(s)).toBe(0);
    expect(cancel(s)).toBe(0);
    expect(fwWrite(s)).toBe(true);
    expect(update(s)).toMatchObject({ outcome: 'refused', errno: ECANCELED });
    expect(readError(s)).toBe(EBUSY);
    expect(fwDone(s)).toBe('transferring:user-abort');
    expect(readError(s)).toBe('transferring:user-abort');
    expect(s.upload.cancelRequested).toBe(false);
  });
  it('a kernel without cancel support (v4+) accepts the write and ignores it', () => {
    const s = state({}, { ...SEED_PARAMS, cancelSupport: false });
    fwLoad(s, img(), null);
    fwPrepare(s);
    expect(cancel(s)).toBe(0);
    expect(fwWrite(s)).toBe(false);
    expect(update(s).outcome).toBe('applied');
  });
  it('cancel once the update started has no effect on it', () => {
    const s = state();
    load(s);
    expect(cancel(s)).toBe(0);
    expect(update(s).outcome).toBe('applied');
    expect(fwDone(s)).toBe('');
  });
  it('a cancelled upload does not cancel the next one', () => {
    const s = state();
    fwLoad(s, img(), null);
    fwPrepare(s);
    cancel(s);
    fwWrite(s);
    update(s);
    fwDone(s);
    expect(attempt(s, img()).outcome).toBe('applied');
  });
  it('a second upload while one is in flight is ignored and changes nothing', () => {
    const s = state();
    fwLoad(s, img(), null);
    const before = structuredClone(s);
    expect(fwLoad(s, img(spec(9)), { kind: 'install', cpu: 0 })).toBe('ignored');
    expect(s).toEqual(before);
  });
  it('an empty upload starts nothing and keeps the previous error (spec §4.1 row 0)', () => {
    const s = state();
    attempt(s, img(NEXT, 'header'));
    fwDone(s);
    const before = structuredClone(s);
    expect(fwLoad(s, img(NEXT, 'none', 0), null)).toBe('empty');
    expect(s).toEqual(before);
    expect(readError(s)).toBe('transferring:firmware-invalid');
  });
  it('a new upload clears the previous error; `error` is -EBUSY while in flight', () => {
    const s = state();
    attempt(s, img(NEXT, 'header'));
    fwDone(s);
    expect(fwLoad(s, img(), null)).toBe('started');
    expect(s.upload.error).toBe('');
    expect(readError(s)).toBe(EBUSY);
  });
  it('refused and lost read the same `error`; only `version` tells them apart (spec §8 B30)', () => {
    const refused = state(), lost = state();
    attempt(refused, img(NEXT, 'header'));
    attempt(lost, img(NEXT, 'hash'));
    expect(fwDone(refused)).toBe(fwDone(lost));
    expect(readVersion(refused)).toBe('1.5.06');
    expect(readVersion(lost)).toBe(ENXIO);
  });
});

// Discrepancies between model/update.ts and the spec, kept as executable reproductions (see
// the report). `it.fails` passes while the model disagrees and fails once it is fixed.
describe('known discrepancies with the spec', () => {
  it.fails('a SHUTDOWN fault bound to a CPU other than the lead cannot strike (SHUTDOWN runs on the lead only, spec §2.4)', () => {
    expect(attempt(state(), img(), { kind: 'leaf', leaf: 'SHUTDOWN', cpu: 1 }).outcome).toBe('applied');
  });
  it.fails('an UPDATE fault bound to a CPU other than the lead cannot strike (RUN_UPDATE runs on the lead only, spec §2.4)', () => {
    expect(attempt(state(), img(), { kind: 'leaf', leaf: 'UPDATE', cpu: 1 }).outcome).toBe('applied');
  });
});
