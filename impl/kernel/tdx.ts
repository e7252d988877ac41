// TDX module state kept by the kernel, and the three steps of an update it performs.
// Mirrors: torvalds/linux arch/x86/virt/vmx/tdx/tdx.c (post-merge snapshot, spec [LX-tdx]) and
// tdx_global_metadata.c: try_init_module_global, tdx_cpu_enable, read_sys_metadata_field,
// get_tdx_sys_info_version/_handoff, tdx_enable, tdx_get_sysinfo, tdx_module_shutdown,
// tdx_module_run_update. v2's versions of the last two (spec §2.7) stand beside them, and
// the revision record chooses (impl/README.md).
import {
  MD_MAJOR_VERSION,
  MD_MINOR_VERSION,
  MD_MODULE_HV,
  MD_TDX_FEATURES0,
  MD_UPDATE_VERSION,
  TDH,
  TDH_SYS_CONFIG,
  TDH_SYS_KEY_CONFIG,
  AVOID_COMPAT_SENSITIVE,
  TDX_STATUS_MASK,
  TDX_UPDATE_COMPAT_SENSITIVE,
} from '../firmware/abi.ts';
import type { Version } from '../firmware/types.ts';
import { EBUSY, ENODEV } from './errno.ts';
import { seamcall, seamcallPrerr, statusToErrno } from './seamcall.ts';
import { rawSpinLock, rawSpinUnlock, step, type Yield } from './sched.ts';
import type { Host } from '../host.ts';

/** struct tdx_module_state: what tdx_module_shutdown() clears (memset). */
export interface TdxModuleState {
  initialized: boolean;
  sysinitDone: boolean;
  sysinitRet: number;
}

/** The boot-time cache tdx_get_sysinfo() returns; only `version` (and in v2 `moduleHv`) is refreshed. */
export interface TdxSysinfo {
  version: Version;
  features0: bigint;
  /** v2: tdx_sysinfo.handoff.module_hv, the cached RCX of TDH.SYS.SHUTDOWN [T-v2 p14]. */
  moduleHv: number;
}

export interface Tdx {
  state: TdxModuleState;
  /** DEFINE_PER_CPU(bool, tdx_lp_initialized). */
  lpInitialized: boolean[];
  sysinfo: TdxSysinfo;
}

export const clearedModuleState = (): TdxModuleState => ({ initialized: false, sysinitDone: false, sysinitRet: 0 });

/**
 * try_init_module_global(): one TDH.SYS.INIT per module, under the raw spinlock sysinit_lock;
 * every later caller, on any CPU, gets the cached result. In CPU_INIT every CPU comes here at
 * once: the first takes the lock, and the others wait until the result is cached.
 */
function* tryInitModuleGlobal(h: Host, cpu: number): Generator<Yield, number, void> {
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const locked = !h.bugs.has('sysinit-unlocked');
  // Stryker disable next-line ConditionalExpression: locked is always true unless the seeded fault is on
  if (locked) yield* rawSpinLock(h.sysinitLock, cpu, 'sysinit_lock');
  let ret: number;
  if (h.tdx.state.sysinitDone) {
    ret = h.tdx.state.sysinitRet;
  } else {
    ret = seamcallPrerr(h, cpu, TDH.SYS_INIT);
    // The first SEAMCALL also detects the module: -ENODEV means none is loaded.
    if (ret === -ENODEV) h.log.push('virt/tdx: module not loaded');
    // Stryker disable next-line StringLiteral: the label only names the point in the timeline
    yield step('TDH.SYS.INIT done, under sysinit_lock');
    h.tdx.state.sysinitDone = true;
    h.tdx.state.sysinitRet = ret;
  }
  // Stryker disable next-line ConditionalExpression: locked is always true unless the seeded fault is on
  if (locked) rawSpinUnlock(h.sysinitLock);
  return ret;
}

/** tdx_cpu_enable(): the global initialization (once), then TDH.SYS.LP.INIT on this CPU. */
export function* tdxCpuEnable(h: Host, cpu: number): Generator<Yield, number, void> {
  if (h.tdx.lpInitialized[cpu]) return 0;
  let ret = yield* tryInitModuleGlobal(h, cpu);
  if (ret) return ret;
  ret = seamcallPrerr(h, cpu, TDH.SYS_LP_INIT);
  if (ret) return ret;
  h.tdx.lpInitialized[cpu] = true;
  return 0;
}

/** Runs a kernel path to its end where nothing else can run (boot): it must never wait. */
function untilDone<T>(body: Generator<Yield, T, void>): T {
  for (;;) {
    const r = body.next();
    if (r.done) return r.value;
    if (r.value.kind === 'wait') throw new Error(`boot: ${r.value.label} is held`);
  }
}

/** read_sys_metadata_field(): TDH.SYS.RD of one global metadata field. */
function readSysMetadataField(h: Host, cpu: number, field: bigint): { ret: number; value: bigint } {
  const r = seamcall(h, cpu, TDH.SYS_RD, { rdx: field });
  return { ret: statusToErrno(r.status), value: r.out ?? 0n };
}

/**
 * get_tdx_sys_info_version(): the three fields into `out` in field-id order (minor first),
 * each written as it is read, up to the first failure, whose errno is returned
 * (tdx_global_metadata.c).
 */
export function getTdxSysInfoVersion(h: Host, cpu: number, out: Version): number {
  const fields = [
    ['minor', MD_MINOR_VERSION],
    ['major', MD_MAJOR_VERSION],
    ['update', MD_UPDATE_VERSION],
  ] as const;
  for (const [name, id] of fields) {
    const r = readSysMetadataField(h, cpu, id);
    if (r.ret) return r.ret;
    out[name] = Number(r.value);
  }
  return 0;
}

/** get_tdx_sys_info_handoff(): MODULE_HV, the module's highest handoff version. */
function getTdxSysInfoHandoff(h: Host, cpu: number): { ret: number; moduleHv: number } {
  const r = readSysMetadataField(h, cpu, MD_MODULE_HV);
  return { ret: r.ret, moduleHv: Number(r.value) };
}

/**
 * Boot: the BIOS-loaded module brought up on every online CPU, then init_tdx_module() in its
 * order: get_tdx_sys_info() (the version, TDX_FEATURES0 and MODULE_HV this emulation keeps), then
 * config_tdx_module() and config_global_keyid(). TDMR construction and TDH.SYS.TDMR.INIT are not
 * emulated (impl/README.md).
 */
export function tdxEnable(h: Host): number {
  for (const c of h.platform.cpus) {
    const ret = c.online ? untilDone(tdxCpuEnable(h, c.id)) : 0;
    if (ret) return ret;
  }
  const version = { major: 0, minor: 0, update: 0 };
  const vret = getTdxSysInfoVersion(h, 0, version);
  const features0 = readSysMetadataField(h, 0, MD_TDX_FEATURES0);
  const hv = getTdxSysInfoHandoff(h, 0);
  if (vret || features0.ret || hv.ret) return vret || features0.ret || hv.ret;
  const ret = seamcallPrerr(h, 0, TDH_SYS_CONFIG) || seamcallPrerr(h, 0, TDH_SYS_KEY_CONFIG);
  if (ret) return ret;
  h.tdx.sysinfo = { version, features0: features0.value, moduleHv: hv.moduleHv };
  h.tdx.state.initialized = true;
  return 0;
}

export function tdxGetSysinfo(h: Host): TdxSysinfo | null {
  return h.tdx.state.initialized ? h.tdx.sysinfo : null;
}

/**
 * After a successful TDH.SYS.SHUTDOWN: clear the global and per-CPU initialization flags so
 * the new module is initialized from scratch. Every possible CPU since v6 [T-v7 p12]; v2-v5
 * (and seeded bug B7) only the online ones, so a CPU onlined later skips TDH.SYS.LP.INIT.
 */
function clearInitFlags(h: Host): void {
  h.tdx.state = clearedModuleState();
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const onlineOnly = h.bugs.has('lp-reset-online-only');
  const scope = onlineOnly ? 'online' : h.rev.lpResetScope;
  for (const c of h.platform.cpus) {
    if (scope === 'possible' || c.online) h.tdx.lpInitialized[c.id] = false;
  }
}

/** tdx_module_shutdown() as merged: MODULE_HV read fresh, refuse without it (spec §2.5 step 1). */
export function tdxModuleShutdown(h: Host, cpu: number): number {
  // Seeded bug B31: a module the kernel no longer calls initialized is taken as shut down
  // already, so a retry after a destructive failure goes on to SEAMLDR.INSTALL (spec §8 B31).
  // Stryker disable all: a seeded fault's code, off in every property-only run (README "Mutation score")
  if (h.bugs.has('retry-skips-shutdown') && !h.tdx.state.initialized) {
    clearInitFlags(h);
    return 0;
  }
  // Stryker restore all
  const handoff = getTdxSysInfoHandoff(h, cpu);
  if (handoff.ret) return handoff.ret;
  const ret = seamcallPrerr(h, cpu, TDH.SYS_SHUTDOWN, { rcx: BigInt(handoff.moduleHv) });
  if (ret) return ret;
  clearInitFlags(h);
  return 0;
}

/**
 * v2's tdx_module_shutdown() [T-v2 p14/p15]: RCX from the boot-time cache, no log on failure;
 * v3-v10 (compat) add AVOID_COMPAT_SENSITIVE and return -EBUSY when the module says a TD
 * build is in progress, "device-busy" to userspace [T-v3 p25; T-v10 p22].
 */
export function tdxModuleShutdownV2(h: Host, cpu: number): number {
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const noAvoidCompat = h.bugs.has('no-avoid-compat');
  const avoid = h.rev.avoidCompat && !noAvoidCompat;
  const rcx = BigInt(h.tdx.sysinfo.moduleHv) | (avoid ? AVOID_COMPAT_SENSITIVE : 0n);
  const r = seamcall(h, cpu, TDH.SYS_SHUTDOWN, { rcx });
  if ((r.status & TDX_STATUS_MASK) === TDX_UPDATE_COMPAT_SENSITIVE && h.rev.avoidCompat) return -EBUSY;
  const ret = statusToErrno(r.status);
  if (ret) return ret;
  clearInitFlags(h);
  return 0;
}

/**
 * tdx_module_run_update() as merged: TDH.SYS.UPDATE, then, still inside stop_machine on the
 * lead CPU, the version re-read (a failure only warns, spec §8 B12), then initialized.
 */
export function tdxModuleRunUpdate(h: Host, cpu: number): number {
  const ret = seamcallPrerr(h, cpu, TDH.SYS_UPDATE);
  if (ret) return ret;
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const refresh = !h.bugs.has('no-version-refresh');
  if (refresh && getTdxSysInfoVersion(h, cpu, h.tdx.sysinfo.version)) h.log.push('WARN: get_tdx_sys_info_version() failed');
  h.tdx.state.initialized = true;
  return 0;
}

/** v2's tdx_module_run_update() [T-v2 p19]: no refresh here (the worker does it afterwards). */
export function tdxModuleRunUpdateV2(h: Host, cpu: number): number {
  const r = seamcall(h, cpu, TDH.SYS_UPDATE);
  // v2 stored the u64 status in an int [T-v2 p19]: a status whose low half is 0 read as success.
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  const truncate = h.bugs.has('run-update-int-truncation');
  const ret = statusToErrno(truncate ? r.status & 0xffffffffn : r.status);
  if (ret) return ret;
  h.tdx.state.initialized = true;
  return 0;
}

/**
 * v2 p20: after a successful update the worker re-reads the version and MODULE_HV (seeded
 * bug B9 forgets MODULE_HV). A failed re-read is only warned about (spec §8 B12).
 */
export function tdxRefreshAfterUpdate(h: Host, cpu: number): void {
  const version = { ...h.tdx.sysinfo.version };
  if (getTdxSysInfoVersion(h, cpu, version)) {
    h.log.push('WARN: failed to refresh TDX module version');
    return;
  }
  h.tdx.sysinfo.version = version;
  // Stryker disable next-line all: a seeded fault's switch, off in every property-only run (README "Mutation score")
  if (h.bugs.has('stale-handoff-hv')) return;
  const hv = getTdxSysInfoHandoff(h, cpu);
  if (!hv.ret) h.tdx.sysinfo.moduleHv = hv.moduleHv;
}
