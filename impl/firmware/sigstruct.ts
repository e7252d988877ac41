// The 2048-byte SEAM module sigstruct: layout, signing and the checks P-SEAMLDR applies to it.
// Mirrors: qizhangz/seam-loader p-seam-loader/include/seam_sigstruct.h and the
// check_seam_sigstruct / verify_seam_sigstruct_signature helpers of
// p-seam-loader/src/pseamldr_dispatcher/api_calls/seamldr_install.c (P-SEAMLDR 1.0),
// extended per spec §3.2 and §2.5 with the handoff-version copies the update-capable
// P-SEAMLDR hands to TDH.SYS.INIT.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { ModuleIdentity } from './types.ts';
import { INTEL_TEST_KEY_PEM } from './test_key.ts';

export const SIGSTRUCT_SIZE = 2048;

// Byte offsets. header_type @0, module_type @12, seamsvn @948 and the CPUID table @1024/@1028 are
// from spec §3.2; the rest follow P-SEAMLDR 1.0's seam_sigstruct.h, which agrees with them.
// MODULE_HV, MIN_UPDATE_HV and NO_DOWNGRADE are derived (spec §10.1: the layout of the
// update-capable sigstruct was not available): placed at the start of 1.0's reserved1.
export const SIGSTRUCT = {
  HEADER_TYPE: 0,        // u32 = 6 (generic FW)
  HEADER_LENGTH: 4,      // u32 = 0xE1 dwords
  HEADER_VERSION: 8,     // u32 = 1.0
  MODULE_TYPE: 12,       // u32, bit 31 = debug-signed, bits 30:0 reserved
  MODULE_VENDOR: 16,     // u32 = 0x8086
  DATE: 20,              // u32, not checked
  SIZE: 24,              // u32 = 0x200 dwords
  KEY_SIZE: 28,          // u32 = 0x60 dwords
  MODULUS_SIZE: 32,      // u32 = 0x60 dwords
  EXPONENT_SIZE: 36,     // u32 = 1 dword
  RESERVED0: 40,         // u8[88]
  MODULUS: 128,          // u8[384], little-endian
  EXPONENT: 512,         // u32 = 0x10001
  SIGNATURE: 516,        // u8[384], little-endian
  SEAMHASH: 900,         // u8[48], SHA-384 of the module image
  SEAMSVN: 948,          // u16
  ATTRIBUTES: 950,       // u64 = 0
  MODULE_HV: 978,        // u16 (derived)
  MIN_UPDATE_HV: 980,    // u16 (derived)
  NO_DOWNGRADE: 982,     // u8 (derived)
  RESERVED1: 983,        // u8[41], up to CPUID_TABLE_SIZE
  CPUID_TABLE_SIZE: 1024, // u32, <= 255
  CPUID_TABLE: 1028,     // u32[255]
} as const;

const HEADER_TYPE_GENERIC_FW = 6;
const HEADER_LENGTH_DWORDS = 0xe1;
const HEADER_VERSION_1_0 = 0x10000;
const SIZE_DWORDS = 0x200;
const KEY_SIZE_DWORDS = 0x60;
const EXPONENT_SIZE_DWORDS = 1;
export const SIGSTRUCT_VENDOR_INTEL = 0x8086;
export const SIGSTRUCT_RSA_EXPONENT = 0x10001;
export const SIGSTRUCT_MAX_CPUID_TABLE_SIZE = 255;
const MODULE_TYPE_DEBUG = 0x80000000;
const RSA_BYTES = 384;
const RESERVED0_SIZE = 88;
const RESERVED1_SIZE = SIGSTRUCT.CPUID_TABLE_SIZE - SIGSTRUCT.RESERVED1;

/** The sigstruct's fields, as P-SEAMLDR reads them out of its private copy. */
export interface Sigstruct {
  headerType: number;
  headerLength: number;
  headerVersion: number;
  moduleType: number;
  debug: boolean;
  vendor: number;
  size: number;
  keySize: number;
  modulusSize: number;
  exponentSize: number;
  modulus: Uint8Array;
  exponent: number;
  signature: Uint8Array;
  seamhash: Uint8Array;
  seamsvn: number;
  attributes: bigint;
  moduleHv: number;
  minUpdateHv: number;
  noDowngrade: boolean;
  cpuidTableSize: number;
  /** The first min(cpuidTableSize, 255) entries. */
  cpuidTable: number[];
  /** reserved0, reserved1 and module_type bits 30:0 are all zero. */
  reservedZero: boolean;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function allZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

export function sha384(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha384');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function parseSigstruct(b: Uint8Array): Sigstruct {
  const v = view(b);
  const u32 = (off: number) => v.getUint32(off, true);
  const moduleType = u32(SIGSTRUCT.MODULE_TYPE);
  const cpuidTableSize = u32(SIGSTRUCT.CPUID_TABLE_SIZE);
  const cpuidTable: number[] = [];
  for (let i = 0; i < Math.min(cpuidTableSize, SIGSTRUCT_MAX_CPUID_TABLE_SIZE); i++) {
    cpuidTable.push(u32(SIGSTRUCT.CPUID_TABLE + 4 * i));
  }
  return {
    headerType: u32(SIGSTRUCT.HEADER_TYPE),
    headerLength: u32(SIGSTRUCT.HEADER_LENGTH),
    headerVersion: u32(SIGSTRUCT.HEADER_VERSION),
    moduleType,
    debug: (moduleType & MODULE_TYPE_DEBUG) !== 0,
    vendor: u32(SIGSTRUCT.MODULE_VENDOR),
    size: u32(SIGSTRUCT.SIZE),
    keySize: u32(SIGSTRUCT.KEY_SIZE),
    modulusSize: u32(SIGSTRUCT.MODULUS_SIZE),
    exponentSize: u32(SIGSTRUCT.EXPONENT_SIZE),
    modulus: b.slice(SIGSTRUCT.MODULUS, SIGSTRUCT.MODULUS + RSA_BYTES),
    exponent: u32(SIGSTRUCT.EXPONENT),
    signature: b.slice(SIGSTRUCT.SIGNATURE, SIGSTRUCT.SIGNATURE + RSA_BYTES),
    seamhash: b.slice(SIGSTRUCT.SEAMHASH, SIGSTRUCT.SEAMHASH + 48),
    seamsvn: v.getUint16(SIGSTRUCT.SEAMSVN, true),
    attributes: v.getBigUint64(SIGSTRUCT.ATTRIBUTES, true),
    moduleHv: v.getUint16(SIGSTRUCT.MODULE_HV, true),
    minUpdateHv: v.getUint16(SIGSTRUCT.MIN_UPDATE_HV, true),
    noDowngrade: b[SIGSTRUCT.NO_DOWNGRADE] !== 0,
    cpuidTableSize,
    cpuidTable,
    reservedZero:
      (moduleType & ~MODULE_TYPE_DEBUG) === 0 &&
      allZero(b.subarray(SIGSTRUCT.RESERVED0, SIGSTRUCT.RESERVED0 + RESERVED0_SIZE)) &&
      allZero(b.subarray(SIGSTRUCT.RESERVED1, SIGSTRUCT.RESERVED1 + RESERVED1_SIZE)),
  };
}

/**
 * check_seam_sigstruct: the "must be" header values, vendor, key sizes, exponent, attributes and
 * reserved fields. P-SEAMLDR rejects a failure with EBADSIG (spec §3.3).
 */
export function sigstructFieldsValid(s: Sigstruct): boolean {
  return (
    s.reservedZero &&
    s.headerType === HEADER_TYPE_GENERIC_FW &&
    s.headerLength === HEADER_LENGTH_DWORDS &&
    s.headerVersion === HEADER_VERSION_1_0 &&
    s.keySize === KEY_SIZE_DWORDS &&
    s.modulusSize === KEY_SIZE_DWORDS &&
    s.exponentSize === EXPONENT_SIZE_DWORDS &&
    s.vendor === SIGSTRUCT_VENDOR_INTEL &&
    s.attributes === 0n &&
    s.size === SIZE_DWORDS &&
    s.cpuidTableSize <= SIGSTRUCT_MAX_CPUID_TABLE_SIZE &&
    s.exponent === SIGSTRUCT_RSA_EXPONENT
  );
}

// The signed message is the sigstruct minus modulus, exponent and signature (header ‖ body),
// as in P-SEAMLDR 1.0's verify_seam_sigstruct_signature.
function signedBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(SIGSTRUCT_SIZE - (SIGSTRUCT.SEAMHASH - SIGSTRUCT.MODULUS));
  out.set(b.subarray(0, SIGSTRUCT.MODULUS), 0);
  out.set(b.subarray(SIGSTRUCT.SEAMHASH, SIGSTRUCT_SIZE), SIGSTRUCT.MODULUS);
  return out;
}

// Intel sigstructs store big numbers little-endian; node:crypto and JWK use big-endian.
function reversed(b: Uint8Array): Uint8Array {
  return Uint8Array.from(b).reverse();
}

// Bounded caches: RSA-3072 signing costs milliseconds and the harness builds thousands of
// scenarios from a handful of identities. Insertion order makes eviction deterministic.
const MAX_MEMO = 256;
function memoSet<K, V>(m: Map<K, V>, k: K, v: V): V {
  if (m.size >= MAX_MEMO) m.delete(m.keys().next().value as K);
  m.set(k, v);
  return v;
}

const privateKeys = new Map<string, KeyObject>();
function privateKey(pem: string): KeyObject {
  return privateKeys.get(pem) ?? memoSet(privateKeys, pem, createPrivateKey(pem));
}

/** The modulus of a key as the sigstruct stores it (384 bytes, little-endian). */
export function sigstructModulus(pem: string): Uint8Array {
  const jwk = createPublicKey(privateKey(pem)).export({ format: 'jwk' });
  return reversed(new Uint8Array(Buffer.from(jwk.n as string, 'base64url')));
}

/** SHA-384 of a key's stored modulus: what P-SEAMLDR compares with INTEL_SIGNER_KEY_HASH. */
export function keyHash(pem: string): string {
  return toHex(sha384(sigstructModulus(pem)));
}

/** The key hash compiled into the emulated P-SEAMLDR (intel_key_hash.h). */
export const INTEL_KEY_HASH = keyHash(INTEL_TEST_KEY_PEM);

const signatures = new Map<string, Uint8Array>();

/** Writes modulus, exponent and an RSA-3072 PKCS#1 v1.5 SHA-384 signature into b (in place). */
export function signSigstruct(b: Uint8Array, keyPem: string): void {
  b.set(sigstructModulus(keyPem), SIGSTRUCT.MODULUS);
  view(b).setUint32(SIGSTRUCT.EXPONENT, SIGSTRUCT_RSA_EXPONENT, true);
  const msg = signedBytes(b);
  const memoKey = keyHash(keyPem) + toHex(sha384(msg));
  const sig =
    signatures.get(memoKey) ??
    memoSet(signatures, memoKey, reversed(new Uint8Array(sign('sha384', msg, privateKey(keyPem)))));
  b.set(sig, SIGSTRUCT.SIGNATURE);
}

/** verify_seam_sigstruct_signature: RSA check with the modulus and exponent the sigstruct carries. */
export function sigstructSignatureValid(b: Uint8Array): boolean {
  const s = parseSigstruct(b);
  try {
    const key = createPublicKey({
      key: {
        kty: 'RSA',
        n: Buffer.from(reversed(s.modulus)).toString('base64url'),
        e: Buffer.from(s.exponent.toString(16).padStart(8, '0'), 'hex').toString('base64url'),
      },
      format: 'jwk',
    });
    return verify('sha384', signedBytes(b), key, reversed(s.signature));
  } catch {
    // A malformed key (a corrupted modulus) cannot verify anything.
    return false;
  }
}

/** The sigstruct an Intel-style build would produce for id's module image, signed with keyPem. */
export function buildSigstruct(id: ModuleIdentity, moduleImage: Uint8Array, keyPem = INTEL_TEST_KEY_PEM): Uint8Array {
  const b = new Uint8Array(SIGSTRUCT_SIZE);
  const v = view(b);
  v.setUint32(SIGSTRUCT.HEADER_TYPE, HEADER_TYPE_GENERIC_FW, true);
  v.setUint32(SIGSTRUCT.HEADER_LENGTH, HEADER_LENGTH_DWORDS, true);
  v.setUint32(SIGSTRUCT.HEADER_VERSION, HEADER_VERSION_1_0, true);
  v.setUint32(SIGSTRUCT.MODULE_TYPE, id.debug ? MODULE_TYPE_DEBUG : 0, true);
  v.setUint32(SIGSTRUCT.MODULE_VENDOR, SIGSTRUCT_VENDOR_INTEL, true);
  v.setUint32(SIGSTRUCT.SIZE, SIZE_DWORDS, true);
  v.setUint32(SIGSTRUCT.KEY_SIZE, KEY_SIZE_DWORDS, true);
  v.setUint32(SIGSTRUCT.MODULUS_SIZE, KEY_SIZE_DWORDS, true);
  v.setUint32(SIGSTRUCT.EXPONENT_SIZE, EXPONENT_SIZE_DWORDS, true);
  b.set(sha384(moduleImage), SIGSTRUCT.SEAMHASH);
  v.setUint16(SIGSTRUCT.SEAMSVN, id.seamsvn, true);
  v.setUint16(SIGSTRUCT.MODULE_HV, id.moduleHv, true);
  v.setUint16(SIGSTRUCT.MIN_UPDATE_HV, id.minUpdateHv, true);
  b[SIGSTRUCT.NO_DOWNGRADE] = id.noDowngrade ? 1 : 0;
  v.setUint32(SIGSTRUCT.CPUID_TABLE_SIZE, id.cpuids.length, true);
  id.cpuids.forEach((c, i) => v.setUint32(SIGSTRUCT.CPUID_TABLE + 4 * i, c, true));
  signSigstruct(b, keyPem);
  return b;
}
