// Images as scenario data: a release from the catalogue, the build-time and sigstruct
// variations a vendor could ship, and at most one corruption; or Intel's own signed blob of a
// release (`real`), read from a --blobs directory. From one ImageRef come both the bytes the
// emulated kernel receives and the image as the model sees it.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { PAGE_SIZE, TDX_FEATURES0_UPDATE_COMPAT } from '../impl/firmware/abi.ts';
import { buildBlobV1, corruptBlobV1, memo, memoSet, moduleOf, sigstructOf, type ImageCorruption } from '../impl/firmware/image.ts';
import { buildImageV2, corruptImageV2, imageV2OfBlobV1 } from '../impl/firmware/image_v2.ts';
import { handoffDataVersionOf, lookupBuild, registerBuild } from '../impl/firmware/registry.ts';
import { parseSigstruct, SIGSTRUCT_SIZE, TEST_KEY_HASH, toHex } from '../impl/firmware/sigstruct.ts';
import type { ModuleIdentity } from '../impl/firmware/types.ts';
import type { Host, HostConfig } from '../impl/host.ts';
import type { Defect, ModelImage, ModuleSpec } from '../model/types.ts';
import { parseVersion, release, type Release } from './releases.ts';
import type { Scenario } from './scenario.ts';

export interface ImageRef {
  readonly release: string;
  /** The container: v1 blob (seed) or v2 image (merged); v1 when absent. */
  readonly format?: 'v1' | 'v2';
  /** Intel's signed blob of the release as shipped (needs useRealBlobs); the variations below must be 0/false. */
  readonly real?: boolean;
  /** Added to the release's SEAMSVN: negative is a downgrade P-SEAMLDR must refuse. */
  readonly svnDelta: number;
  readonly moduleHv: number;
  readonly minUpdateHv: number;
  readonly noDowngrade: boolean;
  readonly debug: boolean;
  readonly corruption: ImageCorruption | null;
}

/** Which signer key the emulated platform's P-SEAMLDR trusts (spec §3.3 INTEL_SIGNER_KEY_HASH). */
export type TrustAnchor = 'intel' | 'test';

/** One record of data/real-sigstructs.json, as far as the harness reads it. */
interface RealRecord {
  readonly release: string;
  readonly modulePages: number;
  readonly numHandoffPages: number;
  readonly seamhash: string;
}

/** Facts of Intel's eleven signed blobs (data/README.md). */
export const REAL_SIGSTRUCTS = JSON.parse(readFileSync(new URL('../data/real-sigstructs.json', import.meta.url), 'utf8')) as {
  readonly signerKeySha384: string;
  readonly releases: readonly (RealRecord & Record<string, unknown>)[];
};

/** The SHA-384 of each trust anchor's modulus. */
export const TRUST_ANCHORS: Readonly<Record<TrustAnchor, string>> = { intel: REAL_SIGSTRUCTS.signerKeySha384, test: TEST_KEY_HASH };

/** The anchor a booted host's P-SEAMLDR trusts (what modelImage needs to know). */
export function trustOf(h: Host): TrustAnchor {
  return h.seam.pseamldr.intelKeyHash === TRUST_ANCHORS.intel ? 'intel' : 'test';
}

/**
 * The build of a real release, registered under its SEAMHASH. Every real sigstruct has module_hv,
 * min_update_hv and no_downgrade 0; the handoff data version follows mapping_file.json's
 * min_module_version_for_td_preserving (impl/firmware/registry.ts canImportHandoff).
 */
export function registerRealRelease(
  version: string,
  seamhash: string,
  numHandoffPages: number,
  r: Pick<Release, 'features0' | 'minModuleVersionForTdPreserving'> = release(version),
): void {
  registerBuild(seamhash, {
    version: parseVersion(version),
    moduleHv: 0,
    minUpdateHv: 0,
    noDowngrade: false,
    numHandoffPages,
    features0: r.features0,
    handoffDataVersion: handoffDataVersionOf(parseVersion(r.minModuleVersionForTdPreserving)),
  });
}

for (const r of REAL_SIGSTRUCTS.releases) registerRealRelease(r.release, r.seamhash, r.numHandoffPages);

const realBlobs = new Map<string, Uint8Array>();

/** The signed blobs a --blobs directory holds, by release; real ImageRefs read their bytes here. */
export function useRealBlobs(blobs: ReadonlyMap<string, Uint8Array>): void {
  realBlobs.clear();
  built.map.clear();
  built.bytes = 0;
  for (const [version, bytes] of blobs) realBlobs.set(version, bytes);
}

/** Whether Intel's blob of the release is loaded. */
export function hasRealBlob(version: string): boolean {
  return realBlobs.has(version);
}

/** The releases of Intel's blobs a scenario boots or uploads (each needs `--blobs DIR`). */
export function realReleasesOf(s: Scenario): string[] {
  const boot = s.host.boot.real === true ? [s.host.boot.release] : [];
  return [...boot, ...s.commands.flatMap((c) => (c.kind === 'upload' && c.image.real === true ? [c.image.release] : []))];
}

function realBlob(version: string): Uint8Array {
  const b = realBlobs.get(version);
  if (!b) throw new Error(`no real blob of release ${version} is loaded (--blobs DIR)`);
  return b;
}

/**
 * A host booting Intel's blob of `version` on a CPU from its CPUID table, with P-SEAMLDR
 * trusting Intel's key: `base` with the boot module, CPU and trust anchor replaced.
 */
export function realHostConfig(base: HostConfig, version: string): HostConfig {
  const b = realBlob(version),
    id = realIdentity(version);
  return { ...base, boot: id, cpuFms: id.cpuids[0]! | 1, bootBlob: { module: moduleOf(b), sigstruct: sigstructOf(b) }, signerKeyHash: TRUST_ANCHORS.intel };
}

// The loaded release of ref's line nearest at or above ref's release (else the line's newest).
function loadedReleaseFor(ref: ImageRef, releases: readonly string[]): string | undefined {
  const line = releases.filter((v) => v.slice(0, 3) === ref.release.slice(0, 3)).sort();
  return line.find((v) => v >= ref.release) ?? line.at(-1);
}

/**
 * Generator hook for --blobs: about `share` of each scenario's uploads become Intel's blob of a
 * loaded release of the same line (format and corruption kept, so corruptions reach real blobs
 * too). Applied to whole scenarios, after the generator has resolved each upload's release.
 */
export function withRealBlobs(scenarios: fc.Arbitrary<Scenario>, releases: readonly string[], share = 0.5): fc.Arbitrary<Scenario> {
  if (releases.length === 0) return scenarios;
  const pct = Math.round(share * 100);
  const pick = fc.oneof({ weight: 100 - pct, arbitrary: fc.constant(false) }, { weight: pct, arbitrary: fc.constant(true) });
  return fc.tuple(scenarios, fc.array(pick, { maxLength: 64 })).map(([s, picks]) => ({
    ...s,
    commands: s.commands.map((c, i) => {
      const v = c.kind === 'upload' && picks[i % Math.max(1, picks.length)] ? loadedReleaseFor(c.image, releases) : undefined;
      return c.kind === 'upload' && v
        ? { ...c, image: { ...c.image, release: v, real: true, svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false } }
        : c;
    }),
  }));
}

/** Module pages of an emulated image: small, so hashing stays cheap (real modules are 101-146). */
const NR_MODULE_PAGES = 2;

// Real module sizes by release; releases without a published blob take their line's largest.
function realModulePages(version: string): number {
  const line = REAL_SIGSTRUCTS.releases.filter((r) => r.release.slice(0, 3) === version.slice(0, 3));
  return (line.find((r) => r.release === version) ?? line.at(-1)!).modulePages;
}

// FNV-1a: a stable hash of the image's identity fields, so that a scenario replays to the same size.
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * About 1 in 10 identities is built at its release's real size (100-150 pages), so page lists
 * of real length reach the kernel and P-SEAMLDR; the rest stay at 2 pages to keep hashing cheap.
 * Drawn from the identity itself, so it needs no generator field and replays unchanged.
 */
export function usesRealSize(ref: Omit<ImageRef, 'corruption' | 'format'>): boolean {
  return fnv1a(`${ref.release}|${ref.svnDelta}|${ref.moduleHv}|${ref.minUpdateHv}|${ref.noDowngrade}|${ref.debug}`) % 10 === 0;
}

// A loaded real blob as the model sees it: its sigstruct and its registered build.
function realIdentity(version: string): ModuleIdentity {
  const b = realBlob(version);
  const sig = parseSigstruct(sigstructOf(b));
  const build = lookupBuild(toHex(sig.seamhash));
  if (!build) throw new Error(`the blob of release ${version} has no registered build`);
  return {
    version: build.version,
    seamsvn: sig.seamsvn,
    moduleHv: build.moduleHv,
    minUpdateHv: build.minUpdateHv,
    noDowngrade: build.noDowngrade,
    debug: sig.debug,
    cpuids: sig.cpuidTable,
    features0: build.features0,
    nrPages: moduleOf(b).length / PAGE_SIZE,
  };
}

export function identityOf(ref: Omit<ImageRef, 'corruption'>): ModuleIdentity {
  if (ref.real) return realIdentity(ref.release);
  const r = release(ref.release);
  return {
    version: parseVersion(r.version),
    seamsvn: r.seamsvn + ref.svnDelta,
    moduleHv: ref.moduleHv,
    minUpdateHv: ref.minUpdateHv,
    noDowngrade: ref.noDowngrade,
    debug: ref.debug,
    cpuids: [...r.cpuids],
    features0: r.features0,
    nrPages: usesRealSize(ref) ? realModulePages(r.version) : NR_MODULE_PAGES,
    // A build of a real release writes the handoff data its line shares (issue 12 part 3).
    handoffDataVersion: handoffDataVersionOf(parseVersion(r.minModuleVersionForTdPreserving)),
  };
}

/**
 * The module as the model sees it. Frozen, with everything in it: the model shares it between
 * states and never changes it, and a distinct-state key writes a frozen value once
 * (harness/explore.ts canonical).
 */
export function moduleSpecOf(id: ModuleIdentity): ModuleSpec {
  const v = `${id.version.major}.${id.version.minor}.${String(id.version.update).padStart(2, '0')}`;
  return Object.freeze({
    version: Object.freeze({ ...id.version }),
    seamsvn: id.seamsvn,
    moduleHv: id.moduleHv,
    minUpdateHv: id.minUpdateHv,
    noDowngrade: id.noDowngrade,
    debug: id.debug,
    cpuids: Object.freeze(id.cpuids.map((c) => c & ~0xf)),
    updateCompat: (id.features0 & TDX_FEATURES0_UPDATE_COMPAT) !== 0n,
    // Intel's mapping_file.json, read here for the model (the firmware reads it as handoff data versions).
    minTdPreserving: Object.freeze(parseVersion(release(v).minModuleVersionForTdPreserving)),
  });
}

function cleanBytes(ref: ImageRef): Uint8Array {
  const v2 = (ref.format ?? 'v1') === 'v2';
  if (ref.real) return v2 ? imageV2OfBlobV1(realBlob(ref.release)) : realBlob(ref.release).slice();
  return v2 ? buildImageV2(identityOf(ref)) : buildBlobV1(identityOf(ref));
}

// The bytes of each ImageRef, built once: an upload reads its image twice (the kernel's copy,
// the model's size), and a run draws the same refs again and again (npm run bench: building
// images was a quarter of the default workload). Bounded by bytes, oldest out first: 256 MiB,
// since the default workload's refs come to 107 MiB (546 refs, most of them corruptions of a
// real-size image) and a smaller bound evicted and rebuilt them on every pass, and with them
// the kernel's checksum and P-SEAMLDR's hash, which are kept per image (issue 13: each distinct
// image hashed once; impl/platform/memory.ts digest).
const built = memo<Uint8Array>((b) => b.length, 256 << 20);

/** The bytes userspace uploads for `ref`. Shared between callers: read them, never write them. */
export function imageBytes(ref: ImageRef): Uint8Array {
  const key = JSON.stringify(ref);
  return built.map.get(key) ?? memoSet(built, key, buildBytes(ref));
}

function buildBytes(ref: ImageRef): Uint8Array {
  const clean = cleanBytes(ref);
  if (!ref.corruption) return clean;
  return (ref.format ?? 'v1') === 'v2' ? corruptImageV2(clean, ref.corruption) : corruptBlobV1(clean, ref.corruption);
}

/**
 * Which check a corruption defeats, in the contract's terms (see impl/firmware/image.ts and
 * image_v2.ts): 'header' the kernel's, 'signature' P-SEAMLDR's before its point of no return
 * (sigstruct, params), 'hash' P-SEAMLDR's after it.
 */
export function defectOf(c: ImageCorruption | null, format: 'v1' | 'v2'): Defect {
  if (c === null) return 'none';
  switch (c.kind) {
    case 'sigstruct_bitflip':
      // Only the first 2 KiB of the sigstruct page are the sigstruct; the rest is unchecked.
      return ((c.byte % 4096) + 4096) % 4096 < SIGSTRUCT_SIZE ? 'signature' : 'none';
    case 'rogue_key':
      return 'signature';
    case 'module_bitflip':
      return 'hash';
    case 'bad_checksum':
      return format === 'v1' ? 'header' : 'none'; // the merged kernel does not check it
    case 'sig_size':
      // One sigstruct page is the valid layout; v2 lets 0 through to P-SEAMLDR (spec §3.2).
      return c.pages === 1 ? 'none' : format === 'v2' && c.pages === 0 ? 'signature' : 'header';
    case 'no_module_pages':
      return format === 'v2' ? 'signature' : 'header';
    default:
      return 'header';
  }
}

// A blob signed with a key the platform does not trust fails P-SEAMLDR's key check, unless the
// kernel already refused it; the key check comes before the hash check.
function keyDefect(defect: Defect, signedBy: TrustAnchor, trust: TrustAnchor): Defect {
  return signedBy === trust || defect === 'header' ? defect : 'signature';
}

/** The image as the model sees it, for a kernel that accepts `kernelFormat`, on a platform trusting `trust`. */
export function modelImage(ref: ImageRef, size: number, kernelFormat: 'v1' | 'v2', trust: TrustAnchor = 'test'): ModelImage {
  const format = ref.format ?? 'v1';
  // A truncation to the full length truncates nothing.
  const untouched = ref.corruption?.kind === 'truncate' && size === cleanBytes(ref).length;
  const defect = format !== kernelFormat ? 'header' : untouched ? 'none' : defectOf(ref.corruption, format);
  return Object.freeze({ size, module: moduleSpecOf(identityOf(ref)), defect: keyDefect(defect, ref.real ? 'intel' : 'test', trust) });
}

export function describeImage(ref: ImageRef): string {
  const extras = [
    ref.svnDelta ? `svn${ref.svnDelta > 0 ? '+' : ''}${ref.svnDelta}` : '',
    ref.moduleHv || ref.minUpdateHv ? `hv ${ref.minUpdateHv}..${ref.moduleHv}` : '',
    ref.noDowngrade ? 'no-downgrade' : '',
    ref.debug ? 'debug' : '',
    ref.corruption ? corruptionString(ref.corruption) : '',
  ].filter(Boolean);
  const container = (ref.format ?? 'v1') === 'v1' ? 'v1 blob' : 'v2 image';
  return `${ref.release} ${ref.real ? `Intel's ${container}` : container}${extras.length ? ', ' + extras.join(', ') : ''}`;
}

function corruptionString(c: ImageCorruption): string {
  const args = Object.entries(c)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => `${k} ${v}`);
  return args.length ? `${c.kind}(${args.join(', ')})` : c.kind;
}
