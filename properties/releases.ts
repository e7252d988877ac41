// The real TDX module release catalogue: Intel's mapping_file.json (intel/tdx-module-binaries
// @ 28a4baa, MIT; shipped as data/mapping_file.json) for versions, the selection fields and
// TDX_FEATURES0, plus the SEAMSVN and CPUID tables decoded from the published blobs'
// sigstructs (spec §3.2). Generators draw module versions from here; the selection policy
// (impl/userspace/policy.ts) reads the mapping and the sigstruct facts from here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseTdxVersion, type MappingEntry, type ModuleFacts } from '../impl/userspace/policy.ts';

export interface Release {
  readonly version: string;
  readonly minModuleVersionForTdPreserving: string;
  readonly minSeamldrVersions: readonly string[];
  readonly features0: bigint;
  readonly seamsvn: number;
  readonly cpuids: readonly number[];
}

/** A mapping_file.json entry, checked. */
export interface MappingRelease extends MappingEntry {
  readonly features0: bigint;
}

/** A mapping file that cannot be used: the message names the entry and the field. */
export class MappingError extends Error {}

export const MAPPING_FILE = fileURLToPath(new URL('../data/mapping_file.json', import.meta.url));

function versionOf(v: unknown, what: string): string {
  if (typeof v !== 'string' || parseTdxVersion(v) === null) throw new MappingError(`${what} is not a version like 1.5.06`);
  return v;
}

function entryOf(x: unknown, i: number): MappingRelease {
  const where = `tdx_module_releases[${i}]`;
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new MappingError(`${where} is not an object`);
  const o = x as Record<string, unknown>;
  const seamldrs = o['min_seamldr_versions'];
  if (!Array.isArray(seamldrs) || seamldrs.length === 0) throw new MappingError(`${where}: min_seamldr_versions is not a non-empty list`);
  const f0 = o['tdx_feature0'];
  if (typeof f0 !== 'string' || !/^0x[0-9a-f]{1,16}$/i.test(f0)) throw new MappingError(`${where}: tdx_feature0 is not a 64-bit hex number`);
  return {
    version: versionOf(o['version'], `${where}.version`),
    minModuleVersionForTdPreserving: versionOf(o['min_module_version_for_td_preserving'], `${where}.min_module_version_for_td_preserving`),
    minSeamldrVersions: seamldrs.map((v, k) => versionOf(v, `${where}.min_seamldr_versions[${k}]`)),
    features0: BigInt(f0),
  };
}

/** The releases of a mapping_file.json text; a MappingError names what is wrong. */
export function parseMapping(text: string): MappingRelease[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new MappingError(`not JSON (${(e as Error).message})`);
  }
  const list = (doc as { tdx_module_releases?: unknown } | null)?.tdx_module_releases;
  if (!Array.isArray(list) || list.length === 0) throw new MappingError('no tdx_module_releases list');
  return list.map(entryOf);
}

/** The mapping file the project ships. */
export const MAPPING: readonly MappingRelease[] = parseMapping(readFileSync(MAPPING_FILE, 'utf8'));

const CPUIDS_15_OLD = [0x806f8, 0xc06f0];
const CPUIDS_15 = [0x806f8, 0xc06f0, 0xa06f0];
const CPUIDS_20_OLD = [0xa06d0];
const CPUIDS_20 = [0xa06d0, 0xa06e0];

/** SEAMSVN (offset 948) and CPUID table (offset 1024) of each published blob's sigstruct. */
const SIGSTRUCTS: Record<string, { seamsvn: number; cpuids: readonly number[] }> = {
  '1.5.01': { seamsvn: 0x104, cpuids: CPUIDS_15_OLD },
  '1.5.05': { seamsvn: 0x105, cpuids: CPUIDS_15 },
  '1.5.06': { seamsvn: 0x106, cpuids: CPUIDS_15 },
  '1.5.08': { seamsvn: 0x107, cpuids: CPUIDS_15 },
  '1.5.09': { seamsvn: 0x108, cpuids: CPUIDS_15 },
  '1.5.13': { seamsvn: 0x10a, cpuids: CPUIDS_15 },
  '1.5.16': { seamsvn: 0x10b, cpuids: CPUIDS_15 },
  '2.0.02': { seamsvn: 0x303, cpuids: CPUIDS_20_OLD },
  '2.0.04': { seamsvn: 0x304, cpuids: CPUIDS_20 },
  '2.0.05': { seamsvn: 0x304, cpuids: CPUIDS_20 },
  '2.0.08': { seamsvn: 0x305, cpuids: CPUIDS_20 },
};

function withSigstruct(m: MappingRelease): Release {
  const s = SIGSTRUCTS[m.version];
  if (!s) throw new Error(`data/mapping_file.json lists ${m.version}, whose sigstruct facts are not in properties/releases.ts`);
  return { ...m, ...s };
}

const UPDATE_COMPAT = 1n << 47n;

export const RELEASES: readonly Release[] = [
  ...MAPPING.map(withSigstruct),
  // Not in mapping_file.json: the releases whose notes say they "allow handling of compatibility
  // issues during TD preserving updates" [RN]. SVNs from the notes (1.5.24: 0x01/0x0D; 2.0.14:
  // 0x03/0x07; 1.5.25 assumed equal to 1.5.24); TDX_FEATURES0 is the previous release's plus
  // bit 47, UPDATE_COMPAT (derived: spec §3.4, §5.2).
  {
    version: '1.5.24',
    minModuleVersionForTdPreserving: '1.5.01',
    minSeamldrVersions: ['1.5.00', '2.0.00'],
    features0: 0x226f3f0fbfn | UPDATE_COMPAT,
    seamsvn: 0x10d,
    cpuids: CPUIDS_15,
  },
  {
    version: '1.5.25',
    minModuleVersionForTdPreserving: '1.5.01',
    minSeamldrVersions: ['1.5.00', '2.0.00'],
    features0: 0x226f3f0fbfn | UPDATE_COMPAT,
    seamsvn: 0x10d,
    cpuids: CPUIDS_15,
  },
  {
    version: '2.0.14',
    minModuleVersionForTdPreserving: '2.0.04',
    minSeamldrVersions: ['2.0.00'],
    features0: 0x32a71f0fbfn | UPDATE_COMPAT,
    seamsvn: 0x307,
    cpuids: CPUIDS_20,
  },
];

/** The releases Intel's mapping_file.json lists (the rest come from release notes). */
export const MAPPING_FILE_RELEASES = RELEASES.slice(0, MAPPING.length);

/** The policy's module facts for every release, from the decoded sigstructs (all production modules). */
export const RELEASE_FACTS: readonly ModuleFacts[] = RELEASES.map((r) => ({ version: r.version, cpuids: r.cpuids, debug: false }));

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
