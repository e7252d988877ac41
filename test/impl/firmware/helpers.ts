// Test fixtures for the firmware tests: identities, a booted SEAM, and the kernel-side chores
// (staging a blob into SEAMLDR_PARAMS, bringing a module to SYS_READY) done the simple way.
// Mirrors: nothing upstream; a stand-in for what seamldr.c and tdx.c do around the firmware.
import { PhysMem } from '../../../impl/platform/memory.ts';
import { createPlatform } from '../../../impl/platform/cpu.ts';
import {
  P_SEAMLDR_INSTALL,
  PAGE_SIZE,
  SEAMLDR_PARAMS_OFF,
  SEAMLDR_SCENARIO_UPDATE,
  TDH,
  TDH_SYS_CONFIG,
  TDH_SYS_KEY_CONFIG,
  TDX_SUCCESS,
  type SeamcallResult,
} from '../../../impl/firmware/abi.ts';
import { BLOB_V1 } from '../../../impl/firmware/image.ts';
import { createSeam, seamcall, type Seam, type SeamConfig } from '../../../impl/firmware/seam.ts';
import type { ModuleIdentity } from '../../../impl/firmware/types.ts';

export const CPU_FMS = 0x806f8;

export function identity(update: number, over: Partial<ModuleIdentity> = {}): ModuleIdentity {
  return {
    version: { major: 1, minor: 5, update },
    seamsvn: 0x100 + update,
    moduleHv: 1,
    minUpdateHv: 0,
    noDowngrade: false,
    debug: false,
    cpuids: [0x806f0, 0xc06f0],
    features0: (1n << 1n) | (1n << 18n),
    nrPages: 3,
    ...over,
  };
}

export const BOOT = identity(8);
export const NEXT = identity(9);

export function bootSeam(nrCpus = 4, over: Partial<SeamConfig> = {}, cpuFms = CPU_FMS): Seam {
  return createSeam(createPlatform(nrCpus, cpuFms), new PhysMem(), {
    boot: BOOT,
    seamldrVersion: { major: 1, minor: 5, update: 0 },
    numRemainingUpdates: 2,
    debugUnlocked: false,
    ...over,
  });
}

function allocPage(seam: Seam, content: Uint8Array): number {
  const [pa] = seam.mem.allocPages(1);
  seam.mem.page(pa)!.set(content.subarray(0, PAGE_SIZE));
  return pa;
}

/** Copies a v1 blob's signature page and module pages into memory and writes SEAMLDR_PARAMS. */
export function stageBlob(seam: Seam, blob: Uint8Array, scenario = SEAMLDR_SCENARIO_UPDATE): bigint {
  const sigPa = allocPage(seam, blob.subarray(BLOB_V1.OFF_SIGSTRUCT, BLOB_V1.OFF_MODULE));
  const nrPages = (blob.length - BLOB_V1.OFF_MODULE) / PAGE_SIZE;
  const modPas: number[] = [];
  for (let i = 0; i < nrPages; i++) {
    modPas.push(allocPage(seam, blob.subarray(BLOB_V1.OFF_MODULE + i * PAGE_SIZE)));
  }
  const paramsPa = allocPage(seam, new Uint8Array(0));
  const v = new DataView(seam.mem.page(paramsPa)!.buffer);
  v.setUint32(SEAMLDR_PARAMS_OFF.SCENARIO, scenario, true);
  v.setBigUint64(SEAMLDR_PARAMS_OFF.SIGSTRUCT_PA, BigInt(sigPa), true);
  v.setBigUint64(SEAMLDR_PARAMS_OFF.NUM_MODULE_PAGES, BigInt(nrPages), true);
  modPas.forEach((pa, i) => v.setBigUint64(SEAMLDR_PARAMS_OFF.MODULE_PAGES_PA_LIST + 8 * i, BigInt(pa), true));
  return BigInt(paramsPa);
}

export function paramsView(seam: Seam, paramsPa: bigint): DataView {
  return new DataView(seam.mem.page(Number(paramsPa))!.buffer);
}

/** SEAMLDR.INSTALL on every CPU in id order; the last result is the last LP's. */
export function installAll(seam: Seam, paramsPa: bigint): SeamcallResult[] {
  return seam.platform.cpus.map((c) => seamcall(seam, c.id, P_SEAMLDR_INSTALL, { rcx: paramsPa }));
}

/** TDH.SYS.INIT and LP.INIT on every CPU, as tdx_cpu_enable does. */
export function initModule(seam: Seam): void {
  expectOk(seamcall(seam, 0, TDH.SYS_INIT));
  for (const c of seam.platform.cpus) expectOk(seamcall(seam, c.id, TDH.SYS_LP_INIT));
}

/** The cold-boot sequence up to SYS_READY. */
export function bringUp(seam: Seam): void {
  initModule(seam);
  expectOk(seamcall(seam, 0, TDH_SYS_CONFIG));
  expectOk(seamcall(seam, 0, TDH_SYS_KEY_CONFIG));
}

export function expectOk(r: SeamcallResult): void {
  if (r.status !== TDX_SUCCESS) throw new Error(`SEAMCALL failed: 0x${r.status.toString(16)}`);
}

/** The whole update: shutdown, install on all CPUs, init, update. Returns each step's status. */
export function update(seam: Seam, blob: Uint8Array): { shutdown: bigint; install: bigint; update: bigint } {
  const hv = seam.module!.identity.moduleHv;
  const shutdown = seamcall(seam, 0, TDH.SYS_SHUTDOWN, { rcx: BigInt(hv) }).status;
  const install = installAll(seam, stageBlob(seam, blob)).at(-1)!.status;
  initModule(seam);
  return { shutdown, install, update: seamcall(seam, 0, TDH.SYS_UPDATE).status };
}
