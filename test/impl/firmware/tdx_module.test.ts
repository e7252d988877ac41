// Tests for impl/firmware/tdx_module.ts: the dispatcher gates, the system-state machine with every
// status of spec §5.3 it can return, SHUTDOWN/UPDATE and the handoff, the TD leaves, and the MRTD
// chaining including its re-initialization by a new module instance (spec §3.7).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  PAGE_SIZE,
  MD_MAJOR_VERSION,
  MD_MIN_UPDATE_HV,
  MD_MINOR_VERSION,
  MD_MODULE_HV,
  MD_NO_DOWNGRADE,
  MD_TDX_FEATURES0,
  MD_UPDATE_VERSION,
  OPERAND_ID_R8,
  OPERAND_ID_R9,
  OPERAND_ID_RCX,
  OPERAND_ID_RDX,
  TDH,
  TDH_SYS_CONFIG,
  TDH_SYS_KEY_CONFIG,
  TDX_OPERAND_INVALID,
  TDX_OPERAND_PAGE_METADATA_INCORRECT,
  TDX_SUCCESS,
  TDX_SYS_BUSY,
  TDX_SYS_CONFIG_NOT_PENDING,
  TDX_SYS_INCOMPATIBLE_SIGSTRUCT,
  TDX_SYS_INIT_NOT_PENDING,
  TDX_SYS_INVALID_HANDOFF,
  TDX_SYS_KEY_CONFIG_NOT_PENDING,
  TDX_SYS_LP_INIT_DONE,
  TDX_SYS_LP_INIT_NOT_DONE,
  TDX_SYS_LP_INIT_NOT_PENDING,
  TDX_SYS_NOT_READY,
  TDX_SYS_SHUTDOWN,
  TDX_SYS_STATE_INCORRECT,
  TDX_TD_FINALIZED,
  TDX_TD_NOT_FINALIZED,
  TDX_TD_NOT_INITIALIZED,
} from '../../../impl/firmware/abi.ts';
import { BLOB_V1, buildBlobV1, fixChecksumV1, moduleImage, moduleSigstruct, sigstructFieldsOf } from '../../../impl/firmware/image.ts';
import { buildSigstruct, parseSigstruct } from '../../../impl/firmware/sigstruct.ts';
import { installModule } from '../../../impl/firmware/pseamldr.ts';
import { lookupBuild, registerBuild } from '../../../impl/firmware/registry.ts';
import { seamcall, type Seam } from '../../../impl/firmware/seam.ts';
import { BOOT, bootSeam, bringUp, expectOk, identity, initModule, installAll, NEXT, stageBlob, update } from './helpers.ts';

const st = (seam: Seam, cpu: number, leaf: bigint, args = {}) => seamcall(seam, cpu, leaf, args).status;

function ready(nrCpus = 2, boot = BOOT): Seam {
  const seam = bootSeam(nrCpus, { boot });
  bringUp(seam);
  return seam;
}

describe('system state machine (cold boot)', () => {
  it('walks SYSINIT_PENDING -> SYSINIT_DONE -> SYSCONFIG_DONE -> SYS_READY with the right rejections', () => {
    const seam = bootSeam(2);
    const mod = seam.module!;
    expect(mod.sysState).toBe('SYSINIT_PENDING');
    expect(st(seam, 0, TDH.SYS_LP_INIT)).toBe(TDX_SYS_LP_INIT_NOT_PENDING);
    expect(st(seam, 0, TDH.SYS_RD, { rdx: MD_MODULE_HV })).toBe(TDX_SYS_LP_INIT_NOT_DONE);
    expect(st(seam, 0, TDH.MNG_CREATE)).toBe(TDX_SYS_NOT_READY);
    expect(st(seam, 1, TDH.SYS_INIT)).toBe(TDX_SUCCESS);
    expect(mod.sysState).toBe('SYSINIT_DONE');
    expect([mod.seamdbIndex, mod.nonce]).toEqual([0, seam.seamdb[0].nonce]);
    expect(st(seam, 0, TDH.SYS_INIT)).toBe(TDX_SYS_INIT_NOT_PENDING);
    expect(st(seam, 0, TDH.SYS_LP_INIT)).toBe(TDX_SUCCESS);
    expect(st(seam, 0, TDH.SYS_LP_INIT)).toBe(TDX_SYS_LP_INIT_DONE);
    expect(st(seam, 0, TDH_SYS_KEY_CONFIG)).toBe(TDX_SYS_KEY_CONFIG_NOT_PENDING);
    expect(st(seam, 0, TDH_SYS_CONFIG)).toBe(TDX_SYS_CONFIG_NOT_PENDING); // CPU 1 not initialized
    expect(st(seam, 1, TDH.SYS_RD, { rdx: MD_MODULE_HV })).toBe(TDX_SYS_LP_INIT_NOT_DONE);
    expect(st(seam, 1, TDH.SYS_LP_INIT)).toBe(TDX_SUCCESS);
    expect(st(seam, 0, TDH.SYS_SHUTDOWN, { rcx: 1n })).toBe(TDX_SYS_NOT_READY);
    expect(st(seam, 0, TDH_SYS_CONFIG)).toBe(TDX_SUCCESS);
    expect(mod.sysState).toBe('SYSCONFIG_DONE');
    expect(st(seam, 0, TDH_SYS_CONFIG)).toBe(TDX_SYS_CONFIG_NOT_PENDING);
    expect(st(seam, 0, TDH.SYS_UPDATE)).toBe(TDX_SYS_STATE_INCORRECT);
    expect(st(seam, 1, TDH_SYS_KEY_CONFIG)).toBe(TDX_SUCCESS);
    expect(mod.sysState).toBe('SYS_READY');
    expect(st(seam, 0, TDH.SYS_LP_INIT)).toBe(TDX_SYS_LP_INIT_NOT_PENDING);
    expect(st(seam, 0, TDH.SYS_UPDATE)).toBe(TDX_SYS_STATE_INCORRECT);
  });

  it('an offline CPU that never LP-initialized blocks CONFIG', () => {
    const seam = bootSeam(3);
    seam.platform.cpus[2].online = false;
    expectOk(seamcall(seam, 0, TDH.SYS_INIT));
    for (const cpu of [0, 1]) expectOk(seamcall(seam, cpu, TDH.SYS_LP_INIT));
    expect(st(seam, 0, TDH_SYS_CONFIG)).toBe(TDX_SYS_CONFIG_NOT_PENDING);
  });

  it('TDH.SYS.RD returns the module metadata and rejects unknown fields', () => {
    const id = identity(24, { moduleHv: 6, minUpdateHv: 2, noDowngrade: true, features0: 0x800000040002n });
    const seam = ready(2, id);
    const rd = (f: bigint) => seamcall(seam, 1, TDH.SYS_RD, { rdx: f });
    expect(
      [MD_MAJOR_VERSION, MD_MINOR_VERSION, MD_UPDATE_VERSION, MD_MODULE_HV, MD_MIN_UPDATE_HV, MD_NO_DOWNGRADE, MD_TDX_FEATURES0].map((f) => rd(f)),
    ).toEqual([1n, 5n, 24n, 6n, 2n, 1n, 0x800000040002n].map((out) => ({ status: TDX_SUCCESS, out })));
    expect(rd(0x8900000100000003n)).toEqual({ status: TDX_OPERAND_INVALID | OPERAND_ID_RDX });
  });

  it('unknown leaves are OPERAND_INVALID', () => {
    expect(st(ready(), 0, 99n)).toBe(TDX_OPERAND_INVALID);
  });
});

describe('injected leaf failures', () => {
  it('strike the matching leaf once, on the matching CPU, with no effect', () => {
    const seam = ready();
    seam.faults.leafFail = { leaf: TDH.SYS_SHUTDOWN, cpu: 1, status: TDX_SYS_BUSY };
    expect(st(seam, 0, TDH.SYS_RD, { rdx: MD_MODULE_HV })).toBe(TDX_SUCCESS);
    expect(st(seam, 1, TDH.SYS_SHUTDOWN, { rcx: 1n })).toBe(TDX_SYS_BUSY);
    expect(seam.module!.sysState).toBe('SYS_READY');
    expect(seam.faults.leafFail).toBeNull();
    expect(st(seam, 1, TDH.SYS_SHUTDOWN, { rcx: 1n })).toBe(TDX_SUCCESS);
  });
  it('with cpu null strike any CPU', () => {
    const seam = ready();
    seam.faults.leafFail = { leaf: TDH.MNG_CREATE, cpu: null, status: TDX_SYS_BUSY };
    expect(st(seam, 1, TDH.MNG_CREATE, { rcx: 0x5000n, rdx: 3n })).toBe(TDX_SYS_BUSY);
    expect(seam.module!.tds.size).toBe(0);
  });
  it('on TDH.SYS.RD with a field, strike only the read of that field', () => {
    const seam = ready();
    seam.faults.leafFail = { leaf: TDH.SYS_RD, cpu: null, status: TDX_SYS_LP_INIT_NOT_DONE, field: MD_UPDATE_VERSION };
    expect(st(seam, 0, TDH.SYS_RD, { rdx: MD_MODULE_HV })).toBe(TDX_SUCCESS);
    expect(st(seam, 0, TDH.SYS_RD, { rdx: MD_MINOR_VERSION })).toBe(TDX_SUCCESS);
    expect(st(seam, 0, TDH.SYS_RD, { rdx: MD_UPDATE_VERSION })).toBe(TDX_SYS_LP_INIT_NOT_DONE);
    expect(seam.faults.leafFail).toBeNull();
  });
});

describe('TDH.SYS.SHUTDOWN', () => {
  const hvId = (noDowngrade: boolean) => identity(8, { moduleHv: 3, minUpdateHv: 1, noDowngrade });
  it.each([
    [false, 0n, false],
    [false, 1n, true],
    [false, 2n, true],
    [false, 3n, true],
    [false, 4n, false],
    [false, (1n << 16n) | 3n, false],
    [true, 2n, false],
    [true, 3n, true],
  ])('no_downgrade=%s hv=%s ok=%s', (noDowngrade, hv, okay) => {
    const seam = ready(2, hvId(noDowngrade));
    const r = st(seam, 0, TDH.SYS_SHUTDOWN, { rcx: hv });
    if (!okay) {
      expect(r).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX);
      expect(seam.module!.sysState).toBe('SYS_READY');
      expect(seam.handoff).toBeNull();
      return;
    }
    expect(r).toBe(TDX_SUCCESS);
    expect(seam.module!.sysState).toBe('SYS_SHUTDOWN');
    expect(seam.handoff).toMatchObject({ valid: true, hv: Number(hv) });
  });

  it('after shutdown every leaf returns TDX_SYS_SHUTDOWN', () => {
    const seam = ready();
    expectOk(seamcall(seam, 0, TDH.SYS_SHUTDOWN, { rcx: 1n }));
    for (const leaf of [TDH.SYS_SHUTDOWN, TDH.SYS_RD, TDH.SYS_INIT, TDH.SYS_LP_INIT, TDH.SYS_UPDATE, TDH.VP_ENTER, 99n]) {
      expect(st(seam, 1, leaf)).toBe(TDX_SYS_SHUTDOWN);
    }
  });
});

describe('TDH.SYS.UPDATE', () => {
  function shutdownAndInstall(seam: Seam, next = NEXT): void {
    expectOk(seamcall(seam, 0, TDH.SYS_SHUTDOWN, { rcx: BigInt(seam.module!.identity.moduleHv) }));
    expect(installAll(seam, stageBlob(seam, buildBlobV1(next))).at(-1)!.status).toBe(TDX_SUCCESS);
  }

  it('needs SYSINIT_DONE and every LP initialized', () => {
    const seam = ready(3);
    shutdownAndInstall(seam);
    expect(st(seam, 0, TDH.SYS_UPDATE)).toBe(TDX_SYS_LP_INIT_NOT_DONE);
    expectOk(seamcall(seam, 0, TDH.SYS_INIT));
    expectOk(seamcall(seam, 0, TDH.SYS_LP_INIT));
    expectOk(seamcall(seam, 1, TDH.SYS_LP_INIT));
    expect(st(seam, 2, TDH.SYS_RD, { rdx: MD_MODULE_HV })).toBe(TDX_SYS_LP_INIT_NOT_DONE);
    expect(st(seam, 0, TDH.SYS_UPDATE)).toBe(TDX_SYS_STATE_INCORRECT);
    expect(seam.handoff?.valid).toBe(true);
    expectOk(seamcall(seam, 2, TDH.SYS_LP_INIT));
    expect(st(seam, 0, TDH.SYS_UPDATE)).toBe(TDX_SUCCESS);
    expect(seam.module!.sysState).toBe('SYS_READY');
    expect(seam.handoff).toBeNull();
  });

  it('needs a valid handoff', () => {
    const seam = bootSeam(2);
    initModule(seam);
    expect(st(seam, 0, TDH.SYS_UPDATE)).toBe(TDX_SYS_INVALID_HANDOFF);
  });

  it.each([
    ['old hv below the new min_update_hv', identity(9, { moduleHv: 3, minUpdateHv: 2 })],
    ['old hv above the new module_hv', identity(9, { moduleHv: 0, minUpdateHv: 0 })],
  ])('rejects %s', (_name, next) => {
    const seam = ready(2); // BOOT: module_hv 1
    shutdownAndInstall(seam, next);
    initModule(seam);
    expect(st(seam, 0, TDH.SYS_UPDATE)).toBe(TDX_SYS_INVALID_HANDOFF);
    expect(seam.module!.sysState).toBe('SYSINIT_DONE');
    expect(seam.module!.tds.size).toBe(0);
  });

  it('TDH.SYS.INIT rejects a sigstruct whose HV copies differ from the build (INCOMPATIBLE_SIGSTRUCT)', () => {
    const seam = ready(2);
    expectOk(seamcall(seam, 0, TDH.SYS_SHUTDOWN, { rcx: 1n }));
    const blob = buildBlobV1(NEXT);
    blob.set(buildSigstruct({ ...sigstructFieldsOf(NEXT), minUpdateHv: 1 }), BLOB_V1.OFF_SIGSTRUCT);
    fixChecksumV1(blob);
    expect(installAll(seam, stageBlob(seam, blob)).at(-1)!.status).toBe(TDX_SUCCESS);
    expect(st(seam, 0, TDH.SYS_INIT)).toBe(TDX_SYS_INCOMPATIBLE_SIGSTRUCT);
    expect(seam.module!.sysState).toBe('SYSINIT_PENDING');
  });
});

// ---- TDs ----

interface Td {
  tdr: number;
  pages: number[];
}

/** MNG.CREATE + KEY.CONFIG + MNG.INIT. */
function createTd(seam: Seam, hkid = 5): Td {
  const [tdr] = seam.mem.allocPages(1);
  expectOk(seamcall(seam, 0, TDH.MNG_CREATE, { rcx: BigInt(tdr), rdx: BigInt(hkid) }));
  expectOk(seamcall(seam, 1, TDH.MNG_KEY_CONFIG, { rcx: BigInt(tdr) }));
  expectOk(seamcall(seam, 0, TDH.MNG_INIT, { rcx: BigInt(tdr) }));
  return { tdr, pages: [] };
}

/** MEM.PAGE.ADD of a page filled with `fill`, then MR.EXTEND of it. */
function addPage(seam: Seam, td: Td, gpa: number, fill: number): void {
  const [hpa, src] = seam.mem.allocPages(2);
  seam.mem.page(src)!.fill(fill);
  expectOk(seamcall(seam, 0, TDH.MEM_PAGE_ADD, { rcx: BigInt(gpa), rdx: BigInt(td.tdr), r8: BigInt(hpa), r9: BigInt(src) }));
  expectOk(seamcall(seam, 1, TDH.MR_EXTEND, { rcx: BigInt(gpa), rdx: BigInt(td.tdr) }));
  td.pages.push(hpa);
}

// The measurement spelled out independently of the implementation.
const u64 = (x: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(x));
  return b;
};
const ext = (ctx: Buffer, ...rec: Buffer[]) => createHash('sha384').update(ctx).update(Buffer.concat(rec)).digest();
const pageAddRec = (gpa: number) => [Buffer.from('MEM.PAGE.ADD'), u64(gpa * 4096)];
const extendRec = (gpa: number, fill: number) => [Buffer.from('MR.EXTEND'), u64(gpa * 4096), Buffer.alloc(4096, fill)];
const measure = (pages: [number, number][], ctx = Buffer.alloc(48)) =>
  pages.reduce((c, [gpa, fill]) => ext(ext(c, ...pageAddRec(gpa)), ...extendRec(gpa, fill)), ctx);

const tdr = (seam: Seam, td: Td) => seam.module!.tds.get(td.tdr)!;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('TD leaves', () => {
  it('MNG.CREATE records the launching instance; MNG.INIT starts the measurement', () => {
    const seam = ready();
    const td = createTd(seam, 9);
    expect(tdr(seam, td)).toMatchObject({
      hkid: 9,
      keyConfigured: true,
      initialized: true,
      finalized: false,
      launchSeamdbIndex: 0,
      launchNonce: seam.seamdb[0].nonce,
      handoffVersion: 1,
      mrtdSeamdbIndex: 0,
    });
    expect(hex(tdr(seam, td).mrtd)).toBe('00'.repeat(48));
    expect(seam.module!.nextHkid).toBe(10);
  });

  it('measures PAGE.ADD and MR.EXTEND as a SHA-384 chain', () => {
    const seam = ready();
    const td = createTd(seam);
    addPage(seam, td, 0, 0x11);
    addPage(seam, td, 7, 0x22);
    expectOk(seamcall(seam, 0, TDH.MR_FINALIZE, { rcx: BigInt(td.tdr) }));
    expect(hex(tdr(seam, td).mrtd)).toBe(
      measure([
        [0, 0x11],
        [7, 0x22],
      ]).toString('hex'),
    );
    expect(seam.mem.page(td.pages[1])!.every((x) => x === 0x22)).toBe(true);
  });

  it('rejects wrong-phase and bad-operand calls without effect', () => {
    const seam = ready();
    const [t, hpa, src] = seam.mem.allocPages(3);
    const T = BigInt(t);
    expectOk(seamcall(seam, 0, TDH.MNG_CREATE, { rcx: T, rdx: 1n }));
    expect(st(seam, 0, TDH.MNG_CREATE, { rcx: T, rdx: 2n })).toBe(TDX_OPERAND_PAGE_METADATA_INCORRECT | OPERAND_ID_RCX);
    expect(st(seam, 0, TDH.MNG_INIT, { rcx: T })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX); // key not configured
    const add = { rcx: 0n, rdx: T, r8: BigInt(hpa), r9: BigInt(src) };
    expect(st(seam, 0, TDH.MEM_PAGE_ADD, add)).toBe(TDX_TD_NOT_INITIALIZED);
    expectOk(seamcall(seam, 0, TDH.MNG_KEY_CONFIG, { rcx: T }));
    expect(st(seam, 0, TDH.MNG_KEY_CONFIG, { rcx: T })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX);
    expectOk(seamcall(seam, 0, TDH.MNG_INIT, { rcx: T }));
    expect(st(seam, 0, TDH.MNG_INIT, { rcx: T })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX);
    expect(st(seam, 0, TDH.MEM_PAGE_ADD, { ...add, rdx: 0x7000n })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RDX);
    expect(st(seam, 0, TDH.MEM_PAGE_ADD, { ...add, r8: 0x7000n })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_R8);
    expect(st(seam, 0, TDH.MEM_PAGE_ADD, { ...add, r9: 0x7000n })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_R9);
    expect(st(seam, 0, TDH.MR_EXTEND, { rcx: 0n, rdx: T })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX);
    expect(st(seam, 0, TDH.VP_ENTER, { rcx: T })).toBe(TDX_TD_NOT_FINALIZED);
    expect(hex(seam.module!.tds.get(t)!.mrtd)).toBe('00'.repeat(48));
    expectOk(seamcall(seam, 0, TDH.MEM_PAGE_ADD, add));
    expect(st(seam, 0, TDH.MEM_PAGE_ADD, add)).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX);
    expectOk(seamcall(seam, 0, TDH.MR_FINALIZE, { rcx: T }));
    expect(st(seam, 0, TDH.MR_FINALIZE, { rcx: T })).toBe(TDX_TD_FINALIZED);
    expect(st(seam, 0, TDH.MR_EXTEND, { rcx: 0n, rdx: T })).toBe(TDX_TD_FINALIZED);
    expect(st(seam, 0, TDH.MEM_PAGE_ADD, { ...add, rcx: 1n })).toBe(TDX_TD_FINALIZED);
  });

  it('VP.ENTER applies guest stores to private pages, all or nothing', () => {
    const seam = ready();
    const td = createTd(seam);
    addPage(seam, td, 3, 0);
    expectOk(seamcall(seam, 0, TDH.MR_FINALIZE, { rcx: BigInt(td.tdr) }));
    expectOk(seamcall(seam, 1, TDH.VP_ENTER, { rcx: BigInt(td.tdr), writes: [{ gpa: 3, offset: 10, value: 0xab }] }));
    expect(seam.mem.page(td.pages[0])![10]).toBe(0xab);
    const bad = [
      { gpa: 3, offset: 11, value: 1 },
      { gpa: 4, offset: 0, value: 1 },
    ];
    expect(st(seam, 1, TDH.VP_ENTER, { rcx: BigInt(td.tdr), writes: bad })).toBe(TDX_OPERAND_INVALID);
    expect(st(seam, 1, TDH.VP_ENTER, { rcx: BigInt(td.tdr), writes: [{ gpa: 3, offset: 4096, value: 1 }] })).toBe(TDX_OPERAND_INVALID);
    expect(seam.mem.page(td.pages[0])![11]).toBe(0);
  });

  it('MNG.KEY.FREEID tears the TD down', () => {
    const seam = ready();
    const td = createTd(seam);
    expectOk(seamcall(seam, 0, TDH.MNG_KEY_FREEID, { rcx: BigInt(td.tdr) }));
    expect(seam.module!.tds.size).toBe(0);
    expect(st(seam, 0, TDH.MNG_KEY_FREEID, { rcx: BigInt(td.tdr) })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX);
    expect(st(seam, 0, TDH.VP_ENTER, { rcx: BigInt(td.tdr) })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX);
  });
});

describe('TDs across an update', () => {
  it('running TDs are imported with their pages, launch fields and MRTD intact', () => {
    const seam = ready(3);
    const td = createTd(seam, 4);
    addPage(seam, td, 1, 0x5a);
    expectOk(seamcall(seam, 0, TDH.MR_FINALIZE, { rcx: BigInt(td.tdr) }));
    expectOk(seamcall(seam, 2, TDH.VP_ENTER, { rcx: BigInt(td.tdr), writes: [{ gpa: 1, offset: 0, value: 0x99 }] }));
    const mrtd = hex(tdr(seam, td).mrtd);
    expect(update(seam, buildBlobV1(NEXT))).toEqual({ shutdown: TDX_SUCCESS, install: TDX_SUCCESS, update: TDX_SUCCESS });
    const mod = seam.module!;
    expect([mod.identity.version.update, mod.seamdbIndex, mod.nonce]).toEqual([9, 1, seam.seamdb[1].nonce]);
    expect(tdr(seam, td)).toMatchObject({ hkid: 4, launchSeamdbIndex: 0, launchNonce: seam.seamdb[0].nonce, handoffVersion: 1, finalized: true });
    expect(hex(tdr(seam, td).mrtd)).toBe(mrtd);
    expect(seam.mem.page(td.pages[0])![0]).toBe(0x99);
    expect(seam.mem.page(td.pages[0])![1]).toBe(0x5a);
    expectOk(seamcall(seam, 1, TDH.VP_ENTER, { rcx: BigInt(td.tdr), writes: [{ gpa: 1, offset: 1, value: 0x77 }] }));
    expect(seam.mem.page(td.pages[0])![1]).toBe(0x77);
    expect(mod.nextHkid).toBe(5);
    // A TD created after the update belongs to the new instance.
    const td2 = createTd(seam, 6);
    expect(tdr(seam, td2)).toMatchObject({ launchSeamdbIndex: 1, launchNonce: seam.seamdb[1].nonce, mrtdSeamdbIndex: 1 });
  });

  it('an update during TD build re-initializes the measurement (MRTD corrupted)', () => {
    const seam = ready(2);
    const td = createTd(seam);
    addPage(seam, td, 0, 0x11);
    expect(update(seam, buildBlobV1(NEXT)).update).toBe(TDX_SUCCESS);
    expect(tdr(seam, td).mrtdSeamdbIndex).toBe(0); // untouched until the next build leaf
    addPage(seam, td, 1, 0x22);
    expectOk(seamcall(seam, 0, TDH.MR_FINALIZE, { rcx: BigInt(td.tdr) }));
    const got = hex(tdr(seam, td).mrtd);
    expect(tdr(seam, td).mrtdSeamdbIndex).toBe(1);
    expect(got).toBe(measure([[1, 0x22]]).toString('hex'));
    expect(got).not.toBe(
      measure([
        [0, 0x11],
        [1, 0x22],
      ]).toString('hex'),
    );
  });

  it('FINALIZE alone on a new instance resets the context to zeros', () => {
    const seam = ready(2);
    const td = createTd(seam);
    addPage(seam, td, 0, 0x11);
    update(seam, buildBlobV1(NEXT));
    expectOk(seamcall(seam, 0, TDH.MR_FINALIZE, { rcx: BigInt(td.tdr) }));
    expect(hex(tdr(seam, td).mrtd)).toBe('00'.repeat(48));
  });
});

// ---- operand checks and the UPDATE_COMPAT paths ----

const UPDATE_COMPAT = 1n << 47n; // TDX_FEATURES0_UPDATE_COMPAT
const compatId = (update: number) => identity(update, { features0: identity(update).features0 | UPDATE_COMPAT });

describe('TD leaves: operands that name no TD', () => {
  it('every TD leaf given a TDR the module does not hold returns OPERAND_INVALID and changes nothing', () => {
    const seam = ready(2);
    const [nowhere, hpa, src] = seam.mem.allocPages(3);
    const T = BigInt(nowhere);
    expect(st(seam, 0, TDH.MNG_KEY_CONFIG, { rcx: T })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX);
    expect(st(seam, 0, TDH.MNG_INIT, { rcx: T })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX);
    expect(st(seam, 0, TDH.MEM_PAGE_ADD, { rcx: 0n, rdx: T, r8: BigInt(hpa), r9: BigInt(src) })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RDX);
    expect(st(seam, 0, TDH.MR_EXTEND, { rcx: 0n, rdx: T })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RDX);
    expect(st(seam, 0, TDH.MR_FINALIZE, { rcx: T })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX);
    expect(st(seam, 0, TDH.VP_ENTER, { rcx: T, writes: [] })).toBe(TDX_OPERAND_INVALID | OPERAND_ID_RCX);
    expect(seam.module!.tds.size).toBe(0);
  });

  it('TDH.VP.ENTER rejects a store at a negative or fractional offset and writes nothing', () => {
    const seam = ready(2);
    const td = createTd(seam);
    addPage(seam, td, 3, 0x5a);
    expectOk(seamcall(seam, 0, TDH.MR_FINALIZE, { rcx: BigInt(td.tdr) }));
    for (const offset of [-1, 0.5]) {
      const writes = [
        { gpa: 3, offset: 0, value: 0x11 },
        { gpa: 3, offset, value: 0x22 },
      ];
      expect(st(seam, 1, TDH.VP_ENTER, { rcx: BigInt(td.tdr), writes })).toBe(TDX_OPERAND_INVALID);
      expect(seam.mem.page(td.pages[0])![0]).toBe(0x5a);
    }
  });
});

describe('TDH.SYS.INIT: every HV copy of the sigstruct must match the build', () => {
  it.each([
    ['module_hv', { moduleHv: NEXT.moduleHv + 1 }],
    ['no_downgrade', { noDowngrade: !NEXT.noDowngrade }],
    ['num_handoff_pages', { numHandoffPages: 14 }],
  ] as const)('a different %s in the sigstruct is INCOMPATIBLE_SIGSTRUCT', (_name, over) => {
    const seam = ready(2);
    expectOk(seamcall(seam, 0, TDH.SYS_SHUTDOWN, { rcx: 1n }));
    const blob = buildBlobV1(NEXT);
    blob.set(buildSigstruct({ ...sigstructFieldsOf(NEXT), ...over }), BLOB_V1.OFF_SIGSTRUCT);
    fixChecksumV1(blob);
    expect(installAll(seam, stageBlob(seam, blob)).at(-1)!.status).toBe(TDX_SUCCESS);
    expect(st(seam, 0, TDH.SYS_INIT)).toBe(TDX_SYS_INCOMPATIBLE_SIGSTRUCT);
    expect(seam.module!.sysState).toBe('SYSINIT_PENDING');
  });
});

describe('modules with UPDATE_COMPAT (spec §3.7)', () => {
  const AVOID = 1n << 16n; // AVOID_COMPAT_SENSITIVE
  const COMPAT_SENSITIVE = 0x8000051200000000n; // TDX_UPDATE_COMPAT_SENSITIVE
  const MRTD_CONTEXT = 0xc000051300000000n; // TDX_INCOMPATIBLE_MRTD_CONTEXT

  it('SHUTDOWN with AVOID_COMPAT_SENSITIVE refuses while any one TD is mid-build, not only when all are', () => {
    const seam = ready(2, compatId(8));
    const built = createTd(seam, 4);
    addPage(seam, built, 0, 1);
    expectOk(seamcall(seam, 0, TDH.MR_FINALIZE, { rcx: BigInt(built.tdr) }));
    const building = createTd(seam, 5);
    addPage(seam, building, 0, 2);
    expect(st(seam, 0, TDH.SYS_SHUTDOWN, { rcx: 1n | AVOID })).toBe(COMPAT_SENSITIVE);
    expect(seam.module!.sysState).toBe('SYS_READY');
    expect(seam.handoff).toBeNull();
    expectOk(seamcall(seam, 0, TDH.MR_FINALIZE, { rcx: BigInt(building.tdr) }));
    expect(st(seam, 0, TDH.SYS_SHUTDOWN, { rcx: 1n | AVOID })).toBe(TDX_SUCCESS);
  });

  it('after an update to an UPDATE_COMPAT module every build leaf of a TD measured by the old one fails with INCOMPATIBLE_MRTD_CONTEXT', () => {
    const seam = ready(2);
    const td = createTd(seam);
    const [hpa, src] = seam.mem.allocPages(2);
    expectOk(seamcall(seam, 0, TDH.MEM_PAGE_ADD, { rcx: 0n, rdx: BigInt(td.tdr), r8: BigInt(hpa), r9: BigInt(src) }));
    expect(update(seam, buildBlobV1(compatId(9))).update).toBe(TDX_SUCCESS);
    const mrtd = hex(tdr(seam, td).mrtd);
    expect(st(seam, 0, TDH.MR_EXTEND, { rcx: 0n, rdx: BigInt(td.tdr) })).toBe(MRTD_CONTEXT);
    expect(st(seam, 0, TDH.MR_FINALIZE, { rcx: BigInt(td.tdr) })).toBe(MRTD_CONTEXT);
    const [hpa2, src2] = seam.mem.allocPages(2);
    expect(st(seam, 0, TDH.MEM_PAGE_ADD, { rcx: 1n, rdx: BigInt(td.tdr), r8: BigInt(hpa2), r9: BigInt(src2) })).toBe(MRTD_CONTEXT);
    expect(hex(tdr(seam, td).mrtd)).toBe(mrtd);
    expect(tdr(seam, td)).toMatchObject({ finalized: false, mrtdSeamdbIndex: 0 });
  });
});

describe('module identity by SEAMHASH (registry.ts)', () => {
  // NEXT's module with one byte changed, correctly hashed and signed: P-SEAMLDR installs it, but
  // no build is registered under its hash.
  function unknownBuildBlob(): Uint8Array {
    const blob = buildBlobV1(NEXT);
    blob[BLOB_V1.OFF_MODULE + 100] ^= 1;
    const seamhash = new Uint8Array(createHash('sha384').update(blob.subarray(BLOB_V1.OFF_MODULE)).digest());
    blob.set(buildSigstruct({ ...sigstructFieldsOf(NEXT), seamhash }), BLOB_V1.OFF_SIGSTRUCT);
    fixChecksumV1(blob);
    return blob;
  }
  it('an installed module whose hash no build has cannot run: TDH.SYS.INIT is INCOMPATIBLE_SIGSTRUCT', () => {
    const seam = ready(2);
    expectOk(seamcall(seam, 0, TDH.SYS_SHUTDOWN, { rcx: 1n }));
    expect(installAll(seam, stageBlob(seam, unknownBuildBlob())).at(-1)!.status).toBe(TDX_SUCCESS);
    expect(seam.module!.build).toBeNull();
    expect(seam.module!.identity.version).toEqual({ major: 0, minor: 0, update: 0 });
    expect(st(seam, 0, TDH.SYS_INIT)).toBe(TDX_SYS_INCOMPATIBLE_SIGSTRUCT);
  });
  it('the version TDH.SYS.RD reports comes from the registry, not from the module bytes', () => {
    const seam = ready(2);
    const image = moduleImage(BOOT),
      sig = parseSigstruct(moduleSigstruct(BOOT));
    const hash = seam.seamdb[0]!.mrseam;
    registerBuild(hash, { ...lookupBuild(hash)!, version: { major: 1, minor: 5, update: 77 } });
    installModule(seam, image.length / PAGE_SIZE, sig);
    moduleImage(BOOT); // re-registers the true build
    initModule(seam);
    expect(seamcall(seam, 0, TDH.SYS_RD, { rdx: MD_UPDATE_VERSION })).toEqual({ status: TDX_SUCCESS, out: 77n });
  });
  it('TDH.SYS.UPDATE refuses handoff data its build cannot import (INVALID_HANDOFF)', () => {
    const seam = ready(2);
    const next = identity(9, { nrPages: 4 });
    const blob = buildBlobV1(next);
    const hash = seam.seamdb[0]!.mrseam;
    const nextHash = Buffer.from(blob.subarray(BLOB_V1.OFF_SIGSTRUCT + 900, BLOB_V1.OFF_SIGSTRUCT + 948)).toString('hex');
    // The running build writes data version 1.5.01; the new one needs 1.5.04 or later.
    registerBuild(hash, { ...lookupBuild(hash)!, handoffDataVersion: 0x010501 });
    registerBuild(nextHash, { ...lookupBuild(nextHash)!, handoffDataVersion: 0x010504 });
    try {
      expect(update(seam, blob).update).toBe(TDX_SYS_INVALID_HANDOFF);
    } finally {
      registerBuild(hash, { ...lookupBuild(hash)!, handoffDataVersion: 0x010500 });
      registerBuild(nextHash, { ...lookupBuild(nextHash)!, handoffDataVersion: 0x010500 });
    }
  });
});
