// TDX module state kept by the kernel, and the three steps of an update it performs.
// Mirrors: torvalds/linux arch/x86/virt/vmx/tdx/tdx.c (post-merge snapshot, spec [LX-tdx]):
// tdx_cpu_enable, try_init_module_global, tdx_module_shutdown, tdx_module_run_update,
// with the seed (v2) behaviour where the revision says so (spec §2.7).
import {
  MD_MAJOR_VERSION, MD_MINOR_VERSION, MD_MODULE_HV, MD_TDX_FEATURES0, MD_UPDATE_VERSION,
  TDH, TDH_SYS_CONFIG, TDH_SYS_KEY_CONFIG, AVOID_COMPAT_SENSITIVE, TDX_STATUS_MASK, TDX_UPDATE_COMPAT_SENSITIVE,
} from '../firmware/abi.ts';
import type { Version } from '../firmware/types.ts';
import { EBUSY, ENODEV } from './errno.ts';
import { seamcall, seamcallPrerr, statusToErrno } from './seamcall.ts';
import type { Host } from '../host.ts';

export interface TdxModuleState {
  initialized: boolean;
  sysinitDone: boolean;
  sysinitRet: number;
  /** v2 tdx_module_set_error(): the update failed after shutdown [T-v2 p16]. */
  error: boolean;
}

/** The boot-time cache tdx_get_sysinfo() returns; only `version` (and in v2 `moduleHv`) is refreshed. */
export interface TdxSysinfo {
  version: Version;
  features0: bigint;
  moduleHv: number;
}

export interface Tdx {
  state: TdxModuleState;
  lpInitialized: boolean[];
  sysinfo: TdxSysinfo;
}

export function tdxGetSysinfo(h: Host): TdxSysinfo | null {
  return h.tdx.state.initialized ? h.tdx.sysinfo : null;
}

function readField(h: Host, cpu: number, field: bigint): { ret: number; value: bigint } {
  const r = seamcall(h, cpu, TDH.SYS_RD, { rdx: field });
  return { ret: statusToErrno(r.status), value: r.out ?? 0n };
}

/** get_tdx_sys_info_version(): the three version fields, or the first error. */
export function readVersion(h: Host, cpu: number): { ret: number; version: Version } {
  const major = readField(h, cpu, MD_MAJOR_VERSION);
  const minor = readField(h, cpu, MD_MINOR_VERSION);
  const update = readField(h, cpu, MD_UPDATE_VERSION);
  const ret = major.ret || minor.ret || update.ret;
  return { ret, version: { major: Number(major.value), minor: Number(minor.value), update: Number(update.value) } };
}

/** try_init_module_global(): one TDH.SYS.INIT per module; every CPU gets its cached result. */
function tryInitModuleGlobal(h: Host, cpu: number): number {
  const s = h.tdx.state;
  if (s.sysinitDone) return s.sysinitRet;
  const ret = seamcallPrerr(h, cpu, TDH.SYS_INIT, { rcx: 0n });
  if (ret === -ENODEV) h.log.push('virt/tdx: module not loaded');
  s.sysinitDone = true;
  s.sysinitRet = ret;
  return ret;
}

/** tdx_cpu_enable(): TDH.SYS.INIT once, then TDH.SYS.LP.INIT on this CPU. */
export function tdxCpuEnable(h: Host, cpu: number): number {
  if (h.tdx.lpInitialized[cpu]) return 0;
  const ret = tryInitModuleGlobal(h, cpu) || seamcallPrerr(h, cpu, TDH.SYS_LP_INIT);
  if (ret === 0) h.tdx.lpInitialized[cpu] = true;
  return ret;
}

/** Boot: the BIOS-loaded module brought up on every online CPU, then configured (cold boot). */
export function tdxEnable(h: Host): number {
  for (const c of h.platform.cpus) {
    const ret = c.online ? tdxCpuEnable(h, c.id) : 0;
    if (ret) return ret;
  }
  const ret = seamcallPrerr(h, 0, TDH_SYS_CONFIG) || seamcallPrerr(h, 0, TDH_SYS_KEY_CONFIG);
  if (ret) return ret;
  const v = readVersion(h, 0);
  const features0 = readField(h, 0, MD_TDX_FEATURES0);
  const hv = readField(h, 0, MD_MODULE_HV);
  if (v.ret || features0.ret || hv.ret) return v.ret || features0.ret || hv.ret;
  h.tdx.sysinfo = { version: v.version, features0: features0.value, moduleHv: Number(hv.value) };
  h.tdx.state.initialized = true;
  return 0;
}

/** The handoff version TDH.SYS.SHUTDOWN is asked for (spec §2.5 step 1, I-12). */
function handoffVersion(h: Host, cpu: number): { ret: number; hv: number } {
  if (h.rev.handoffHvSource === 'boot-cache') return { ret: 0, hv: h.tdx.sysinfo.moduleHv };
  const r = readField(h, cpu, MD_MODULE_HV);
  return { ret: r.ret, hv: Number(r.value) };
}

/** TDH.SYS.SHUTDOWN with the handoff version: the old module writes its handoff data. */
function sysShutdown(h: Host, cpu: number): number {
  const { ret, hv } = handoffVersion(h, cpu);
  if (ret) return ret; // handoff information is required: refuse to shut down without it
  // v3-v10: refuse rather than break a TD build; the module says so with COMPAT_SENSITIVE,
  // which the kernel returns as -EBUSY, "device-busy" to userspace [T-v3 p25; T-v10 p22].
  const avoid = h.rev.avoidCompat && !h.bugs.has('no-avoid-compat');
  const rcx = BigInt(hv) | (avoid ? AVOID_COMPAT_SENSITIVE : 0n);
  const r = seamcall(h, cpu, TDH.SYS_SHUTDOWN, { rcx });
  if ((r.status & TDX_STATUS_MASK) === TDX_UPDATE_COMPAT_SENSITIVE && h.rev.avoidCompat) return -EBUSY;
  return statusToErrno(r.status);
}

/** tdx_module_shutdown(): the old module stops for good; the kernel forgets it. */
export function tdxModuleShutdown(h: Host, cpu: number): number {
  // Seeded bug B31: a module the kernel no longer calls initialized is taken as shut down
  // already, so a retry after a destructive failure goes on to SEAMLDR.INSTALL (spec §8 B31).
  const skip = h.bugs.has('retry-skips-shutdown') && !h.tdx.state.initialized;
  const ret = skip ? 0 : sysShutdown(h, cpu);
  if (ret) return ret;
  h.tdx.state = { initialized: false, sysinitDone: false, sysinitRet: 0, error: false };
  // v2-v5 reset only online CPUs; v6 resets every possible CPU so that a CPU onlined later
  // runs TDH.SYS.LP.INIT on the new module [T-v7 p12]. Seeded bug B7 puts v2's scope back.
  const scope = h.bugs.has('lp-reset-online-only') ? 'online' : h.rev.lpResetScope;
  for (const c of h.platform.cpus) {
    if (scope === 'possible' || c.online) h.tdx.lpInitialized[c.id] = false;
  }
  return 0;
}

/** tdx_module_run_update(): the new module imports the handoff and becomes SYS_READY. */
export function tdxModuleRunUpdate(h: Host, cpu: number): number {
  const r = seamcall(h, cpu, TDH.SYS_UPDATE);
  // v2 stored the u64 status in an int [T-v2 p19]: a status whose low half is 0 read as success.
  const ret = h.bugs.has('run-update-int-truncation') ? statusToErrno(r.status & 0xffffffffn) : statusToErrno(r.status);
  if (ret) return ret;
  h.tdx.state.initialized = true;
  return 0;
}

/**
 * After a successful update: refresh what the revision refreshes (spec §2.7 "Post-update").
 * A failed re-read is only warned about, as the merged code does (spec §8 B12).
 */
export function tdxRefreshAfterUpdate(h: Host, cpu: number): void {
  const v = readVersion(h, cpu);
  if (v.ret) {
    h.log.push('WARN: failed to refresh TDX module version');
    return;
  }
  h.tdx.sysinfo.version = v.version;
  if (h.rev.refreshScope === 'version+handoff' && !h.bugs.has('stale-handoff-hv')) {
    const hv = readField(h, cpu, MD_MODULE_HV);
    if (!hv.ret) h.tdx.sysinfo.moduleHv = Number(hv.value);
  }
}
