// Images as scenario data: a release from the catalogue, the build-time and sigstruct
// variations a vendor could ship, and at most one corruption. From one ImageRef come both the
// bytes the emulated kernel receives and the image as the model sees it.
import { TDX_FEATURES0_UPDATE_COMPAT } from '../impl/firmware/abi.ts';
import { buildBlobV1, corruptBlobV1, type ImageCorruption } from '../impl/firmware/image.ts';
import { buildImageV2, corruptImageV2 } from '../impl/firmware/image_v2.ts';
import { SIGSTRUCT_SIZE } from '../impl/firmware/sigstruct.ts';
import type { ModuleIdentity } from '../impl/firmware/types.ts';
import type { Defect, ModelImage, ModuleSpec } from '../model/types.ts';
import { parseVersion, release } from './releases.ts';

export interface ImageRef {
  readonly release: string;
  /** The container: v1 blob (seed) or v2 image (merged); v1 when absent. */
  readonly format?: 'v1' | 'v2';
  /** Added to the release's SEAMSVN: negative is a downgrade P-SEAMLDR must refuse. */
  readonly svnDelta: number;
  readonly moduleHv: number;
  readonly minUpdateHv: number;
  readonly noDowngrade: boolean;
  readonly debug: boolean;
  readonly corruption: ImageCorruption | null;
}

/** Module pages of an emulated image: small, so hashing stays cheap (real modules are 101-146). */
const NR_MODULE_PAGES = 2;

export function identityOf(ref: Omit<ImageRef, 'corruption'>): ModuleIdentity {
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
    nrPages: NR_MODULE_PAGES,
  };
}

export function moduleSpecOf(id: ModuleIdentity): ModuleSpec {
  return {
    version: id.version, seamsvn: id.seamsvn, moduleHv: id.moduleHv, minUpdateHv: id.minUpdateHv,
    noDowngrade: id.noDowngrade, debug: id.debug, cpuids: id.cpuids.map((c) => c & ~0xf),
    updateCompat: (id.features0 & TDX_FEATURES0_UPDATE_COMPAT) !== 0n,
  };
}

export function imageBytes(ref: ImageRef): Uint8Array {
  const id = identityOf(ref);
  if ((ref.format ?? 'v1') === 'v2') {
    const img = buildImageV2(id);
    return ref.corruption ? corruptImageV2(img, ref.corruption) : img;
  }
  const blob = buildBlobV1(id);
  return ref.corruption ? corruptBlobV1(blob, ref.corruption) : blob;
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

/** The image as the model sees it, for a kernel that accepts `kernelFormat`. */
export function modelImage(ref: ImageRef, size: number, kernelFormat: 'v1' | 'v2'): ModelImage {
  const format = ref.format ?? 'v1';
  // Both formats hold a header page, a sigstruct page and the module pages.
  const untouched = ref.corruption?.kind === 'truncate' && size === (2 + NR_MODULE_PAGES) * 4096;
  const defect = format !== kernelFormat ? 'header' : untouched ? 'none' : defectOf(ref.corruption, format);
  return { size, module: moduleSpecOf(identityOf(ref)), defect };
}

export function describeImage(ref: ImageRef): string {
  const extras = [
    ref.svnDelta ? `svn${ref.svnDelta > 0 ? '+' : ''}${ref.svnDelta}` : '',
    ref.moduleHv || ref.minUpdateHv ? `hv ${ref.minUpdateHv}..${ref.moduleHv}` : '',
    ref.noDowngrade ? 'no-downgrade' : '',
    ref.debug ? 'debug' : '',
    ref.corruption ? corruptionString(ref.corruption) : '',
  ].filter(Boolean);
  return `${ref.release} ${(ref.format ?? 'v1') === 'v1' ? 'v1 blob' : 'v2 image'}${extras.length ? ', ' + extras.join(', ') : ''}`;
}

function corruptionString(c: ImageCorruption): string {
  const args = Object.entries(c).filter(([k]) => k !== 'kind').map(([k, v]) => `${k} ${v}`);
  return args.length ? `${c.kind}(${args.join(', ')})` : c.kind;
}
