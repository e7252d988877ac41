// Tests for impl/firmware/image_v2.ts: the merged kernel's tdx_image v2 layout, and that each
// corruption changes what it says and nothing else (the v2 counterpart of image.test.ts).
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE, SEAMLDR_MAX_NR_MODULE_PAGES } from '../../../impl/firmware/abi.ts';
import { buildBlobV1, checksum16, moduleOf, sigstructOf } from '../../../impl/firmware/image.ts';
import { buildImageV2, corruptImageV2, IMAGE_V2 } from '../../../impl/firmware/image_v2.ts';
import { keyHash, parseSigstruct, sha384, SIGSTRUCT_SIZE, sigstructSignatureValid, toHex } from '../../../impl/firmware/sigstruct.ts';
import { ROGUE_KEY_PEM } from '../../../impl/firmware/test_key.ts';
import { identity } from './helpers.ts';

const ID = identity(8, { nrPages: 3 });
const img = buildImageV2(ID);
const M = 3; // module pages

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const hdr = (b: Uint8Array) => ({
  version: dv(b).getUint16(IMAGE_V2.OFF_VERSION, true),
  magic: new TextDecoder().decode(b.subarray(IMAGE_V2.OFF_SIGNATURE, IMAGE_V2.OFF_SIGNATURE + 8)),
  s: dv(b).getUint32(IMAGE_V2.OFF_SIGSTRUCT_NR_PAGES, true),
  m: dv(b).getUint32(IMAGE_V2.OFF_MODULE_NR_PAGES, true),
});
/** The kernel's size equation: header + s + m pages is the file size. */
const sizesAddUp = (b: Uint8Array) => IMAGE_V2.HEADER_SIZE + (hdr(b).s + hdr(b).m) * PAGE_SIZE === b.length;

/** Byte indices where a and b differ (same length). */
function diff(a: Uint8Array, b: Uint8Array): number[] {
  expect(b.length).toBe(a.length);
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}
const moduleRegion = (b: Uint8Array) => b.subarray(IMAGE_V2.HEADER_SIZE + hdr(b).s * PAGE_SIZE);

describe('buildImageV2', () => {
  it('is the v1 blob converted: header, one sigstruct page (2 KiB sigstruct, 2 KiB zeros), the module', () => {
    const v1 = buildBlobV1(ID);
    expect(hdr(img)).toEqual({ version: 0x200, magic: 'TDX-BLOB', s: 1, m: M });
    expect(img.length).toBe(IMAGE_V2.HEADER_SIZE + (1 + M) * PAGE_SIZE);
    expect(sizesAddUp(img)).toBe(true);
    expect(img.subarray(IMAGE_V2.OFF_RESERVED, IMAGE_V2.HEADER_SIZE).every((x) => x === 0)).toBe(true);
    expect(toHex(img.subarray(IMAGE_V2.HEADER_SIZE, IMAGE_V2.HEADER_SIZE + SIGSTRUCT_SIZE))).toBe(toHex(sigstructOf(v1)));
    expect(img.subarray(IMAGE_V2.HEADER_SIZE + SIGSTRUCT_SIZE, IMAGE_V2.HEADER_SIZE + PAGE_SIZE).every((x) => x === 0)).toBe(true);
    expect(toHex(moduleRegion(img))).toBe(toHex(moduleOf(v1)));
  });
  it('keeps the v1 checksum convention in its (unchecked) checksum field: the file sums to 0', () => {
    expect(checksum16(img)).toBe(0);
  });
});

describe('corruptImageV2', () => {
  it('does not modify its input', () => {
    const before = toHex(img);
    corruptImageV2(img, { kind: 'bad_magic' });
    corruptImageV2(img, { kind: 'module_bitflip', byte: 3, bit: 1 });
    expect(toHex(img)).toBe(before);
  });

  it('truncate cuts, clamped to the file', () => {
    expect(toHex(corruptImageV2(img, { kind: 'truncate', length: 100 }))).toBe(toHex(img.subarray(0, 100)));
    expect(corruptImageV2(img, { kind: 'truncate', length: img.length + 5 }).length).toBe(img.length);
    expect(corruptImageV2(img, { kind: 'truncate', length: -3 }).length).toBe(0);
  });

  it('short_blob is a prefix shorter than the header that still holds the page counts', () => {
    for (const [length, want] of [
      [0, IMAGE_V2.OFF_RESERVED],
      [100, 100],
      [5000, IMAGE_V2.HEADER_SIZE - 1],
    ]) {
      const c = corruptImageV2(img, { kind: 'short_blob', length });
      expect(c.length).toBe(want);
      expect(toHex(c)).toBe(toHex(img.subarray(0, want)));
    }
  });

  it('bad_checksum changes only the checksum field', () => {
    const c = corruptImageV2(img, { kind: 'bad_checksum' });
    expect(diff(img, c)).toEqual([IMAGE_V2.OFF_CHECKSUM]);
  });

  it.each([
    ['bad_magic', IMAGE_V2.OFF_SIGNATURE, 8, (c: Uint8Array) => expect(hdr(c).magic).not.toBe('TDX-BLOB')],
    ['bad_version', IMAGE_V2.OFF_VERSION, 2, (c: Uint8Array) => expect([0x100, 0x200]).not.toContain(hdr(c).version)],
    ['bad_length', IMAGE_V2.OFF_MODULE_NR_PAGES, 4, (c: Uint8Array) => expect(sizesAddUp(c)).toBe(false)],
  ] as const)('%s changes its field and nothing else', (kind, field, size, check) => {
    const c = corruptImageV2(img, { kind });
    check(c);
    const changed = diff(img, c);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((i) => i >= field && i < field + size)).toBe(true);
  });

  it('reserved_nonzero sets one byte of the reserved header bytes, index modulo their size', () => {
    for (const index of [0, 5, 4075, 4076 + 10, -1]) {
      const changed = diff(img, corruptImageV2(img, { kind: 'reserved_nonzero', index }));
      expect(changed).toHaveLength(1);
      expect(changed[0]).toBeGreaterThanOrEqual(IMAGE_V2.OFF_RESERVED);
      expect(changed[0]).toBeLessThan(IMAGE_V2.HEADER_SIZE);
    }
  });

  it('sig_size sets s sigstruct pages and keeps the sizes consistent', () => {
    for (const pages of [0, 2, 3]) {
      const c = corruptImageV2(img, { kind: 'sig_size', pages });
      expect(hdr(c)).toMatchObject({ s: pages, m: M });
      expect(sizesAddUp(c)).toBe(true);
      expect(toHex(moduleRegion(c))).toBe(toHex(moduleRegion(img)));
    }
  });

  it('module_unaligned appends a tail that is not a 4 KiB multiple and changes nothing else', () => {
    const c = corruptImageV2(img, { kind: 'module_unaligned' });
    expect(c.length - img.length).toBeGreaterThan(0);
    expect((c.length - img.length) % PAGE_SIZE).not.toBe(0);
    expect(toHex(c.subarray(0, img.length))).toBe(toHex(img));
  });

  it('module_too_big declares and carries a 497-page module, sizes consistent', () => {
    const c = corruptImageV2(img, { kind: 'module_too_big' });
    expect(hdr(c)).toMatchObject({ s: 1, m: SEAMLDR_MAX_NR_MODULE_PAGES + 1 });
    expect(moduleRegion(c).length).toBe((SEAMLDR_MAX_NR_MODULE_PAGES + 1) * PAGE_SIZE);
    expect(sizesAddUp(c)).toBe(true);
  });

  it('no_module_pages declares and carries no module, sizes consistent', () => {
    const c = corruptImageV2(img, { kind: 'no_module_pages' });
    expect(hdr(c)).toMatchObject({ s: 1, m: 0 });
    expect(c.length).toBe(IMAGE_V2.HEADER_SIZE + PAGE_SIZE);
    // Header and sigstruct page as before, apart from the page count and the checksum field.
    const changed = diff(img.subarray(0, c.length), c);
    expect(
      changed.every(
        (i) => (i >= IMAGE_V2.OFF_MODULE_NR_PAGES && i < IMAGE_V2.OFF_MODULE_NR_PAGES + 4) || i === IMAGE_V2.OFF_CHECKSUM || i === IMAGE_V2.OFF_CHECKSUM + 1,
      ),
    ).toBe(true);
  });

  it('page_count_overflow (B14): m = 2^20 + k wraps to a k-page module in u32 arithmetic', () => {
    for (const extra of [0, 1, 2, 7]) {
      const k = 1 + (extra % M);
      const c = corruptImageV2(img, { kind: 'page_count_overflow', extra });
      expect(hdr(c)).toMatchObject({ s: 1, m: 0x100000 + k });
      expect(moduleRegion(c).length).toBe(k * PAGE_SIZE);
      expect(toHex(moduleRegion(c))).toBe(toHex(moduleRegion(img).subarray(0, k * PAGE_SIZE)));
      // The size equation holds only in 32-bit arithmetic.
      expect(sizesAddUp(c)).toBe(false);
      expect((IMAGE_V2.HEADER_SIZE + PAGE_SIZE + ((hdr(c).m * PAGE_SIZE) >>> 0)) >>> 0).toBe(c.length);
    }
  });

  it('sigstruct_bitflip flips one bit of the sigstruct page, index modulo a page', () => {
    for (const [byte, bit] of [
      [0, 0],
      [948, 3],
      [4096 + 7, 9],
    ]) {
      const c = corruptImageV2(img, { kind: 'sigstruct_bitflip', byte, bit });
      const at = IMAGE_V2.HEADER_SIZE + (byte % PAGE_SIZE);
      expect(diff(img, c)).toEqual([at]);
      expect(c[at]! ^ img[at]!).toBe(1 << (bit % 8));
    }
  });

  it('module_bitflip flips one bit of the module, index modulo its size', () => {
    const start = IMAGE_V2.HEADER_SIZE + PAGE_SIZE;
    const c = corruptImageV2(img, { kind: 'module_bitflip', byte: M * PAGE_SIZE + 5, bit: 2 });
    expect(diff(img, c)).toEqual([start + 5]);
    expect(c[start + 5]! ^ img[start + 5]!).toBe(4);
  });

  it('rogue_key re-signs the sigstruct with the rogue key and changes nothing outside it', () => {
    const c = corruptImageV2(img, { kind: 'rogue_key' });
    const changed = diff(img, c);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((i) => i >= IMAGE_V2.HEADER_SIZE && i < IMAGE_V2.HEADER_SIZE + SIGSTRUCT_SIZE)).toBe(true);
    const sig = c.subarray(IMAGE_V2.HEADER_SIZE, IMAGE_V2.HEADER_SIZE + SIGSTRUCT_SIZE);
    expect(sigstructSignatureValid(sig)).toBe(true);
    expect(toHex(sha384(parseSigstruct(sig).modulus))).toBe(keyHash(ROGUE_KEY_PEM));
  });
});
