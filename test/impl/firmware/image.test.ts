// Tests for impl/firmware/image.ts: blob v1 layout, checksum, and that each corruption changes
// exactly what it says and nothing else.
import { describe, expect, it } from 'vitest';
import { BLOB_V1, buildBlobV1, checksum16, corruptBlobV1, fixChecksumV1, moduleImage, moduleSigstruct } from '../../../impl/firmware/image.ts';
import { PAGE_SIZE, SEAMLDR_MAX_NR_MODULE_PAGES } from '../../../impl/firmware/abi.ts';
import { keyHash, parseSigstruct, sha384, SIGSTRUCT_SIZE, sigstructSignatureValid, toHex } from '../../../impl/firmware/sigstruct.ts';
import { INTEL_TEST_KEY_PEM, ROGUE_KEY_PEM } from '../../../impl/firmware/test_key.ts';
import { readElf64Header } from '../../../impl/firmware/elf.ts';
import { lookupBuild } from '../../../impl/firmware/registry.ts';
import { BOOT, identity } from './helpers.ts';

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const hdr = (b: Uint8Array) => ({
  version: dv(b).getUint16(BLOB_V1.OFF_VERSION, true),
  offset: dv(b).getUint32(BLOB_V1.OFF_OFFSET_OF_MODULE, true),
  magic: new TextDecoder().decode(b.subarray(BLOB_V1.OFF_SIGNATURE, BLOB_V1.OFF_SIGNATURE + 8)),
  length: dv(b).getUint32(BLOB_V1.OFF_LENGTH, true),
});

/** Byte indices where a and b differ (same length). */
function diff(a: Uint8Array, b: Uint8Array): number[] {
  expect(b.length).toBe(a.length);
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

describe('checksum16', () => {
  it('sums little-endian words mod 2^16 and adds a trailing odd byte as-is', () => {
    expect(checksum16(new Uint8Array([0x01, 0x02, 0x03, 0x04]))).toBe(0x0604);
    expect(checksum16(new Uint8Array([0xff, 0xff, 0x02, 0x00]))).toBe(0x0001); // carry discarded, not folded
    expect(checksum16(new Uint8Array([0x00, 0x00, 0x05]))).toBe(0x0005);
  });
  it('fixChecksumV1 makes any buffer sum to zero, odd length included', () => {
    const b = new Uint8Array(4097).map((_, i) => (i * 37) & 0xff);
    fixChecksumV1(b);
    expect(checksum16(b)).toBe(0);
  });
});

describe('moduleImage', () => {
  it('is nrPages*4096 bytes, deterministic, and registers its build under its SEAMHASH', () => {
    const id = identity(13, { moduleHv: 7, minUpdateHv: 3, noDowngrade: true, features0: 0x40002n, nrPages: 5 });
    const a = moduleImage(id);
    expect(a.length).toBe(5 * PAGE_SIZE);
    expect(toHex(moduleImage(id))).toBe(toHex(a));
    expect(lookupBuild(toHex(sha384(a)))).toEqual({
      version: { major: 1, minor: 5, update: 13 },
      moduleHv: 7,
      minUpdateHv: 3,
      noDowngrade: true,
      features0: 0x40002n,
      numHandoffPages: 13,
      handoffDataVersion: 0x010500,
    });
  });
  it.each([1, 2, 5, 146])('a %i-page module is an ELF64 whose entry is the sigstruct rip_offset, offsets inside it', (nrPages) => {
    const id = identity(13, { nrPages });
    const elf = readElf64Header(moduleImage(id))!;
    const s = parseSigstruct(moduleSigstruct(id));
    expect(elf).toEqual({ type: 3, machine: 62, entry: BigInt(s.ripOffset) });
    expect(s.ripOffset).toBeLessThan(nrPages * PAGE_SIZE);
    expect(s.gdtIdtOffset % PAGE_SIZE).toBe(0);
    expect(s.gdtIdtOffset).toBeLessThan(nrPages * PAGE_SIZE);
    expect(s.faultWrapperOffset).toBeLessThan(nrPages * PAGE_SIZE);
    expect(s.gdtIdtOffset === 0).toBe(s.faultWrapperOffset === 0);
    expect(s.gdtIdtOffset === 0).toBe(nrPages === 1);
  });
  it('writes real-like sigstruct values: a BCD date, page counts, and the 2.0 version fields', () => {
    const s15 = parseSigstruct(moduleSigstruct(identity(13)));
    const s20 = parseSigstruct(moduleSigstruct(identity(4, { version: { major: 2, minor: 0, update: 4 }, seamsvn: 0x304 })));
    expect(s15.date.toString(16)).toMatch(/^202[45](0[1-9]|1[0-2])(0[1-9]|[12][0-9])$/);
    expect(s15).toMatchObject({ numStackPages: 1, numTlsPages: 1, numKeyholePages: 127, numGlobalDataPages: 21, numHandoffPages: 13 });
    expect(s15.moduleVersion).toEqual({ major: 0, minor: 0, update: 0, build: 0, extra: 0 });
    expect(s20).toMatchObject({ numGlobalDataPages: 33, numHandoffPages: 24 });
    expect(s20.moduleVersion).toMatchObject({ major: 2, minor: 0, update: 4 });
  });
  it('differs between identities and returns a fresh copy each call', () => {
    const a = moduleImage(BOOT);
    expect(toHex(moduleImage(identity(9)))).not.toBe(toHex(a));
    expect(toHex(moduleImage({ ...BOOT, seamsvn: BOOT.seamsvn + 1 }))).not.toBe(toHex(a));
    a[100] ^= 0xff;
    expect(moduleImage(BOOT)[100]).not.toBe(a[100]);
  });
});

describe('buildBlobV1', () => {
  const blob = buildBlobV1(BOOT);
  it('has the v1 header, checksum 0 and the layout of blob_join.sh', () => {
    expect(blob.length).toBe(8192 + BOOT.nrPages * PAGE_SIZE);
    expect(hdr(blob)).toEqual({ version: 0x100, offset: 8192, magic: 'TDX-BLOB', length: blob.length });
    expect(checksum16(blob)).toBe(0);
    expect(blob.subarray(BLOB_V1.OFF_RESERVED0, BLOB_V1.HEADER_SIZE).every((x) => x === 0)).toBe(true);
    expect(blob.subarray(BLOB_V1.OFF_RESERVED2, BLOB_V1.OFF_MODULE).every((x) => x === 0)).toBe(true);
    expect(toHex(blob.subarray(BLOB_V1.OFF_MODULE))).toBe(toHex(moduleImage(BOOT)));
  });
  it('carries a signed sigstruct over the module', () => {
    const sig = blob.subarray(BLOB_V1.OFF_SIGSTRUCT, BLOB_V1.OFF_SIGSTRUCT + SIGSTRUCT_SIZE);
    expect(sigstructSignatureValid(sig)).toBe(true);
    expect(toHex(parseSigstruct(sig).seamhash)).toBe(toHex(sha384(moduleImage(BOOT))));
  });
  it('returns a fresh copy per call and honours the key', () => {
    const a = buildBlobV1(BOOT);
    a[1] = 0xff;
    expect(hdr(buildBlobV1(BOOT)).version).toBe(0x100);
    const rogue = buildBlobV1(BOOT, ROGUE_KEY_PEM);
    const modulus = parseSigstruct(rogue.subarray(BLOB_V1.OFF_SIGSTRUCT)).modulus;
    expect(toHex(sha384(modulus))).toBe(keyHash(ROGUE_KEY_PEM));
    expect(keyHash(ROGUE_KEY_PEM)).not.toBe(keyHash(INTEL_TEST_KEY_PEM));
  });
});

describe('corruptBlobV1', () => {
  const blob = buildBlobV1(BOOT);

  it('does not modify its input', () => {
    const before = toHex(blob);
    corruptBlobV1(blob, { kind: 'bad_magic' });
    expect(toHex(blob)).toBe(before);
  });

  it('truncate cuts without fixing the checksum', () => {
    const t = corruptBlobV1(blob, { kind: 'truncate', length: 100 });
    expect(toHex(t)).toBe(toHex(blob.subarray(0, 100)));
  });

  it('bad_checksum changes only the checksum field', () => {
    const c = corruptBlobV1(blob, { kind: 'bad_checksum' });
    expect(diff(blob, c).every((i) => i === 2 || i === 3)).toBe(true);
    expect(checksum16(c)).not.toBe(0);
  });

  it.each([
    ['bad_magic', BLOB_V1.OFF_SIGNATURE, (c: Uint8Array) => expect(hdr(c).magic).not.toBe('TDX-BLOB')],
    ['bad_version', BLOB_V1.OFF_VERSION, (c: Uint8Array) => expect([0x100, 0x200]).not.toContain(hdr(c).version)],
    ['bad_length', BLOB_V1.OFF_LENGTH, (c: Uint8Array) => expect(hdr(c).length).not.toBe(c.length)],
  ] as const)('%s changes its field, re-fixes the checksum and nothing else', (kind, field, check) => {
    const c = corruptBlobV1(blob, { kind });
    check(c);
    expect(checksum16(c)).toBe(0);
    const changed = diff(blob, c).filter((i) => i !== 2 && i !== 3);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((i) => i >= field && i < field + 8)).toBe(true);
  });

  it('reserved_nonzero sets one byte in reserved0/reserved1', () => {
    for (const index of [0, 3, 4, 4075, 4076 + 10, -1]) {
      const c = corruptBlobV1(blob, { kind: 'reserved_nonzero', index });
      const changed = diff(blob, c).filter((i) => i !== 2 && i !== 3);
      expect(changed).toHaveLength(1);
      expect(changed[0]).toBeGreaterThanOrEqual(BLOB_V1.OFF_RESERVED0);
      expect(changed[0]).toBeLessThan(BLOB_V1.HEADER_SIZE);
      expect(checksum16(c)).toBe(0);
    }
  });

  it('sig_size moves the module and keeps the file consistent', () => {
    for (const pages of [0, 2, 3]) {
      const c = corruptBlobV1(blob, { kind: 'sig_size', pages });
      const h = hdr(c);
      expect(h.offset).toBe(4096 + pages * 4096);
      expect(h.length).toBe(c.length);
      expect(checksum16(c)).toBe(0);
      expect(toHex(c.subarray(h.offset))).toBe(toHex(blob.subarray(8192)));
      if (pages > 0) expect(toHex(c.subarray(4096, 4096 + SIGSTRUCT_SIZE))).toBe(toHex(blob.subarray(4096, 4096 + SIGSTRUCT_SIZE)));
    }
    expect(toHex(corruptBlobV1(blob, { kind: 'sig_size', pages: 1 }))).toBe(toHex(blob));
  });

  it('module_unaligned leaves a module size that is not a 4 KiB multiple', () => {
    const c = corruptBlobV1(blob, { kind: 'module_unaligned' });
    expect((c.length - hdr(c).offset) % PAGE_SIZE).not.toBe(0);
    expect(hdr(c).length).toBe(c.length);
    expect(checksum16(c)).toBe(0);
    const changed = diff(blob, c.slice(0, blob.length)).filter((i) => i !== 2 && i !== 3);
    expect(changed.every((i) => i >= BLOB_V1.OFF_LENGTH && i < BLOB_V1.OFF_LENGTH + 4)).toBe(true);
  });

  it('module_too_big makes a 497-page module', () => {
    const c = corruptBlobV1(blob, { kind: 'module_too_big' });
    expect(c.length - hdr(c).offset).toBe((SEAMLDR_MAX_NR_MODULE_PAGES + 1) * PAGE_SIZE);
    expect(hdr(c).length).toBe(c.length);
    expect(checksum16(c)).toBe(0);
  });

  it('sigstruct_bitflip flips one bit of the signature page', () => {
    for (const [byte, bit] of [
      [0, 0],
      [948, 3],
      [2047, 7],
      [3000, 1],
    ]) {
      const c = corruptBlobV1(blob, { kind: 'sigstruct_bitflip', byte, bit });
      const changed = diff(blob, c).filter((i) => i !== 2 && i !== 3);
      expect(changed).toEqual([4096 + byte]);
      expect(c[4096 + byte] ^ blob[4096 + byte]).toBe(1 << bit);
      expect(checksum16(c)).toBe(0);
    }
  });

  it('module_bitflip flips one bit of the module, index modulo its size', () => {
    const size = blob.length - 8192;
    const c = corruptBlobV1(blob, { kind: 'module_bitflip', byte: size + 5, bit: 2 });
    expect(diff(blob, c).filter((i) => i !== 2 && i !== 3)).toEqual([8192 + 5]);
    expect(checksum16(c)).toBe(0);
  });

  it('rogue_key re-signs the sigstruct with the rogue key only', () => {
    const c = corruptBlobV1(blob, { kind: 'rogue_key' });
    const changed = diff(blob, c).filter((i) => i !== 2 && i !== 3);
    expect(changed.every((i) => i >= 4096 + 128 && i < 4096 + 900)).toBe(true);
    const sig = c.subarray(4096, 4096 + SIGSTRUCT_SIZE);
    expect(sigstructSignatureValid(sig)).toBe(true);
    expect(toHex(sha384(parseSigstruct(sig).modulus))).toBe(keyHash(ROGUE_KEY_PEM));
    expect(checksum16(c)).toBe(0);
  });
});

describe('corruptBlobV1: the kinds that change the size', () => {
  const blob = buildBlobV1(BOOT);
  const modulePages = (blob.length - BLOB_V1.OFF_MODULE) / PAGE_SIZE;

  it('short_blob is a self-consistent prefix shorter than the header: even length, length field and checksum fixed', () => {
    for (const [length, want] of [
      [0, BLOB_V1.OFF_RESERVED0],
      [101, 100],
      [4095, 4094],
      [9000, 4094],
    ]) {
      const c = corruptBlobV1(blob, { kind: 'short_blob', length });
      expect(c.length).toBe(want);
      expect(hdr(c).length).toBe(want);
      expect(checksum16(c)).toBe(0);
      const changed = diff(blob.subarray(0, want), c).filter((i) => i !== 2 && i !== 3);
      expect(changed.every((i) => i >= BLOB_V1.OFF_LENGTH && i < BLOB_V1.OFF_LENGTH + 4)).toBe(true);
    }
  });

  it('no_module_pages keeps the header and sigstruct page and drops every module page', () => {
    const c = corruptBlobV1(blob, { kind: 'no_module_pages' });
    expect(c.length).toBe(BLOB_V1.OFF_MODULE);
    expect(hdr(c)).toMatchObject({ offset: BLOB_V1.OFF_MODULE, length: BLOB_V1.OFF_MODULE });
    expect(checksum16(c)).toBe(0);
    expect(toHex(c.subarray(BLOB_V1.OFF_SIGSTRUCT, BLOB_V1.OFF_MODULE))).toBe(toHex(blob.subarray(BLOB_V1.OFF_SIGSTRUCT, BLOB_V1.OFF_MODULE)));
  });

  it('page_count_overflow (v1: no page count) is a module of 497 to 500 pages, the module repeated', () => {
    for (const extra of [0, 3, 5]) {
      const c = corruptBlobV1(blob, { kind: 'page_count_overflow', extra });
      const pages = SEAMLDR_MAX_NR_MODULE_PAGES + 1 + (extra % 4);
      expect(c.length - hdr(c).offset).toBe(pages * PAGE_SIZE);
      expect(hdr(c).length).toBe(c.length);
      expect(checksum16(c)).toBe(0);
      expect(toHex(c.subarray(BLOB_V1.OFF_MODULE + modulePages * PAGE_SIZE, BLOB_V1.OFF_MODULE + 2 * modulePages * PAGE_SIZE))).toBe(
        toHex(blob.subarray(BLOB_V1.OFF_MODULE)),
      );
    }
  });
});
