// The tdx-host driver: sysfs attributes and the fw_upload ops that call seamldr_install_module.
// Mirrors: torvalds/linux drivers/virt/coco/tdx-host/tdx-host.c @ 637315cb, with the seed
// (v2 p06-p08) layout: seamldr/{version,num_remaining_updates} and the seamldr_upload node.
import { TDX_FEATURES0_TD_PRESERVING } from '../firmware/abi.ts';
import type { Version } from '../firmware/types.ts';
import { ECANCELED, EIO, ENODEV, ENXIO, EOPNOTSUPP } from './errno.ts';
import { createFwUpload, type FwUpload, type FwUploadErr, type FwUploadOps } from './fw_upload.ts';
import { seamldrGetInfo, seamldrGetInfoAtBoot, seamldrInstallModule } from './seamldr.ts';
import type { Yield } from './sched.ts';
import { tdxGetSysinfo } from './tdx.ts';
import type { Host } from '../host.ts';

export interface TdxHost {
  /** v2 p08: set by cancel, checked by prepare and write. */
  cancelRequest: boolean;
  fw: FwUpload | null;
}

/** TDX_VERSION_FMT "%u.%u.%02u". */
export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}.${String(v.update).padStart(2, '0')}`;
}

const ops: FwUploadOps = {
  prepare(h) {
    if (h.tdxHost.cancelRequest && h.bugs.has('sticky-cancel')) return 'user-abort';
    h.tdxHost.cancelRequest = false; // v3: a cancel from before this upload does not count
    return 'none';
  },
  *write(h, img): Generator<Yield, { err: FwUploadErr; written: number }, void> {
    const cancelled = h.rev.cancelSupport && h.tdxHost.cancelRequest;
    yield { kind: 'lin', op: { name: 'fw_write', args: {} }, result: cancelled };
    const ret = cancelled ? -ECANCELED : yield* seamldrInstallModule(h, img);
    yield { kind: 'lin', op: { name: 'update', args: {} }, result: ret };
    if (cancelled) return { err: 'user-abort', written: 0 };
    return ret === 0 ? { err: 'none', written: img.len } : { err: 'firmware-invalid', written: 0 };
  },
  pollComplete: () => 'none',
  cancel(h) {
    if (h.rev.cancelSupport) h.tdxHost.cancelRequest = true;
  },
};

/**
 * Probe. v2 fails with -EOPNOTSUPP unless the module is TD-preserving and has update slots
 * left at probe time [T-v2 p08]; then there is no fw node at all.
 */
export function tdxHostProbe(h: Host): number {
  const sysinfo = tdxGetSysinfo(h);
  if (sysinfo === null) return -ENODEV;
  const info = seamldrGetInfoAtBoot(h, 0);
  if (!(sysinfo.features0 & TDX_FEATURES0_TD_PRESERVING) || info === null || info.numRemainingUpdates === 0) return -EOPNOTSUPP;
  h.tdxHost.fw = createFwUpload(h.rev.fwName, ops);
  return 0;
}

/** `cat /sys/devices/faux/tdx_host/version`. */
export function versionShow(h: Host): string | number {
  const sysinfo = tdxGetSysinfo(h);
  return sysinfo === null ? -ENXIO : formatVersion(sysinfo.version);
}

/** `cat .../seamldr/version` and `.../seamldr/num_remaining_updates`: a fresh SEAMLDR.INFO. */
export function* seamldrAttrShow(h: Host, cpu: number, attr: 'version' | 'num_remaining_updates'): Generator<Yield, string | number, void> {
  const info = yield* seamldrGetInfo(h, cpu);
  if (info === null) return -EIO;
  return attr === 'version' ? formatVersion(info.version) : String(info.numRemainingUpdates);
}
