// Images as scenario data: a release from the catalogue, the build-time and sigstruct
// variations a vendor could ship, and at most one corruption. From one ImageRef come both the
// bytes the emulated kernel receives and the image as the model sees it.
import { buildBlobV1, corruptBlobV1, type ImageCorruption } from '../impl/firmware/image.ts';
import { SIGSTRUCT_SIZE } from '../impl/firmware/sigstruct.ts';
import type { ModuleIdentity } from '../impl/firmware/types.ts';
import type { Defect, ModelImage, ModuleSpec } from '../model/types.ts';
import { parseVersion, release } from './releases.ts';

export interface ImageRef {
  readonly release: string;
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
  };
}

export function imageBytes(ref: ImageRef): Uint8Array {
  const blob = buildBlobV1(identityOf(ref));
  return ref.corruption ? corruptBlobV1(blob, ref.corruption) : blob;
}

/** Which check a corruption defeats, in the contract's terms (see impl/firmware/image.ts). */
export function defectOf(c: ImageCorruption | null): Defect {
  if (c === null) return 'none';
  switch (c.kind) {
    case 'sigstruct_bitflip':
      // Only the first 2 KiB of the sigstruct page are the sigstruct; reserved2 is unchecked.
      return ((c.byte % 4096) + 4096) % 4096 < SIGSTRUCT_SIZE ? 'signature' : 'none';
    case 'rogue_key':
      return 'signature';
    case 'module_bitflip':
      return 'hash';
    default:
      return 'header';
  }
}

export function modelImage(ref: ImageRef, size: number): ModelImage {
  return { size, module: moduleSpecOf(identityOf(ref)), defect: defectOf(ref.corruption) };
}

export function describeImage(ref: ImageRef): string {
  const extras = [
    ref.svnDelta ? `svn${ref.svnDelta > 0 ? '+' : ''}${ref.svnDelta}` : '',
    ref.moduleHv || ref.minUpdateHv ? `hv ${ref.minUpdateHv}..${ref.moduleHv}` : '',
    ref.noDowngrade ? 'no-downgrade' : '',
    ref.debug ? 'debug' : '',
    ref.corruption ? corruptionString(ref.corruption) : '',
  ].filter(Boolean);
  return `${ref.release} v1 blob${extras.length ? ', ' + extras.join(', ') : ''}`;
}

function corruptionString(c: ImageCorruption): string {
  const args = Object.entries(c).filter(([k]) => k !== 'kind').map(([k, v]) => `${k} ${v}`);
  return args.length ? `${c.kind}(${args.join(', ')})` : c.kind;
}
