// Tests for impl/firmware/pseamldr.ts: the SEAMLDR.INSTALL session rules, every rejection with
// its recoverability, what a successful install changes, and SEAMLDR.INFO.
import { describe, expect, it } from 'vitest';
import {
  P_SEAMLDR_INFO,
  P_SEAMLDR_INSTALL,
  SEAMLDR_EBADCALL,
  SEAMLDR_EBADHASH,
  SEAMLDR_EBADPARAM,
  SEAMLDR_EBADSIG,
  SEAMLDR_ENOENTROPY,
  SEAMLDR_ENOMEM,
  SEAMLDR_EUNSUPCPU,
  SEAMLDR_EUNSUPPORTED,
  SEAMLDR_INFO_OFF,
  PAGE_SIZE,
  SEAMLDR_PARAMS_OFF,
  SEAMLDR_SCENARIO_LOAD,
  SEAMLDR_SUCCESS,
  TDH,
  TDX_SEAMCALL_VMFAILINVALID,
  TDX_SUCCESS,
  TDX_SYS_SHUTDOWN,
} from '../../../impl/firmware/abi.ts';
import { BLOB_V1, buildBlobV1, corruptBlobV1, fixChecksumV1, sigstructFieldsOf } from '../../../impl/firmware/image.ts';
import { buildSigstruct, keyHash, signSigstruct, type SigstructFields } from '../../../impl/firmware/sigstruct.ts';
import { ROGUE_KEY_PEM } from '../../../impl/firmware/test_key.ts';
import { seamcall, type Seam } from '../../../impl/firmware/seam.ts';
import { SLOTS_EXHAUSTED_STATUS, seamldrInfo } from '../../../impl/firmware/pseamldr.ts';
import { BOOT, bootSeam, bringUp, identity, installAll, NEXT, paramsView, stageBlob } from './helpers.ts';

/** A booted, SYS_READY platform whose module has been shut down, as the kernel does first. */
function shutDown(nrCpus = 4, over: Parameters<typeof bootSeam>[1] = {}, cpuFms?: number): Seam {
  const seam = bootSeam(nrCpus, over, cpuFms);
  bringUp(seam);
  expect(seamcall(seam, 0, TDH.SYS_SHUTDOWN, { rcx: 1n }).status).toBe(TDX_SUCCESS);
  return seam;
}

function installBlob(seam: Seam, blob: Uint8Array) {
  return installAll(seam, stageBlob(seam, blob)).at(-1)!;
}

/** Expect a recoverable failure: old module back, seam_ready restored, nothing else changed. */
function expectRecoverable(seam: Seam, status: bigint, blob: Uint8Array): void {
  const old = seam.module;
  const slots = seam.pseamldr.numRemainingUpdates;
  expect(installBlob(seam, blob)).toEqual({ status, out: 0n });
  expect(seam.module).toBe(old);
  expect(seam.seamReady).toBe(true);
  expect(seam.seamdb).toHaveLength(1);
  expect(seam.pseamldr.session).toBeNull();
  expect(seam.pseamldr.numRemainingUpdates).toBe(slots);
  expect(seam.handoff?.valid).toBe(true);
  // TDs are lost anyway: the old module is still in SYS_SHUTDOWN.
  expect(seamcall(seam, 0, TDH.SYS_RD).status).toBe(TDX_SYS_SHUTDOWN);
}

describe('SEAMLDR.INSTALL session', () => {
  it('the first LP clears seam_ready; only the last LP installs', () => {
    const seam = shutDown();
    const old = seam.module;
    const pa = stageBlob(seam, buildBlobV1(NEXT));
    for (const cpu of [2, 0, 3]) {
      expect(seamcall(seam, cpu, P_SEAMLDR_INSTALL, { rcx: pa })).toEqual({ status: SEAMLDR_SUCCESS, out: 0n });
      expect(seam.seamReady).toBe(false);
      expect(seam.module).toBe(old);
      expect(seam.seamdb).toHaveLength(1);
      expect(seamcall(seam, cpu, TDH.SYS_INIT).status).toBe(TDX_SEAMCALL_VMFAILINVALID);
    }
    expect(seam.pseamldr.session!.lpsInUpdate).toBe(3);
    expect(seamcall(seam, 1, P_SEAMLDR_INSTALL, { rcx: pa })).toEqual({ status: SEAMLDR_SUCCESS, out: 0n });
    expect(seam.seamReady).toBe(true);
    expect(seam.module).not.toBe(old);
    expect(seam.module!.identity.version).toEqual(NEXT.version);
    expect(seam.module!.sysState).toBe('SYSINIT_PENDING');
    expect(seam.pseamldr.session).toBeNull();
  });

  it('the same LP twice in a session gets EBADCALL and does not count', () => {
    const seam = shutDown();
    const pa = stageBlob(seam, buildBlobV1(NEXT));
    seamcall(seam, 1, P_SEAMLDR_INSTALL, { rcx: pa });
    expect(seamcall(seam, 1, P_SEAMLDR_INSTALL, { rcx: pa })).toEqual({ status: SEAMLDR_EBADCALL, out: 0n });
    expect(seam.pseamldr.session!.lpsInUpdate).toBe(1);
    for (const cpu of [0, 2]) seamcall(seam, cpu, P_SEAMLDR_INSTALL, { rcx: pa });
    expect(seam.seamdb).toHaveLength(1);
    expect(seamcall(seam, 3, P_SEAMLDR_INSTALL, { rcx: pa }).status).toBe(SEAMLDR_SUCCESS);
    expect(seam.seamdb).toHaveLength(2);
  });

  it('with an offline CPU nothing is ever installed and seam_ready stays cleared', () => {
    const seam = shutDown();
    seam.platform.cpus[3].online = false;
    const pa = stageBlob(seam, buildBlobV1(NEXT));
    for (const cpu of [0, 1, 2]) {
      expect(seamcall(seam, cpu, P_SEAMLDR_INSTALL, { rcx: pa })).toEqual({ status: SEAMLDR_SUCCESS, out: 0n });
    }
    expect(seam.seamReady).toBe(false);
    expect(seam.seamdb).toHaveLength(1);
    expect(seamcall(seam, 0, TDH.SYS_INIT).status).toBe(TDX_SEAMCALL_VMFAILINVALID);
    // The half-filled bitmap makes a retry fail.
    expect(seamcall(seam, 0, P_SEAMLDR_INSTALL, { rcx: pa }).status).toBe(SEAMLDR_EBADCALL);
  });

  it('an injected install failure returns its status without joining the session', () => {
    const seam = shutDown();
    seam.faults.installFail = { cpu: 2, status: SEAMLDR_ENOMEM };
    const pa = stageBlob(seam, buildBlobV1(NEXT));
    expect(seamcall(seam, 2, P_SEAMLDR_INSTALL, { rcx: pa })).toEqual({ status: SEAMLDR_ENOMEM, out: 0n });
    expect(seam.faults.installFail).toBeNull();
    expect(seam.pseamldr.session).toBeNull();
    expect(seam.seamReady).toBe(true);
    expect(installAll(seam, pa).at(-1)!.status).toBe(SEAMLDR_SUCCESS);
  });
});

describe('SEAMLDR.INSTALL success', () => {
  it('appends a SEAMDB entry, updates SEAMSVN and consumes an update slot', () => {
    const seam = shutDown();
    expect(seam.handoff?.valid).toBe(true);
    const handoff = seam.handoff;
    expect(installBlob(seam, buildBlobV1(NEXT))).toEqual({ status: SEAMLDR_SUCCESS, out: 0n });
    expect(seam.seamdb.map((e) => e.index)).toEqual([0, 1]);
    expect(seam.seamdb[1]).toMatchObject({ version: NEXT.version, seamsvn: NEXT.seamsvn });
    expect(seam.seamdb[1].nonce).not.toBe(seam.seamdb[0].nonce);
    expect(seam.seamdb[1].mrseam).not.toBe(seam.seamdb[0].mrseam);
    expect(seam.pseamldr.currentSeamSvn).toBe(NEXT.seamsvn);
    expect(seam.pseamldr.numRemainingUpdates).toBe(1);
    expect(seam.handoff).toBe(handoff); // survives the install
  });

  it('re-installing the same image gets a new SEAMDB entry and nonce', () => {
    const seam = shutDown();
    installBlob(seam, buildBlobV1(BOOT));
    expect(seam.seamdb).toHaveLength(2);
    expect(seam.seamdb[1].mrseam).toBe(seam.seamdb[0].mrseam);
    expect(seam.seamdb[1].nonce).not.toBe(seam.seamdb[0].nonce);
  });

  it('the LOAD scenario does not consume a slot', () => {
    const seam = shutDown();
    expect(installAll(seam, stageBlob(seam, buildBlobV1(NEXT), SEAMLDR_SCENARIO_LOAD)).at(-1)!.status).toBe(SEAMLDR_SUCCESS);
    expect(seam.pseamldr.numRemainingUpdates).toBe(2);
  });

  it('an equal SEAMSVN is allowed; reserved2 is not checked', () => {
    const seam = shutDown();
    const blob = corruptBlobV1(buildBlobV1(identity(9, { seamsvn: BOOT.seamsvn })), { kind: 'sigstruct_bitflip', byte: 3000, bit: 4 });
    expect(installBlob(seam, blob).status).toBe(SEAMLDR_SUCCESS);
  });
});

describe('SEAMLDR.INSTALL recoverable rejections', () => {
  const cases: [string, bigint, () => Uint8Array, Parameters<typeof bootSeam>[1]?, number?][] = [
    ['SEAMSVN downgrade', SEAMLDR_EBADSIG, () => buildBlobV1(identity(9, { seamsvn: BOOT.seamsvn - 1 }))],
    ['rogue key', SEAMLDR_EBADSIG, () => corruptBlobV1(buildBlobV1(NEXT), { kind: 'rogue_key' })],
    ['signed-field bit flip', SEAMLDR_EBADSIG, () => corruptBlobV1(buildBlobV1(NEXT), { kind: 'sigstruct_bitflip', byte: 20, bit: 0 })],
    ['vendor bit flip', SEAMLDR_EBADSIG, () => corruptBlobV1(buildBlobV1(NEXT), { kind: 'sigstruct_bitflip', byte: 16, bit: 1 })],
    ['debug module on a locked platform', SEAMLDR_EBADSIG, () => buildBlobV1(identity(9, { debug: true }))],
    ['CPU not in the table', SEAMLDR_EUNSUPCPU, () => buildBlobV1(identity(9, { cpuids: [0xa06d0, 0xa06e0] }))],
    ['platform CPU not in the table', SEAMLDR_EUNSUPCPU, () => buildBlobV1(NEXT), {}, 0xa06d5],
    ['slots exhausted', SLOTS_EXHAUSTED_STATUS, () => buildBlobV1(NEXT), { numRemainingUpdates: 0 }],
  ];
  it.each(cases)('%s', (_name, status, blob, cfg = {}, fms) => {
    expectRecoverable(shutDown(4, cfg, fms), status, blob());
  });

  it('no entropy, consumed one failure at a time', () => {
    const seam = shutDown();
    seam.faults.noEntropy = 1;
    expectRecoverable(seam, SEAMLDR_ENOENTROPY, buildBlobV1(NEXT));
    expect(seam.faults.noEntropy).toBe(0);
    expect(installBlob(seam, buildBlobV1(NEXT)).status).toBe(SEAMLDR_SUCCESS);
  });

  it('a debug module loads on a debug-unlocked platform, with or without a CPUID table', () => {
    expect(installBlob(shutDown(4, { debugUnlocked: true }), buildBlobV1(identity(9, { debug: true }))).status).toBe(SEAMLDR_SUCCESS);
    expect(installBlob(shutDown(4, { debugUnlocked: true }), buildBlobV1(identity(9, { debug: true, cpuids: [] }))).status).toBe(SEAMLDR_SUCCESS);
  });
  it('a production module with an empty CPUID table is EBADSIG', () => {
    expectRecoverable(shutDown(), SEAMLDR_EBADSIG, buildBlobV1(identity(9, { cpuids: [] })));
  });
});

describe('SEAMLDR_PARAMS checks (EBADPARAM, recoverable)', () => {
  const edits: [string, (v: DataView) => void][] = [
    ['version != 0', (v) => v.setUint32(SEAMLDR_PARAMS_OFF.VERSION, 1, true)],
    ['reserved byte set', (v) => v.setUint8(SEAMLDR_PARAMS_OFF.RESERVED + 103, 1)],
    ['scenario 2', (v) => v.setUint32(SEAMLDR_PARAMS_OFF.SCENARIO, 2, true)],
    ['no module pages', (v) => v.setBigUint64(SEAMLDR_PARAMS_OFF.NUM_MODULE_PAGES, 0n, true)],
    ['497 module pages', (v) => v.setBigUint64(SEAMLDR_PARAMS_OFF.NUM_MODULE_PAGES, 497n, true)],
    ['unaligned sigstruct PA', (v) => v.setBigUint64(SEAMLDR_PARAMS_OFF.SIGSTRUCT_PA, v.getBigUint64(8, true) + 8n, true)],
    ['module page not in memory', (v) => v.setBigUint64(SEAMLDR_PARAMS_OFF.MODULE_PAGES_PA_LIST + 8, 0x1000n, true)],
  ];
  it.each(edits)('%s', (_name, edit) => {
    const seam = shutDown();
    const pa = stageBlob(seam, buildBlobV1(NEXT));
    edit(paramsView(seam, pa));
    expect(installAll(seam, pa).at(-1)).toEqual({ status: SEAMLDR_EBADPARAM, out: 0n });
    expect(seam.seamReady).toBe(true);
    expect(seam.seamdb).toHaveLength(1);
  });

  it('params page not in memory', () => {
    const seam = shutDown();
    expect(installAll(seam, 0x3000n).at(-1)).toEqual({ status: SEAMLDR_EBADPARAM, out: 0n });
    expect(seam.seamReady).toBe(true);
  });
});

describe('SEAMLDR.INSTALL unrecoverable failure', () => {
  it('a module bit flip zeroes the range and SEAMEXTEND (EBADHASH, RDX=1)', () => {
    const seam = shutDown();
    const blob = corruptBlobV1(buildBlobV1(NEXT), { kind: 'module_bitflip', byte: 5000, bit: 6 });
    expect(installBlob(seam, blob)).toEqual({ status: SEAMLDR_EBADHASH, out: 1n });
    expect(seam.module).toBeNull();
    expect(seam.seamReady).toBe(false);
    expect(seam.pseamldr.currentSeamSvn).toBe(0);
    expect(seam.pseamldr.numRemainingUpdates).toBe(2);
    expect(seam.seamdb).toHaveLength(1);
    expect(seam.handoff?.valid).toBe(true);
    expect(seamcall(seam, 0, TDH.SYS_INIT).status).toBe(TDX_SEAMCALL_VMFAILINVALID);
    // No module to update any more: UPDATE needs seam_ready in the snapshot.
    expect(installBlob(seam, buildBlobV1(NEXT)).status).toBe(SEAMLDR_EBADPARAM);
    // LOAD still works.
    expect(installAll(seam, stageBlob(seam, buildBlobV1(NEXT), SEAMLDR_SCENARIO_LOAD)).at(-1)!.status).toBe(SEAMLDR_SUCCESS);
    expect(seam.seamReady).toBe(true);
  });
});

describe('SEAMLDR.INFO', () => {
  it('reports version, slots and seam_ready, typed and in memory', () => {
    const seam = bootSeam(2, { seamldrVersion: { major: 2, minor: 0, update: 3 }, numRemainingUpdates: 7 });
    expect(seamldrInfo(seam, 0)).toEqual({
      status: SEAMLDR_SUCCESS,
      info: { version: { major: 2, minor: 0, update: 3 }, numRemainingUpdates: 7, seamReady: true, seamDebug: false },
    });
    const [pa] = seam.mem.allocPages(1);
    expect(seamcall(seam, 1, P_SEAMLDR_INFO, { rcx: BigInt(pa + 256) }).status).toBe(SEAMLDR_SUCCESS);
    const page = seam.mem.page(pa)!;
    const v = new DataView(page.buffer, 256);
    expect([v.getUint16(SEAMLDR_INFO_OFF.MAJOR, true), v.getUint16(SEAMLDR_INFO_OFF.MINOR, true), v.getUint16(SEAMLDR_INFO_OFF.UPDATE, true)]).toEqual([
      2, 0, 3,
    ]);
    expect(v.getUint32(SEAMLDR_INFO_OFF.NUM_REMAINING_UPDATES, true)).toBe(7);
    expect(v.getUint8(SEAMLDR_INFO_OFF.SEAM_READY)).toBe(1);
    expect(page.subarray(0, 256).every((x) => x === 0)).toBe(true);
  });
  it('rejects a misaligned or absent buffer', () => {
    const seam = bootSeam(2);
    const [pa] = seam.mem.allocPages(1);
    expect(seamcall(seam, 0, P_SEAMLDR_INFO, { rcx: BigInt(pa + 8) }).status).toBe(SEAMLDR_EBADPARAM);
    expect(seamcall(seam, 0, P_SEAMLDR_INFO, { rcx: 0n }).status).toBe(SEAMLDR_EBADPARAM);
  });
  it('shows seam_ready cleared during a session', () => {
    const seam = shutDown(2);
    seamcall(seam, 0, P_SEAMLDR_INSTALL, { rcx: stageBlob(seam, buildBlobV1(NEXT)) });
    expect(seamldrInfo(seam, 1).info.seamReady).toBe(false);
  });
});

describe('SEAMLDR.INSTALL: num_module_pages at its bounds (1..496, spec §3.3)', () => {
  it.each([1, 496])('a %i-page module installs', (nrPages) => {
    const seam = shutDown(2);
    const next = identity(9, { nrPages });
    expect(installBlob(seam, buildBlobV1(next)).status).toBe(SEAMLDR_SUCCESS);
    expect(seam.module!.identity).toMatchObject({ version: next.version, nrPages });
  });
});

// A blob of NEXT whose sigstruct fields are edited and re-signed with the trusted key, so that
// only the edited field can be what P-SEAMLDR refuses.
function edited(over: Partial<SigstructFields>, id = NEXT): Uint8Array {
  const blob = buildBlobV1(id);
  blob.set(buildSigstruct({ ...sigstructFieldsOf(id), ...over }), BLOB_V1.OFF_SIGSTRUCT);
  fixChecksumV1(blob);
  return blob;
}

describe("verify_manifest in the real loader's order (data/README.md)", () => {
  it.each([
    ['min_update_hv above module_hv', { minUpdateHv: 2, moduleHv: 1 }, SEAMLDR_EBADSIG],
    ['gdt_idt_offset not 4 KiB aligned', { gdtIdtOffset: 0x1010 }, SEAMLDR_EBADSIG],
    ['gdt_idt_offset without fault_wrapper_offset', { faultWrapperOffset: 0 }, SEAMLDR_EBADSIG],
    ['fault_wrapper_offset without gdt_idt_offset', { gdtIdtOffset: 0 }, SEAMLDR_EBADSIG],
    ['gdt_idt_offset past the module', { gdtIdtOffset: 3 * PAGE_SIZE }, SEAMLDR_EBADSIG],
    ['fault_wrapper_offset past the module', { faultWrapperOffset: 3 * PAGE_SIZE + 4 }, SEAMLDR_EBADSIG],
    ['major SVN 0', { seamsvn: 0x09 }, SEAMLDR_EUNSUPPORTED],
    ['a different major SVN on UPDATE', { seamsvn: 0x209 }, SEAMLDR_EUNSUPPORTED],
    ['a lower minor SVN on UPDATE', { seamsvn: 0x107 }, SEAMLDR_EBADSIG],
  ] as const)('%s is refused', (_name, over, status) => {
    expectRecoverable(shutDown(), status, edited(over));
  });
  it('an equal SEAMSVN and a both-zero offset pair are accepted', () => {
    expect(installBlob(shutDown(), edited({ seamsvn: BOOT.seamsvn })).status).toBe(SEAMLDR_SUCCESS);
    expect(installBlob(shutDown(), edited({ gdtIdtOffset: 0, faultWrapperOffset: 0 })).status).toBe(SEAMLDR_SUCCESS);
  });
  it('checks the key before the SVN and the SVN before the CPUID table', () => {
    const rogue = edited({ seamsvn: 0x09 });
    const s = rogue.slice(BLOB_V1.OFF_SIGSTRUCT, BLOB_V1.OFF_SIGSTRUCT + 2048);
    signSigstruct(s, ROGUE_KEY_PEM);
    rogue.set(s, BLOB_V1.OFF_SIGSTRUCT);
    fixChecksumV1(rogue);
    expectRecoverable(shutDown(), SEAMLDR_EBADSIG, rogue);
    expectRecoverable(shutDown(), SEAMLDR_EUNSUPPORTED, edited({ seamsvn: 0x209, cpuidTable: [0xa06d0] }));
  });
  it('a 1.5 P-SEAMLDR reserves 1000..1023, where a 2.0 one reads the module version', () => {
    const v2Fields = { moduleVersion: { major: 2, minor: 0, update: 9, build: 0x372, extra: 0 } };
    expectRecoverable(shutDown(), SEAMLDR_EBADSIG, edited(v2Fields));
    const loader20 = { seamldrVersion: { major: 2, minor: 0, update: 0 } };
    expect(installBlob(shutDown(4, loader20), edited(v2Fields)).status).toBe(SEAMLDR_SUCCESS);
  });
  it('trusts exactly the anchor it was built with', () => {
    expectRecoverable(shutDown(4, { signerKeyHash: keyHash(ROGUE_KEY_PEM) }), SEAMLDR_EBADSIG, buildBlobV1(NEXT));
    expect(installBlob(shutDown(4, { signerKeyHash: keyHash(ROGUE_KEY_PEM) }), buildBlobV1(NEXT, ROGUE_KEY_PEM)).status).toBe(SEAMLDR_SUCCESS);
  });
});
