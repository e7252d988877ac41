// End-to-end scenarios that end "Lost" (spec §4.1 rows 5-8): something fails after the old
// module was shut down, so TDs are gone, `version` reads -ENXIO, and userspace reads the same
// transferring:firmware-invalid as for a harmless refusal (B30). Also what happens afterwards:
// retries (B31) and CPU onlining (spec §3.6).
import { describe, expect, it } from 'vitest';
import {
  P_SEAMLDR_INSTALL,
  SEAMLDR_EBADHASH,
  SEAMLDR_EBADSIG,
  TDH,
  TDX_SYS_INVALID_HANDOFF,
  TDX_SYS_NOT_READY,
  TDX_SEAMCALL_VMFAILINVALID,
} from '../../impl/firmware/abi.ts';
import {
  callsOf,
  corrupt,
  finalizedTd,
  hostData,
  imageRef,
  lastUpdate,
  linResults,
  offline,
  online,
  readError,
  readSeamldr,
  readVersion,
  run,
  scenario,
  tdCreate,
  tdRun,
  upload,
} from '../impl/kernel/helpers.ts';
import type { Command } from '../../properties/commands/index.ts';
import type { HostData } from '../../properties/scenario.ts';

/** Runs a TD, the fatal upload, then reads everything userspace can see. */
function lost(up: Command, host: HostData = hostData(4), after: Command[] = []) {
  const r = run(scenario(host, [...finalizedTd(), up, readError, readVersion, tdRun(), tdCreate(), ...after]));
  expect(r.violation).toBeNull();
  const h = r.host;
  expect(linResults(h, 'update')[0]).not.toBe(0);
  expect(linResults(h, 'read_error')).toEqual(['transferring:firmware-invalid']);
  expect(linResults(h, 'read_version')[0]).toBe(-6);
  expect(linResults(h, 'td_run')).toEqual([false]);
  expect(linResults(h, 'td_create')).toEqual([true, false]); // the first TD's, then one after the loss
  expect(h.tdx.state.initialized).toBe(false);
  expect(callsOf(h.trace, TDH.SYS_SHUTDOWN)[0]!.status).toBe(0n);
  return r;
}

/** The status the last LP got from SEAMLDR.INSTALL in the (last) update. */
const installStatus = (r: ReturnType<typeof lost>) =>
  callsOf(lastUpdate(r.host.trace), P_SEAMLDR_INSTALL)
    .map((e) => e.status)
    .find((s) => s !== 0n);

describe('lost updates', () => {
  it('a bad module hash after shutdown loses TDs and version reads -ENXIO', () => {
    const r = lost(upload(corrupt({ kind: 'module_bitflip', byte: 4000, bit: 7 })));
    expect(installStatus(r)).toBe(SEAMLDR_EBADHASH);
    expect(r.host.seam.module).toBeNull(); // unrecoverable: the SEAM range was zeroed
    expect(r.host.seam.pseamldr.numRemainingUpdates).toBe(2);
  });

  it('a sigstruct bit flip passes the kernel and P-SEAMLDR refuses it after shutdown (EBADSIG)', () => {
    const r = lost(upload(corrupt({ kind: 'sigstruct_bitflip', byte: 600, bit: 1 })));
    expect(installStatus(r)).toBe(SEAMLDR_EBADSIG);
    expect([r.host.seam.seamReady, r.host.seam.module!.sysState]).toEqual([true, 'SYS_SHUTDOWN']); // recoverable for P-SEAMLDR, not for TDs
  });

  it('a module signed by another key is refused after shutdown', () => {
    expect(installStatus(lost(upload(corrupt({ kind: 'rogue_key' }))))).toBe(SEAMLDR_EBADSIG);
  });

  it('a lower SEAMSVN (1.5.06 -> 1.5.05) is refused by P-SEAMLDR after shutdown', () => {
    expect(installStatus(lost(upload(imageRef('1.5.05'))))).toBe(SEAMLDR_EBADSIG);
  });

  it('a debug module on a production platform is refused after shutdown; a debug-unlocked one takes it', () => {
    expect(installStatus(lost(upload(imageRef('1.5.08', { debug: true }))))).toBe(SEAMLDR_EBADSIG);
    const r = run(scenario(hostData(2, { debugUnlocked: true }), [upload(imageRef('1.5.08', { debug: true })), readVersion]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.08']);
  });

  it("a module of another line (2.0.08 over 1.5, with a 1.5 P-SEAMLDR) is refused after shutdown (EBADSIG: its version fields sit in the 1.5 layout's reserved3)", () => {
    expect(installStatus(lost(upload(imageRef('2.0.08'))))).toBe(SEAMLDR_EBADSIG);
  });

  it('a new module that cannot import the handoff version is lost at TDH.SYS.UPDATE; CPUs can still come online', () => {
    const r = lost(upload(imageRef('1.5.08', { moduleHv: 2, minUpdateHv: 1 })), hostData(4), [offline(2), online(2)]);
    expect(callsOf(r.host.trace, TDH.SYS_UPDATE).map((e) => e.status)).toEqual([TDX_SYS_INVALID_HANDOFF]);
    expect(r.host.seam.module!.sysState).toBe('SYSINIT_DONE');
    expect(linResults(r.host, 'cpu_online')).toEqual([0]);
  });

  it('a lost INSTALL leaves CPUs unable to come online (TDH.SYS.INIT finds no module)', () => {
    const r = lost(upload(imageRef(), { kind: 'install', cpu: 2 }), hostData(4), [offline(3), online(3)]);
    expect(linResults(r.host, 'cpu_online')).toEqual([-19]);
    expect(callsOf(r.host.trace, TDH.SYS_INIT).at(-1)!.status).toBe(TDX_SEAMCALL_VMFAILINVALID);
    expect(r.host.platform.cpus[3]!.online).toBe(false);
  });

  it('P-SEAMLDR still answers after a lost update: the slot was consumed by the install', () => {
    const r = lost(upload(imageRef(), { kind: 'leaf', leaf: 'LP_INIT', cpu: 3 }), hostData(4), [readSeamldr('num_remaining_updates')]);
    expect(linResults(r.host, 'read_seamldr')).toEqual(['1']);
  });

  describe('retry after a destructive failure (B31)', () => {
    it("after a failure at RUN_UPDATE, a retry's TDH.SYS.SHUTDOWN gets SYS_NOT_READY and changes nothing", () => {
      const r = lost(upload(imageRef(), { kind: 'leaf', leaf: 'UPDATE', cpu: null }), hostData(2), [upload(imageRef('1.5.09')), readVersion]);
      expect(linResults(r.host, 'update')).toEqual([-5, -5]);
      expect(callsOf(lastUpdate(r.host.trace), TDH.SYS_SHUTDOWN).map((e) => e.status)).toEqual([TDX_SYS_NOT_READY]);
      expect(linResults(r.host, 'read_version')).toEqual([-6, -6]);
      expect(r.host.seam.seamdb).toHaveLength(2);
    });

    it("after a failure at INSTALL, a retry's TDH.SYS.SHUTDOWN finds no module (-ENODEV)", () => {
      const r = lost(upload(corrupt({ kind: 'module_bitflip', byte: 1, bit: 1 })), hostData(2), [upload(imageRef('1.5.09')), readVersion]);
      expect(linResults(r.host, 'update')).toEqual([-5, -19]);
      expect(callsOf(lastUpdate(r.host.trace), TDH.SYS_SHUTDOWN).map((e) => e.status)).toEqual([TDX_SEAMCALL_VMFAILINVALID]);
      expect(linResults(r.host, 'read_version')).toEqual([-6, -6]);
    });
  });
});
