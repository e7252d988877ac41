// The tdx-host driver: sysfs attributes and the fw_upload ops that call seamldr_install_module.
// Mirrors: torvalds/linux drivers/virt/coco/tdx-host/tdx-host.c @ 637315cb, with the seed
// (v2 p06-p08) layout: seamldr/{version,num_remaining_updates} and the seamldr_upload node.
import { TDX_FEATURES0_TD_PRESERVING } from '../firmware/abi.ts';
import type { Version } from '../firmware/types.ts';
import { EBUSY, ECANCELED, EIO, ENODEV, ENOENT, ENXIO, EOPNOTSUPP } from './errno.ts';
import { createFwUpload, type FwUpload, type FwUploadErr, type FwUploadOps } from './fw_upload.ts';
import { seamldrGetInfo, seamldrGetInfoAtBoot, seamldrInstallModuleOf } from './seamldr.ts';
import { preemptDisabled, step, type Yield } from './sched.ts';
import { runsMergedCode } from './revision.ts';
import { tdxGetSysinfo, type TdxSysinfo } from './tdx.ts';
import type { Host } from '../host.ts';

export interface TdxHost {
  /** tdx_host_init() created the faux device: tdx_get_sysinfo() was non-NULL at boot (spec §2.2). */
  device: boolean;
  /** v2 p08: set by cancel, checked by prepare and write. */
  cancelRequest: boolean;
  fw: FwUpload | null;
  /** The seamldr attributes are visible (is_visible is evaluated once, at probe). */
  seamldrAttrsVisible: boolean;
}

/** The errno -> fw_upload error mapping of the revision (spec §4.3), for a failed write. */
function fwUploadErr(h: Host, ret: number): FwUploadErr {
  if (ret === -ECANCELED) return 'user-abort';
  return h.rev.errorMap === 'compat' && ret === -EBUSY ? 'device-busy' : 'firmware-invalid';
}

/** TDX_VERSION_FMT "%u.%u.%02u". */
export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}.${String(v.update).padStart(2, '0')}`;
}

const ops: FwUploadOps = {
  prepare(h) {
    // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
    const stickyCancel = h.bugs.has('sticky-cancel');
    if (h.tdxHost.cancelRequest && stickyCancel) return 'user-abort';
    h.tdxHost.cancelRequest = false; // v3: a cancel from before this upload does not count
    return 'none';
  },
  *write(h, img): Generator<Yield, { err: FwUploadErr; written: number }, void> {
    const cancelled = h.rev.cancelSupport && h.tdxHost.cancelRequest;
    yield { kind: 'lin', op: { name: 'fw_write', args: {} }, result: cancelled };
    const ret = cancelled ? -ECANCELED : yield* seamldrInstallModuleOf(h)(h, img);
    yield { kind: 'lin', op: { name: 'update', args: {} }, result: ret };
    return ret === 0 ? { err: 'none', written: img.len } : { err: fwUploadErr(h, ret), written: 0 };
  },
  pollComplete: () => 'none',
  cancel(h) {
    if (h.rev.cancelSupport) h.tdxHost.cancelRequest = true;
  },
};

/** supports_runtime_update(): TD_PRESERVING, and (merged) no VMCS-clobbering erratum. */
function supportsRuntimeUpdate(h: Host, features0: bigint): boolean {
  const erratum = h.rev.vmcsErratumGuard && h.platform.erratumSeamretInvdVmcs;
  return (features0 & TDX_FEATURES0_TD_PRESERVING) !== 0n && !erratum;
}

/**
 * tdx_host_init() and the faux device's probe. No device without tdx_get_sysinfo() (spec §2.2);
 * faux_device_create() keeps the device only when its probe succeeds, so v2's failing probe
 * takes the whole device, `version` included, with it (v3 changed that: "Don't fail the whole
 * tdx-host device if seamldr_init() met an error").
 */
export function tdxHostProbe(h: Host): number {
  const sysinfo = tdxGetSysinfo(h);
  if (sysinfo === null) return -ENODEV;
  const ret = seamldrInit(h, sysinfo.features0);
  h.tdxHost.device = ret === 0;
  return ret;
}

/**
 * seamldr_init(). v2 fails with -EOPNOTSUPP unless the module is TD-preserving and has update
 * slots left at probe time [T-v2 p08]; the merged driver registers no fw node and hides the
 * seamldr attributes when updates are unsupported, and never looks at the slots.
 */
function seamldrInit(h: Host, features0: bigint): number {
  if (!supportsRuntimeUpdate(h, features0)) return h.rev.slotsPrecheck ? -EOPNOTSUPP : 0;
  // Stryker disable next-line OptionalChaining: the emulated SEAMLDR.INFO does not fail (impl/firmware/pseamldr.ts seamldrInfo)
  if (h.rev.slotsPrecheck && (seamldrGetInfoAtBoot(h, 0)?.numRemainingUpdates ?? 0) === 0) return -EOPNOTSUPP;
  h.tdxHost.fw = createFwUpload(h.rev.fwName, ops);
  h.tdxHost.seamldrAttrsVisible = true;
  return 0;
}

/** The sysfs files the driver creates, with their modes (spec §2.7 "P-SEAMLDR attributes"). */
export function sysfsFiles(h: Host): { path: string; mode: number }[] {
  if (!h.tdxHost.device) return [];
  const files = [{ path: '/sys/devices/faux/tdx_host/version', mode: 0o444 }];
  const a = h.rev.seamldrAttrs;
  if (h.tdxHost.seamldrAttrsVisible) {
    files.push({ path: `/sys/devices/faux/tdx_host/${a.dir}${a.dir ? 'version' : 'seamldr_version'}`, mode: a.mode });
    files.push({ path: `/sys/devices/faux/tdx_host/${a.dir}num_remaining_updates`, mode: a.mode });
  }
  // The fw_upload node's files the emulated userspace opens (drivers/base/firmware_loader/sysfs.c,
  // sysfs_upload.c): Intel's load script writes loading and data, then polls status until it
  // reads idle, and reads error (spec §1). The cancel command writes through fwCancel.
  const node = h.tdxHost.fw && `/sys/class/firmware/${h.tdxHost.fw.name}`;
  if (node) files.push({ path: `${node}/loading`, mode: 0o644 }, { path: `${node}/status`, mode: 0o444 }, { path: `${node}/error`, mode: 0o444 });
  return files;
}

/** `cat /sys/devices/faux/tdx_host/version` with nothing running alongside. */
export function versionShow(h: Host): string | number {
  const sysinfo = tdxGetSysinfo(h);
  return sysinfo === null ? -ENXIO : formatVersion(sysinfo.version);
}

/**
 * version_show() as merged: tdx_get_sysinfo() is checked first, then the version is formatted
 * with module updates locked out (seamldr_lock_module_update(), i.e. preempt_disable), so
 * stop_machine cannot run while TDX_VERSION_FMT reads major, minor and update. In the real
 * code stop_machine can run between the check and the lock, and the read then prints the
 * cached version of a module a failed update has lost (shutdown clears the state, not the
 * cache). The contract allows that: the read took effect at the check (spec §4.2).
 */
export function* versionShowTask(h: Host): Generator<Yield, string | number, void> {
  if (!runsMergedCode(h.rev)) return yield* versionShowTaskV2(h);
  const sysinfo = tdxGetSysinfo(h);
  if (sysinfo === null) return -ENXIO;
  // Stryker disable next-line StringLiteral: the label only names the point in the timeline
  yield step('version: before seamldr_lock_module_update()');
  return yield* lockedOut(h, versionFields(h, sysinfo));
}

/**
 * The seed's version_show(): v2 read without a lock (spec §2.7); the seed fixes that review
 * bug by locking out updates around the whole read, check included (B23 puts v2's back).
 */
function* versionShowTaskV2(h: Host): Generator<Yield, string | number, void> {
  return yield* lockedOut(
    h,
    (function* () {
      const sysinfo = tdxGetSysinfo(h);
      return sysinfo === null ? -ENXIO : yield* versionFields(h, sysinfo);
    })(),
  );
}

/** seamldr_lock_module_update() ... unlock around body; B23 (and a revision without it) skip it. */
function* lockedOut<T>(h: Host, body: Generator<Yield, T, void>): Generator<Yield, T, void> {
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const unlocked = h.bugs.has('version-read-unlocked');
  const lockout = h.rev.versionLockout && !unlocked;
  return lockout ? yield* preemptDisabled(h.sched, body) : yield* body;
}

/**
 * TDX_VERSION_FMT over the cache, one field per step (one sysfs_emit; the steps show B23's
 * tear). The trace marks where the fields are read, which the lock-out must keep apart from an
 * update (I-1).
 */
function* versionFields(h: Host, sysinfo: TdxSysinfo): Generator<Yield, string, void> {
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  const task = h.sched.current?.name ?? '?';
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  h.trace.push({ kind: 'version_read', task, phase: 'begin' });
  const major = sysinfo.version.major;
  // Stryker disable next-line StringLiteral: the label only names the point in the timeline
  yield step('version: major');
  const minor = sysinfo.version.minor;
  // Stryker disable next-line StringLiteral: the label only names the point in the timeline
  yield step('version: minor');
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  h.trace.push({ kind: 'version_read', task: h.sched.current?.name ?? task, phase: 'end' });
  return formatVersion({ major, minor, update: sysinfo.version.update });
}

/** `cat .../seamldr/version` and `.../seamldr/num_remaining_updates`: a fresh SEAMLDR.INFO. */
export function* seamldrAttrShow(h: Host, cpu: number, attr: 'version' | 'num_remaining_updates'): Generator<Yield, string | number, void> {
  if (!h.tdxHost.seamldrAttrsVisible) return -ENOENT;
  const info = yield* seamldrGetInfo(h, cpu);
  if (info === null) return -EIO;
  return attr === 'version' ? formatVersion(info.version) : String(info.numRemainingUpdates);
}
