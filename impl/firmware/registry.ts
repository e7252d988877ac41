// Module builds by SEAMHASH: what each TDX module binary was compiled with. The real module keeps
// its version, handoff versions and features in its code and data; the emulation cannot run the
// binary, so it looks them up by the image's SHA-384 instead of reading them from the bytes.
// Real releases are registered from Intel's facts (data/real-sigstructs.json, mapping_file.json),
// synthetic modules by the image builder that makes them. An image whose hash is unknown is a
// module the emulator cannot run: its TDH.SYS.INIT fails (spec §2.5 step 3).
// Mirrors: nothing upstream; stands in for the module binary's build-time definitions.
import type { Version } from './types.ts';

export interface ModuleBuild {
  readonly version: Version;
  /** TDX_MODULE_HV, TDX_MIN_UPDATE_HV, TDX_NO_DOWNGRADE (spec §3.5). */
  readonly moduleHv: number;
  readonly minUpdateHv: number;
  readonly noDowngrade: boolean;
  /** The handoff region the build expects P-SEAMLDR to keep (sigstruct num_handoff_pages). */
  readonly numHandoffPages: number;
  readonly features0: bigint;
  /** The layout of the handoff data this build writes at TDH.SYS.SHUTDOWN (see canImportHandoff). */
  readonly handoffDataVersion: number;
}

const builds = new Map<string, ModuleBuild>();

/** Records a build under its SEAMHASH (hex). Registering the same hash again replaces it. */
export function registerBuild(seamhash: string, build: ModuleBuild): void {
  builds.set(seamhash, build);
}

export function lookupBuild(seamhash: string): ModuleBuild | undefined {
  return builds.get(seamhash);
}

/** The handoff data version of a release line member: major.minor.update packed as 0xMMmmuu. */
export function handoffDataVersionOf(v: Version): number {
  return (v.major << 16) | (v.minor << 8) | v.update;
}

/**
 * Whether a build can import handoff data of version `dataVersion` at TDH.SYS.UPDATE.
 * Spec §3.5 "Handoff versioning" gives only the upgrade-only rule on the sigstruct's HVs, and
 * every real sigstruct carries module_hv = min_update_hv = 0, so the real refusal lives inside the
 * module (derived): Intel's mapping_file.json says a release keeps TDs only from a running version
 * >= its min_module_version_for_td_preserving of the same major.minor. Modelled so: releases
 * sharing that minimum write one handoff data version (the minimum itself, packed), and a build
 * imports exactly the data versions of its own major.minor at or above its own.
 */
export function canImportHandoff(build: ModuleBuild, dataVersion: number): boolean {
  return dataVersion >> 8 === build.handoffDataVersion >> 8 && dataVersion >= build.handoffDataVersion;
}
