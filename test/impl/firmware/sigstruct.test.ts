// Tests for impl/firmware/sigstruct.ts and test_key.ts: field layout, the "must be" checks, and
// RSA signing/verification over everything but modulus, exponent and signature.
import { describe, expect, it } from 'vitest';
import { createPrivateKey } from 'node:crypto';
import {
  buildSigstruct,
  TEST_KEY_HASH,
  keyHash,
  parseSigstruct,
  sha384,
  SIGSTRUCT,
  SIGSTRUCT_SIZE,
  sigstructFieldsValid,
  sigstructSignatureValid,
  signSigstruct,
  toHex,
} from '../../../impl/firmware/sigstruct.ts';
import { moduleImage, sigstructFieldsOf } from '../../../impl/firmware/image.ts';
import { INTEL_TEST_KEY_PEM, ROGUE_KEY_PEM } from '../../../impl/firmware/test_key.ts';
import { BOOT, identity } from './helpers.ts';

const ID = identity(8, { cpuids: [0x806f0, 0xc06f0, 0xa06f0], moduleHv: 4, minUpdateHv: 2, noDowngrade: true, seamsvn: 0x107 });
const IMG = moduleImage(ID);
const good = () => buildSigstruct(sigstructFieldsOf(ID));

describe('test keys', () => {
  it('are two distinct RSA-3072 keys with exponent 65537', () => {
    for (const pem of [INTEL_TEST_KEY_PEM, ROGUE_KEY_PEM]) {
      const d = createPrivateKey(pem).asymmetricKeyDetails!;
      expect(d.modulusLength).toBe(3072);
      expect(d.publicExponent).toBe(65537n);
    }
    expect(keyHash(ROGUE_KEY_PEM)).not.toBe(keyHash(INTEL_TEST_KEY_PEM));
    expect(TEST_KEY_HASH).toBe(keyHash(INTEL_TEST_KEY_PEM));
  });
});

describe('buildSigstruct / parseSigstruct', () => {
  it('puts the spec §3.2 fields at their offsets', () => {
    const b = good();
    const v = new DataView(b.buffer);
    expect(b.length).toBe(SIGSTRUCT_SIZE);
    expect(v.getUint32(0, true)).toBe(6);
    expect(v.getUint32(12, true)).toBe(0);
    expect(v.getUint16(948, true)).toBe(0x107);
    expect(v.getUint32(1024, true)).toBe(3);
    expect([0, 1, 2].map((i) => v.getUint32(1028 + 4 * i, true))).toEqual([0x806f0, 0xc06f0, 0xa06f0]);
    expect(v.getUint32(SIGSTRUCT.MODULE_VENDOR, true)).toBe(0x8086);
    expect(v.getUint32(SIGSTRUCT.EXPONENT, true)).toBe(0x10001);
  });
  it('round-trips the identity and the image hash', () => {
    const s = parseSigstruct(good());
    expect(s).toMatchObject({
      headerType: 6,
      vendor: 0x8086,
      exponent: 0x10001,
      seamsvn: 0x107,
      debug: false,
      moduleHv: 4,
      minUpdateHv: 2,
      noDowngrade: true,
      cpuidTableSize: 3,
      cpuidTable: [0x806f0, 0xc06f0, 0xa06f0],
      attributes: 0n,
      firstReservedNonZero: -1,
    });
    expect(toHex(s.seamhash)).toBe(toHex(sha384(IMG)));
    expect(toHex(sha384(s.modulus))).toBe(TEST_KEY_HASH);
    expect(sigstructFieldsValid(s)).toBe(true);
  });
  it('sets module_type bit 31 for a debug module', () => {
    const s = parseSigstruct(buildSigstruct(sigstructFieldsOf({ ...ID, debug: true })));
    expect(s.moduleType >>> 0).toBe(0x80000000);
    expect(s.debug).toBe(true);
    expect(sigstructFieldsValid(s)).toBe(true);
  });
});

describe('sigstructFieldsValid', () => {
  it.each([
    ['header_type', SIGSTRUCT.HEADER_TYPE],
    ['vendor', SIGSTRUCT.MODULE_VENDOR],
    ['exponent', SIGSTRUCT.EXPONENT],
    ['reserved0', SIGSTRUCT.RESERVED0 + 10],
    ['reserved1', SIGSTRUCT.RESERVED1 + 5],
    ['reserved2', SIGSTRUCT.RESERVED2],
    ['reserved3', SIGSTRUCT.RESERVED3 + 15],
    ['module_type reserved bit', SIGSTRUCT.MODULE_TYPE],
    ['attributes', SIGSTRUCT.ATTRIBUTES + 2],
    ['size', SIGSTRUCT.SIZE],
    ['gdt_idt_offset alignment', SIGSTRUCT.GDT_IDT_OFFSET],
  ])('rejects a changed %s', (_name, off) => {
    const b = good();
    b[off] ^= 0x01;
    expect(sigstructFieldsValid(parseSigstruct(b))).toBe(false);
  });
  it('rejects a CPUID table larger than 255 entries', () => {
    const b = good();
    new DataView(b.buffer).setUint32(SIGSTRUCT.CPUID_TABLE_SIZE, 256, true);
    expect(sigstructFieldsValid(parseSigstruct(b))).toBe(false);
  });
});

describe('signature', () => {
  it('verifies a freshly built sigstruct', () => {
    expect(sigstructSignatureValid(good())).toBe(true);
  });
  it('fails after a bit flip in any signed field', () => {
    for (const off of [0, 20, SIGSTRUCT.SEAMHASH, SIGSTRUCT.SEAMSVN, SIGSTRUCT.MODULE_HV, SIGSTRUCT.CPUID_TABLE + 4, SIGSTRUCT_SIZE - 1]) {
      const b = good();
      b[off] ^= 0x10;
      expect(sigstructSignatureValid(b), `offset ${off}`).toBe(false);
    }
  });
  it('fails after a flip in the signature or the modulus', () => {
    const b = good();
    b[SIGSTRUCT.SIGNATURE + 7] ^= 1;
    expect(sigstructSignatureValid(b)).toBe(false);
    const c = good();
    c[SIGSTRUCT.MODULUS + 7] ^= 1;
    expect(sigstructSignatureValid(c)).toBe(false);
  });
  it('a rogue-signed sigstruct verifies but carries the wrong key hash', () => {
    const b = buildSigstruct(sigstructFieldsOf(ID), ROGUE_KEY_PEM);
    expect(sigstructSignatureValid(b)).toBe(true);
    expect(toHex(sha384(parseSigstruct(b).modulus))).not.toBe(TEST_KEY_HASH);
  });
  it('signSigstruct re-signs an edited body', () => {
    const b = buildSigstruct(sigstructFieldsOf(BOOT));
    new DataView(b.buffer).setUint16(SIGSTRUCT.SEAMSVN, 0x999, true);
    expect(sigstructSignatureValid(b)).toBe(false);
    signSigstruct(b, INTEL_TEST_KEY_PEM);
    expect(sigstructSignatureValid(b)).toBe(true);
  });
});

describe('sigstructFieldsValid: the size and version fields', () => {
  it.each([
    ['header_length', SIGSTRUCT.HEADER_LENGTH],
    ['header_version', SIGSTRUCT.HEADER_VERSION + 2],
    ['key_size', SIGSTRUCT.KEY_SIZE],
    ['modulus_size', SIGSTRUCT.MODULUS_SIZE],
    ['exponent_size', SIGSTRUCT.EXPONENT_SIZE],
  ])('rejects a changed %s', (_name, off) => {
    const b = good();
    b[off] ^= 0x01;
    expect(sigstructFieldsValid(parseSigstruct(b))).toBe(false);
  });
  it('accepts a full CPUID table of exactly 255 entries', () => {
    const cpuids = Array.from({ length: 255 }, (_, i) => 0x80000 + (i << 4));
    const s = parseSigstruct(buildSigstruct(sigstructFieldsOf({ ...ID, cpuids })));
    expect(s.cpuidTableSize).toBe(255);
    expect(s.cpuidTable).toEqual(cpuids);
    expect(sigstructFieldsValid(s)).toBe(true);
  });
});
