// Tests for impl/firmware/seam.ts: the BIOS-loaded starting state and SEAMCALL routing.
import { describe, expect, it } from 'vitest';
import { P_SEAMLDR_INSTALL, SEAMLDR_EBADPARAM, TDH, TDX_SEAMCALL_VMFAILINVALID, TDX_SUCCESS } from '../../../impl/firmware/abi.ts';
import { seamcall } from '../../../impl/firmware/seam.ts';
import { moduleImage } from '../../../impl/firmware/image.ts';
import { sha384, toHex } from '../../../impl/firmware/sigstruct.ts';
import { BOOT, bootSeam } from './helpers.ts';

describe('createSeam', () => {
  it('starts with the boot module loaded by BIOS, unconfigured', () => {
    const seam = bootSeam(3, { numRemainingUpdates: 5 });
    expect(seam.seamReady).toBe(true);
    expect(seam.module!.sysState).toBe('SYSINIT_PENDING');
    expect(seam.module!.identity).toMatchObject({
      version: BOOT.version,
      seamsvn: BOOT.seamsvn,
      moduleHv: BOOT.moduleHv,
      features0: BOOT.features0,
      nrPages: BOOT.nrPages,
    });
    expect(seam.module!.sigstructHv).toEqual({ moduleHv: BOOT.moduleHv, minUpdateHv: BOOT.minUpdateHv, noDowngrade: BOOT.noDowngrade, numHandoffPages: 13 });
    expect(seam.seamdb).toHaveLength(1);
    expect(seam.seamdb[0]).toMatchObject({ index: 0, version: BOOT.version, seamsvn: BOOT.seamsvn, mrseam: toHex(sha384(moduleImage(BOOT))) });
    expect(seam.pseamldr).toMatchObject({ numRemainingUpdates: 5, currentSeamSvn: BOOT.seamsvn, session: null });
    expect(seam.handoff).toBeNull();
    expect(seam.faults).toEqual({ installFail: null, noEntropy: 0, leafFail: null });
  });
  it('is deterministic', () => {
    expect(bootSeam().seamdb[0].nonce).toBe(bootSeam().seamdb[0].nonce);
  });
});

describe('seamcall', () => {
  it('routes bit-63 leaves to P-SEAMLDR and rejects unknown ones', () => {
    const seam = bootSeam();
    expect(seamcall(seam, 0, 0x8000000000000002n).status).toBe(SEAMLDR_EBADPARAM);
    expect(seamcall(seam, 0, TDH.SYS_INIT).status).toBe(TDX_SUCCESS);
  });
  it('gives VMfailInvalid when seam_ready is clear or the range holds no module', () => {
    const seam = bootSeam();
    seamcall(seam, 0, P_SEAMLDR_INSTALL, { rcx: 0n });
    expect(seam.seamReady).toBe(false);
    expect(seamcall(seam, 1, TDH.SYS_INIT).status).toBe(TDX_SEAMCALL_VMFAILINVALID);
    seam.seamReady = true;
    seam.module = null;
    expect(seamcall(seam, 1, TDH.SYS_INIT).status).toBe(TDX_SEAMCALL_VMFAILINVALID);
    // P-SEAMLDR stays reachable.
    expect(seamcall(seam, 1, P_SEAMLDR_INSTALL, { rcx: 0n }).status).toBe(0n);
  });
});
