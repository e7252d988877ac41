// Tests for impl/kernel/tdx_host.ts: the seed (v2 p06-p08) probe and sysfs attributes, the
// version format of spec §6 ("%u.%u.%02u"), and the fw_upload ops: errno -> fw error mapping
// (spec §4.2/§4.3 v2 row), cancel_request, and the seeded bug sticky-cancel (B20).
import { describe, expect, it } from 'vitest';
import { bootHost, type Host } from '../../../impl/host.ts';
import { NO_BUGS } from '../../../impl/faults.ts';
import { AVOID_COMPAT_SENSITIVE, P_SEAMLDR_INFO, TDH, TDX_SYS_BUSY, TDX_UPDATE_COMPAT_SENSITIVE } from '../../../impl/firmware/abi.ts';
import { fwCancel, fwError } from '../../../impl/kernel/fw_upload.ts';
import { ECANCELED, EBUSY, EINVAL, EIO, ENODEV, ENOENT, ENOSPC, ENXIO, EOPNOTSUPP } from '../../../impl/kernel/errno.ts';
import { COMPAT_KERNEL as COMPAT, V2_KERNEL as V2, UPSTREAM_KERNEL as UPSTREAM } from '../../../properties/revisions/index.ts';
import { formatVersion, seamldrAttrShow, sysfsFiles, tdxHostProbe, versionShow } from '../../../impl/kernel/tdx_host.ts';
import { sysfsRead, TDX_HOST_DIR } from '../../../impl/userspace/sysfs.ts';
import { imageBytes } from '../../../properties/images.ts';
import { hostConfig } from '../../../properties/scenario.ts';
import { boot, callsOf, corrupt, events, hostData, imageRef, runBody, uploadVia } from './helpers.ts';

const GOOD = imageBytes(imageRef());

/** `cat` of a seamldr attribute on `cpu`, run as a task there (it takes seamldr_lock). */
const attr = (h: Host, cpu: number, a: 'version' | 'num_remaining_updates') => runBody(h, seamldrAttrShow(h, cpu, a), { cpu });

describe('probe (v2 p08)', () => {
  it('registers the seamldr_upload fw node on a TD-preserving module with update slots', () => {
    const h = boot(2);
    expect(h.tdxHost.fw).toMatchObject({ name: 'seamldr_upload', progress: 'idle' });
    expect(callsOf(h.trace, P_SEAMLDR_INFO).map((e) => e.task)).toEqual(['boot']);
    expect(tdxHostProbe(h)).toBe(0);
  });

  it('with 0 update slots: -EOPNOTSUPP, and the failed probe takes the whole tdx_host device: no file at all', () => {
    const h = boot(2, { host: { slots: 0 } });
    expect(h.tdxHost.fw).toBeNull();
    expect(tdxHostProbe(h)).toBe(-EOPNOTSUPP);
    expect([h.tdxHost.fw, h.tdxHost.device, sysfsFiles(h)]).toEqual([null, false, []]);
    expect(runBody(h, sysfsRead(h, `${TDX_HOST_DIR}/version`))).toBe(-ENOENT);
  });

  it('without TD_PRESERVING (features0 bit 1): -EOPNOTSUPP and no fw node', () => {
    const cfg = hostConfig(hostData(2));
    const h = bootHost({ ...cfg, boot: { ...cfg.boot, features0: cfg.boot.features0 & ~2n } }, V2, NO_BUGS);
    expect(h.tdxHost.fw).toBeNull();
    expect(tdxHostProbe(h)).toBe(-EOPNOTSUPP);
    expect(h.tdxHost.fw).toBeNull();
  });

  it('without an initialized module: -ENODEV', () => {
    const h = boot(1);
    h.tdx.state.initialized = false;
    h.tdxHost.fw = null;
    expect(tdxHostProbe(h)).toBe(-ENODEV);
    expect(h.tdxHost.fw).toBeNull();
  });

  it('slots are checked only at probe: a node registered with 1 slot stays after the slot is used', () => {
    const h = boot(2, { host: { slots: 1 } });
    expect(uploadVia(h, GOOD).error).toBe('');
    expect(h.tdxHost.fw).not.toBeNull();
    expect(uploadVia(h, GOOD)).toMatchObject({ ret: -ENOSPC, error: 'transferring:firmware-invalid' });
  });
});

describe('version (TDX_VERSION_FMT "%u.%u.%02u")', () => {
  it.each([
    [{ major: 1, minor: 5, update: 8 }, '1.5.08'],
    [{ major: 1, minor: 2, update: 3 }, '1.2.03'],
    [{ major: 2, minor: 0, update: 14 }, '2.0.14'],
    [{ major: 1, minor: 5, update: 0 }, '1.5.00'],
    [{ major: 10, minor: 11, update: 123 }, '10.11.123'],
  ])('formats %o as %s', (v, s) => {
    expect(formatVersion(v)).toBe(s);
  });

  it('shows the running module, the new one after an update, and -ENXIO once it is lost', () => {
    const h = boot(2);
    expect(versionShow(h)).toBe('1.5.06');
    expect(uploadVia(h, GOOD).ret).toBe(0);
    expect(versionShow(h)).toBe('1.5.08');
    expect(uploadVia(h, imageBytes(corrupt({ kind: 'module_bitflip', byte: 1, bit: 1 }, '1.5.09'))).ret).toBe(-EIO);
    expect(versionShow(h)).toBe(-ENXIO);
  });

  it('a 2.0 platform shows 2.0.08 and P-SEAMLDR 2.0.00', () => {
    const h = boot(2, { host: { boot: { release: '2.0.08', moduleHv: 0, minUpdateHv: 0, noDowngrade: false } } });
    expect(versionShow(h)).toBe('2.0.08');
    expect(attr(h, 1, 'version')).toBe('2.0.00');
  });
});

describe('seamldr/{version,num_remaining_updates} (v2 p06/p07)', () => {
  it('each read is a fresh SEAMLDR.INFO on the reading CPU', () => {
    const h = boot(4);
    const n = h.trace.length;
    expect(attr(h, 3, 'version')).toBe('1.5.00');
    expect(attr(h, 2, 'num_remaining_updates')).toBe('2');
    expect(callsOf(h.trace.slice(n), P_SEAMLDR_INFO).map((e) => [e.cpu, e.status])).toEqual([
      [3, 0n],
      [2, 0n],
    ]);
  });

  it('num_remaining_updates drops by one per applied update and not on a refused one', () => {
    const h = boot(2);
    uploadVia(h, imageBytes(corrupt({ kind: 'bad_checksum' })));
    expect(attr(h, 0, 'num_remaining_updates')).toBe('2');
    uploadVia(h, GOOD);
    expect(attr(h, 0, 'num_remaining_updates')).toBe('1');
  });

  it('P-SEAMLDR outlives a lost module: both attributes still read', () => {
    const h = boot(2);
    uploadVia(h, GOOD, { faults: { leafFail: { leaf: TDH.SYS_UPDATE, cpu: null, status: TDX_SYS_BUSY } } });
    expect(versionShow(h)).toBe(-ENXIO);
    expect([attr(h, 1, 'version'), attr(h, 1, 'num_remaining_updates')]).toEqual(['1.5.00', '1']);
  });
});

describe('fw ops: every failure is transferring:firmware-invalid (v2 mapping)', () => {
  it.each([
    ['-EINVAL (corrupt image)', () => boot(2), imageBytes(corrupt({ kind: 'bad_version' })), {}, -EINVAL],
    [
      '-ENOSPC (no slots left)',
      () => {
        const h = boot(2);
        h.seam.pseamldr.numRemainingUpdates = 0;
        return h;
      },
      GOOD,
      {},
      -ENOSPC,
    ],
    [
      '-EBUSY (a CPU offline)',
      () => {
        const h = boot(2);
        h.platform.cpus[1]!.online = false;
        return h;
      },
      GOOD,
      {},
      -EBUSY,
    ],
    ['-EIO (TDH.SYS.SHUTDOWN fails)', () => boot(2), GOOD, { leafFail: { leaf: TDH.SYS_SHUTDOWN, cpu: null, status: TDX_SYS_BUSY } }, -EIO],
    ['-ENODEV (no entropy on 2 CPUs)', () => boot(2), GOOD, { noEntropy: 1 }, -ENODEV],
  ] as const)('%s', (_, mk, bytes, faults, errno) => {
    const h = mk();
    const r = uploadVia(h, bytes, { faults });
    expect(r).toEqual({ load: 'started', ret: errno, error: 'transferring:firmware-invalid', remaining: bytes.length });
  });

  it('success: error is empty and written is the whole image', () => {
    expect(uploadVia(boot(2), GOOD)).toEqual({ load: 'started', ret: 0, error: '', remaining: 0 });
  });
});

describe('cancel (v2 cancel_request, fixed in v3 to be cleared by prepare)', () => {
  it('cancel while idle is -ENODEV, sets cancel_request, and prepare of the next upload clears it', () => {
    const h = boot(2);
    expect(fwCancel(h, h.tdxHost.fw!, '1')).toBe(-ENODEV);
    expect(h.tdxHost.cancelRequest).toBe(true);
    expect(uploadVia(h, GOOD)).toEqual({ load: 'started', ret: 0, error: '', remaining: 0 });
    expect(h.tdxHost.cancelRequest).toBe(false);
  });

  it('sticky-cancel (B20): the stale cancel makes the next upload fail in prepare as user-abort', () => {
    const h = boot(2, { bugs: ['sticky-cancel'] });
    expect(fwCancel(h, h.tdxHost.fw!, '1')).toBe(-ENODEV);
    expect(uploadVia(h, GOOD)).toEqual({ load: 'started', ret: null, error: 'preparing:user-abort', remaining: GOOD.length });
    expect(events(h.trace, 'update_begin')).toEqual([]);
    expect(versionShow(h)).toBe('1.5.06');
    // ... and every upload after it, until a reboot.
    expect(uploadVia(h, GOOD).error).toBe('preparing:user-abort');
  });

  it('a cancel between prepare and write aborts without touching the module: transferring:user-abort', () => {
    const h = boot(2);
    const fw = h.tdxHost.fw!;
    // Worker steps: status preparing; prepare; status transferring. Then the cancel.
    const r = uploadVia(h, GOOD, { midway: { steps: 3, act: () => expect(fwCancel(h, fw, '1')).toBe(0) } });
    expect(r).toEqual({ load: 'started', ret: -ECANCELED, error: 'transferring:user-abort', remaining: GOOD.length });
    expect(events(h.trace, 'update_begin')).toEqual([]);
    expect(callsOf(h.trace, P_SEAMLDR_INFO)).toHaveLength(1); // the probe's; the install never started
  });

  it('a cancel before prepare is forgotten by prepare and the update goes ahead', () => {
    const h = boot(2);
    const fw = h.tdxHost.fw!;
    const r = uploadVia(h, GOOD, { midway: { steps: 1, act: () => expect(fwCancel(h, fw, '1')).toBe(0) } });
    expect(r).toEqual({ load: 'started', ret: 0, error: '', remaining: 0 });
  });

  it('without cancel support (merged no-op cancel) a cancel in flight changes nothing', () => {
    const h = boot(2, { rev: { ...V2, cancelSupport: false } });
    const fw = h.tdxHost.fw!;
    expect(fwCancel(h, fw, '1')).toBe(-ENODEV);
    expect(h.tdxHost.cancelRequest).toBe(false);
    const r = uploadVia(h, GOOD, { midway: { steps: 3, act: () => expect(fwCancel(h, fw, '1')).toBe(0) } });
    expect(r).toEqual({ load: 'started', ret: 0, error: '', remaining: 0 });
  });

  it('cancel with anything but "1" is -EINVAL and does not set cancel_request', () => {
    const h = boot(1);
    expect(fwCancel(h, h.tdxHost.fw!, '0')).toBe(-EINVAL);
    expect(h.tdxHost.cancelRequest).toBe(false);
    expect(fwError(h.tdxHost.fw!)).toBe('');
  });
});

describe('later revisions (spec §2.2 merged driver, §4.3 compat mapping)', () => {
  it('upstream: the fw node is tdx_module, registered whatever the slot count', () => {
    const h = boot(2, { rev: UPSTREAM, host: { slots: 0 } });
    expect(h.tdxHost.fw).toMatchObject({ name: 'tdx_module' });
    expect(runBody(h, sysfsRead(h, `${TDX_HOST_DIR}/version`))).toBe('1.5.06');
    expect(attr(h, 1, 'num_remaining_updates')).toBe('0');
  });

  it('upstream: without TD_PRESERVING the probe succeeds but there is no fw node and no seamldr attributes', () => {
    const cfg = hostConfig(hostData(2));
    const h = bootHost({ ...cfg, boot: { ...cfg.boot, features0: cfg.boot.features0 & ~2n } }, UPSTREAM, NO_BUGS);
    expect(tdxHostProbe(h)).toBe(0);
    expect(h.tdxHost.fw).toBeNull();
    expect(attr(h, 0, 'version')).toBe(-ENOENT);
    expect(sysfsFiles(h).map((f) => f.path)).toEqual(['/sys/devices/faux/tdx_host/version']);
  });

  it('upstream hides the update interface on a platform with the VMCS erratum; the seed does not', () => {
    expect(boot(2, { rev: UPSTREAM, host: { erratum: true } }).tdxHost.fw).toBeNull();
    expect(boot(2, { host: { erratum: true } }).tdxHost.fw).not.toBeNull();
  });

  it('compat: TDH.SYS.SHUTDOWN refusing a compat-sensitive moment is -EBUSY, read as device-busy', () => {
    const h = boot(2, { rev: COMPAT, host: { boot: { release: '1.5.24', moduleHv: 0, minUpdateHv: 0, noDowngrade: false } } });
    const r = uploadVia(h, GOOD, { faults: { leafFail: { leaf: TDH.SYS_SHUTDOWN, cpu: null, status: TDX_UPDATE_COMPAT_SENSITIVE | 0x10000n } } });
    expect(r).toEqual({ load: 'started', ret: -EBUSY, error: 'transferring:device-busy', remaining: GOOD.length });
    expect(callsOf(h.trace, TDH.SYS_SHUTDOWN)[0]!.rcx).toBe(AVOID_COMPAT_SENSITIVE);
    expect(versionShow(h)).toBe('1.5.24');
  });

  it('the seed reads -EBUSY (an offline CPU) as firmware-invalid', () => {
    const h = boot(2);
    h.platform.cpus[1]!.online = false;
    expect(uploadVia(h, GOOD).error).toBe('transferring:firmware-invalid');
  });
});

describe('compat error mapping (spec §4.3): only -EBUSY becomes device-busy', () => {
  it.each([
    ['a malformed image (-EINVAL)', { kind: 'bad_magic' } as const],
    ['a rogue-signed image (-EIO)', { kind: 'rogue_key' } as const],
  ])('%s is still firmware-invalid on the compat revision', (_name, corruption) => {
    const h = boot(2, { rev: COMPAT, host: { boot: { release: '1.5.24', moduleHv: 0, minUpdateHv: 0, noDowngrade: false } } });
    const r = uploadVia(h, imageBytes(imageRef('1.5.24', { corruption })));
    expect(r.ret).not.toBe(0);
    expect(r.error).toBe('transferring:firmware-invalid');
  });
});
