// The "tdx_image" v2 container (version 0x200) the merged kernel accepts: a 4 KiB header with
// page counts, then the sigstruct pages, then the module pages; no checksum check.
// Mirrors: the layout seamldr.c parses since v9 (spec §3.2 "Merged format"), and the v1->v2
// conversion of spec §3.2 (s = 1: the 2 KiB sigstruct plus 2 KiB of zeros is one page).
import { PAGE_SIZE, SEAMLDR_MAX_NR_MODULE_PAGES } from './abi.ts';
import { BLOB_V1, buildBlobV1, checksum16, concat, mod, moduleOf, repeatTo, sigstructOf, type ImageCorruption } from './image.ts';
import { signSigstruct } from './sigstruct.ts';
import { ROGUE_KEY_PEM } from './test_key.ts';
import type { ModuleIdentity } from './types.ts';

export const IMAGE_V2 = {
  VERSION: 0x200,
  OFF_VERSION: 0, // u16
  OFF_CHECKSUM: 2, // u16, not verified by the kernel (removed in v4)
  OFF_SIGNATURE: 4, // u8[8] "TDX-BLOB"
  OFF_SIGSTRUCT_NR_PAGES: 12, // u32, s <= 1
  OFF_MODULE_NR_PAGES: 16, // u32, m <= 496
  OFF_RESERVED: 20, // u8[4076], all zero
  HEADER_SIZE: 4096,
} as const;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Header, s sigstruct pages, m module pages; the checksum field keeps the v1 convention. */
function assembleV2(sigPages: Uint8Array, s: number, module: Uint8Array, m: number): Uint8Array {
  const b = new Uint8Array(IMAGE_V2.HEADER_SIZE + sigPages.length + module.length);
  const v = view(b);
  v.setUint16(IMAGE_V2.OFF_VERSION, IMAGE_V2.VERSION, true);
  b.set(new TextEncoder().encode('TDX-BLOB'), IMAGE_V2.OFF_SIGNATURE);
  v.setUint32(IMAGE_V2.OFF_SIGSTRUCT_NR_PAGES, s, true);
  v.setUint32(IMAGE_V2.OFF_MODULE_NR_PAGES, m, true);
  b.set(sigPages, IMAGE_V2.HEADER_SIZE);
  b.set(module, IMAGE_V2.HEADER_SIZE + sigPages.length);
  v.setUint16(IMAGE_V2.OFF_CHECKSUM, (0x10000 - checksum16(b)) & 0xffff, true);
  return b;
}

function sigPage(blobV1: Uint8Array): Uint8Array {
  const p = new Uint8Array(PAGE_SIZE);
  p.set(sigstructOf(blobV1));
  return p;
}

/** The v1 -> v2 conversion of spec §3.2: the blob's sigstruct page and module in the v2 layout. */
export function imageV2OfBlobV1(v1: Uint8Array): Uint8Array {
  const module = moduleOf(v1);
  return assembleV2(sigPage(v1), 1, module, module.length / PAGE_SIZE);
}

/** A well-formed v2 image of id. */
export function buildImageV2(id: ModuleIdentity, keyPem?: string): Uint8Array {
  return imageV2OfBlobV1(buildBlobV1(id, keyPem));
}

function sigOf(img: Uint8Array): Uint8Array {
  const s = view(img).getUint32(IMAGE_V2.OFF_SIGSTRUCT_NR_PAGES, true);
  return img.slice(IMAGE_V2.HEADER_SIZE, IMAGE_V2.HEADER_SIZE + s * PAGE_SIZE);
}

function moduleOfV2(img: Uint8Array): Uint8Array {
  const s = view(img).getUint32(IMAGE_V2.OFF_SIGSTRUCT_NR_PAGES, true);
  return img.slice(IMAGE_V2.HEADER_SIZE + s * PAGE_SIZE);
}

/** A corrupted copy of a v2 image; each kind aims at one check of spec §3.2 (merged format). */
export function corruptImageV2(img: Uint8Array, c: ImageCorruption): Uint8Array {
  const b = img.slice();
  const v = view(b);
  const sig = sigOf(img),
    module = moduleOfV2(img),
    m = module.length / PAGE_SIZE;
  switch (c.kind) {
    case 'truncate':
      return b.slice(0, Math.max(0, Math.min(c.length, b.length)));
    case 'short_blob':
      return b.slice(0, Math.max(IMAGE_V2.OFF_RESERVED, Math.min(c.length, IMAGE_V2.HEADER_SIZE - 1)));
    case 'bad_checksum':
      v.setUint16(IMAGE_V2.OFF_CHECKSUM, v.getUint16(IMAGE_V2.OFF_CHECKSUM, true) ^ 1, true);
      return b; // harmless in v2
    case 'bad_magic':
      b[IMAGE_V2.OFF_SIGNATURE] = 'X'.charCodeAt(0);
      return b;
    case 'bad_version':
      v.setUint16(IMAGE_V2.OFF_VERSION, BLOB_V1.VERSION + 1, true);
      return b;
    case 'bad_length':
      v.setUint32(IMAGE_V2.OFF_MODULE_NR_PAGES, m + 1, true);
      return b; // sizes do not add up
    case 'reserved_nonzero':
      b[IMAGE_V2.OFF_RESERVED + mod(c.index, IMAGE_V2.HEADER_SIZE - IMAGE_V2.OFF_RESERVED)] = 0xa5;
      return b;
    // s = 0 passes the kernel (P-SEAMLDR then has no sigstruct); s >= 2 fails "s <= 1".
    case 'sig_size':
      return assembleV2(repeatTo(sig, Math.max(0, c.pages) * PAGE_SIZE), Math.max(0, c.pages), module, m);
    case 'module_unaligned':
      return concat(b, new Uint8Array(1024));
    case 'module_too_big':
      return assembleV2(sig, 1, repeatTo(module, (SEAMLDR_MAX_NR_MODULE_PAGES + 1) * PAGE_SIZE), SEAMLDR_MAX_NR_MODULE_PAGES + 1);
    // m = 0 passes the kernel; P-SEAMLDR rejects an install of no pages (after shutdown).
    case 'no_module_pages':
      return assembleV2(sig, 1, new Uint8Array(0), 0);
    case 'page_count_overflow': {
      // B14: m = 2^20 + k makes m * 4096 wrap in u32 to k * 4096, so the size equation holds
      // for a k-page module; only the bound m <= 496 rejects it.
      const k = 1 + mod(c.extra, m);
      const small = assembleV2(sig, 1, module.slice(0, k * PAGE_SIZE), k);
      view(small).setUint32(IMAGE_V2.OFF_MODULE_NR_PAGES, 0x100000 + k, true);
      return small;
    }
    case 'sigstruct_bitflip':
      b[IMAGE_V2.HEADER_SIZE + mod(c.byte, PAGE_SIZE)] ^= 1 << mod(c.bit, 8);
      return b;
    case 'module_bitflip':
      b[IMAGE_V2.HEADER_SIZE + sig.length + mod(c.byte, module.length)] ^= 1 << mod(c.bit, 8);
      return b;
    case 'rogue_key': {
      const s = sig.slice();
      const st = s.subarray(0, 2048);
      signSigstruct(st, ROGUE_KEY_PEM);
      b.set(s, IMAGE_V2.HEADER_SIZE);
      return b;
    }
    default: {
      const never: never = c;
      return never;
    }
  }
}
