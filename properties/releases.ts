// The real TDX module release catalogue: Intel's mapping_file.json (intel/tdx-module-binaries
// @ 28a4baa, MIT) for versions and TDX_FEATURES0, plus the SEAMSVN and CPUID tables decoded
// from the published blobs (spec §3.2). Generators draw module versions from here.

export interface Release {
  readonly version: string;
  readonly minModuleVersionForTdPreserving: string;
  readonly minSeamldrVersions: readonly string[];
  readonly features0: bigint;
  readonly seamsvn: number;
  readonly cpuids: readonly number[];
}

const UPDATE_COMPAT = 1n << 47n;
const CPUIDS_15_OLD = [0x806f8, 0xc06f0];
const CPUIDS_15 = [0x806f8, 0xc06f0, 0xa06f0];
const CPUIDS_20_OLD = [0xa06d0];
const CPUIDS_20 = [0xa06d0, 0xa06e0];

export const RELEASES: readonly Release[] = [
  { version: '1.5.01', minModuleVersionForTdPreserving: '1.5.01', minSeamldrVersions: ['1.5.00'], features0: 0xf0fbfn, seamsvn: 0x104, cpuids: CPUIDS_15_OLD },
  { version: '1.5.05', minModuleVersionForTdPreserving: '1.5.01', minSeamldrVersions: ['1.5.00', '2.0.00'], features0: 0x61f0fbfn, seamsvn: 0x105, cpuids: CPUIDS_15 },
  { version: '1.5.06', minModuleVersionForTdPreserving: '1.5.01', minSeamldrVersions: ['1.5.00', '2.0.00'], features0: 0x2e1f0fbfn, seamsvn: 0x106, cpuids: CPUIDS_15 },
  { version: '1.5.08', minModuleVersionForTdPreserving: '1.5.01', minSeamldrVersions: ['1.5.00', '2.0.00'], features0: 0x22e1f0fbfn, seamsvn: 0x107, cpuids: CPUIDS_15 },
  { version: '1.5.09', minModuleVersionForTdPreserving: '1.5.01', minSeamldrVersions: ['1.5.00', '2.0.00'], features0: 0x26f1f0fbfn, seamsvn: 0x108, cpuids: CPUIDS_15 },
  { version: '1.5.13', minModuleVersionForTdPreserving: '1.5.01', minSeamldrVersions: ['1.5.00', '2.0.00'], features0: 0x226f1f0fbfn, seamsvn: 0x10a, cpuids: CPUIDS_15 },
  { version: '1.5.16', minModuleVersionForTdPreserving: '1.5.01', minSeamldrVersions: ['1.5.00', '2.0.00'], features0: 0x226f3f0fbfn, seamsvn: 0x10b, cpuids: CPUIDS_15 },
  { version: '2.0.02', minModuleVersionForTdPreserving: '2.0.02', minSeamldrVersions: ['2.0.00'], features0: 0x22e1f0fbfn, seamsvn: 0x303, cpuids: CPUIDS_20_OLD },
  { version: '2.0.04', minModuleVersionForTdPreserving: '2.0.04', minSeamldrVersions: ['2.0.00'], features0: 0x12af1f0fbfn, seamsvn: 0x304, cpuids: CPUIDS_20 },
  { version: '2.0.05', minModuleVersionForTdPreserving: '2.0.04', minSeamldrVersions: ['2.0.00'], features0: 0x226f3f0fbfn, seamsvn: 0x304, cpuids: CPUIDS_20 },
  { version: '2.0.08', minModuleVersionForTdPreserving: '2.0.04', minSeamldrVersions: ['2.0.00'], features0: 0x32a71f0fbfn, seamsvn: 0x305, cpuids: CPUIDS_20 },
  // Not in mapping_file.json: the releases whose notes say they "allow handling of compatibility
  // issues during TD preserving updates" [RN]. SVNs from the notes (1.5.24: 0x01/0x0D; 2.0.14:
  // 0x03/0x07; 1.5.25 assumed equal to 1.5.24); TDX_FEATURES0 is the previous release's plus
  // bit 47, UPDATE_COMPAT (derived: spec §3.4, §5.2).
  { version: '1.5.24', minModuleVersionForTdPreserving: '1.5.01', minSeamldrVersions: ['1.5.00', '2.0.00'], features0: 0x226f3f0fbfn | UPDATE_COMPAT, seamsvn: 0x10d, cpuids: CPUIDS_15 },
  { version: '1.5.25', minModuleVersionForTdPreserving: '1.5.01', minSeamldrVersions: ['1.5.00', '2.0.00'], features0: 0x226f3f0fbfn | UPDATE_COMPAT, seamsvn: 0x10d, cpuids: CPUIDS_15 },
  { version: '2.0.14', minModuleVersionForTdPreserving: '2.0.04', minSeamldrVersions: ['2.0.00'], features0: 0x32a71f0fbfn | UPDATE_COMPAT, seamsvn: 0x307, cpuids: CPUIDS_20 },
];

/** The releases Intel's mapping_file.json lists (the rest come from release notes). */
export const MAPPING_FILE_RELEASES = RELEASES.slice(0, 11);

export function release(version: string): Release {
  const r = RELEASES.find((x) => x.version === version);
  if (!r) throw new Error(`unknown TDX module release ${version}`);
  return r;
}

export function parseVersion(v: string): { major: number; minor: number; update: number } {
  const [major, minor, update] = v.split('.').map(Number) as [number, number, number];
  return { major, minor, update };
}

/** CPUID(1).EAX of a platform each family runs on: Sapphire Rapids (1.5.x) and Granite Rapids (2.0.x). */
export const PLATFORM_FMS = { '1.5': 0x806f8, '2.0': 0xa06d1 } as const;
