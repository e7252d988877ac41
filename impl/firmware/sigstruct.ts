// The 2048-byte SEAM module sigstruct: layout, signing and the checks P-SEAMLDR applies to it.
// Mirrors: intel/tdx-loader @ 81bf312 p-seam-loader/include/seam_sigstruct.h and the
// verify_manifest / check_seam_sigstruct helpers of
// p-seam-loader/src/pseamldr_dispatcher/api_calls/seamldr_install.c, checked against the eleven
// signed blobs of intel/tdx-module-binaries (data/README.md "The real sigstruct layout").
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { PAGE_SIZE, SEAMLDR_EBADSIG, SEAMLDR_EUNSUPCPU, SEAMLDR_EUNSUPPORTED } from './abi.ts';
import { INTEL_TEST_KEY_PEM } from './test_key.ts';

export const SIGSTRUCT_SIZE = 2048;

// Byte offsets, all little-endian.
export const SIGSTRUCT = {
  HEADER_TYPE: 0, // u32 = 6 (generic FW)
  HEADER_LENGTH: 4, // u32 = 0xE1 dwords
  HEADER_VERSION: 8, // u32 = 1.0
  MODULE_TYPE: 12, // u32, bit 31 = debug-signed, bits 30:0 reserved
  MODULE_VENDOR: 16, // u32 = 0x8086
  DATE: 20, // u32, BCD yyyymmdd
  SIZE: 24, // u32 = 0x200 dwords
  KEY_SIZE: 28, // u32 = 0x60 dwords
  MODULUS_SIZE: 32, // u32 = 0x60 dwords
  EXPONENT_SIZE: 36, // u32 = 1 dword
  RESERVED0: 40, // u8[88]
  MODULUS: 128, // u8[384], little-endian
  EXPONENT: 512, // u32 = 0x10001
  SIGNATURE: 516, // u8[384], little-endian
  SEAMHASH: 900, // u8[48], SHA-384 of the module image
  SEAMSVN: 948, // u16: minor (low byte), major (high byte)
  ATTRIBUTES: 950, // u64 = 0
  RIP_OFFSET: 958, // u32 = the module ELF's e_entry
  NUM_STACK_PAGES: 962, // u8
  NUM_TLS_PAGES: 963, // u8
  NUM_KEYHOLE_PAGES: 964, // u16
  NUM_GLOBAL_DATA_PAGES: 966, // u16
  MAX_TDMRS: 968, // u16
  MAX_RSVD_PER_TDMR: 970, // u16
  PAMT_ENTRY_SIZE_4K: 972, // u16
  PAMT_ENTRY_SIZE_2M: 974, // u16
  PAMT_ENTRY_SIZE_1G: 976, // u16
  RESERVED1: 978, // u8[6]
  MODULE_HV: 984, // u16
  MIN_UPDATE_HV: 986, // u16
  NO_DOWNGRADE: 988, // u8
  RESERVED2: 989, // u8
  NUM_HANDOFF_PAGES: 990, // u16
  GDT_IDT_OFFSET: 992, // u32
  FAULT_WRAPPER_OFFSET: 996, // u32
  // The 2.0 layout's module version (reserved3 in the 1.5 loader source): the four 2.0
  // sigstructs carry it, the 1.5 ones are zero here.
  MODULE_UPDATE: 1000, // u16
  MODULE_MINOR: 1002, // u8
  MODULE_MAJOR: 1003, // u8
  MODULE_BUILD: 1004, // u16
  MODULE_EXTRA: 1006, // u16, meaning unpublished (8 in 2.0.04, 0 elsewhere), not checked
  RESERVED3: 1008, // u8[16]
  CPUID_TABLE_SIZE: 1024, // u32, <= 255
  CPUID_TABLE: 1028, // u32[255]
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
// Reserved ranges [offset, length] as the real layout defines them.
const RESERVED_RANGES: readonly (readonly [number, number])[] = [
  [SIGSTRUCT.RESERVED0, 88],
  [SIGSTRUCT.RESERVED1, 6],
  [SIGSTRUCT.RESERVED2, 1],
  [SIGSTRUCT.RESERVED3, 16],
];

/** The module version the 2.0 layout carries at 1000..1007 (all zero in the 1.5 layout). */
export interface SigstructModuleVersion {
  major: number;
  minor: number;
  update: number;
  build: number;
  /** u16 at 1006 whose meaning is unpublished: 8 in 2.0.04, 0 in the other ten. */
  extra: number;
}

/** The sigstruct's fields, as P-SEAMLDR reads them out of its private copy. */
export interface Sigstruct {
  headerType: number;
  headerLength: number;
  headerVersion: number;
  moduleType: number;
  debug: boolean;
  vendor: number;
  date: number;
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
  ripOffset: number;
  numStackPages: number;
  numTlsPages: number;
  numKeyholePages: number;
  numGlobalDataPages: number;
  maxTdmrs: number;
  maxRsvdPerTdmr: number;
  pamtEntrySize4k: number;
  pamtEntrySize2m: number;
  pamtEntrySize1g: number;
  moduleHv: number;
  minUpdateHv: number;
  noDowngrade: boolean;
  numHandoffPages: number;
  gdtIdtOffset: number;
  faultWrapperOffset: number;
  moduleVersion: SigstructModuleVersion;
  cpuidTableSize: number;
  /** The first min(cpuidTableSize, 255) entries. */
  cpuidTable: number[];
  /** Offset of the first non-zero byte of reserved0..reserved3, or -1. */
  firstReservedNonZero: number;
  /** Offset of the first non-zero byte of 1000..1007 (reserved3 to a 1.5 P-SEAMLDR), or -1. */
  firstVersionFieldNonZero: number;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function sha384(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha384');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function firstNonZero(b: Uint8Array, ranges: readonly (readonly [number, number])[]): number {
  for (const [off, len] of ranges) {
    const i = b.subarray(off, off + len).findIndex((x) => x !== 0);
    if (i >= 0) return off + i;
  }
  return -1;
}

export function parseSigstruct(b: Uint8Array): Sigstruct {
  const v = view(b);
  const u32 = (off: number) => v.getUint32(off, true),
    u16 = (off: number) => v.getUint16(off, true);
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
    date: u32(SIGSTRUCT.DATE),
    size: u32(SIGSTRUCT.SIZE),
    keySize: u32(SIGSTRUCT.KEY_SIZE),
    modulusSize: u32(SIGSTRUCT.MODULUS_SIZE),
    exponentSize: u32(SIGSTRUCT.EXPONENT_SIZE),
    modulus: b.slice(SIGSTRUCT.MODULUS, SIGSTRUCT.MODULUS + RSA_BYTES),
    exponent: u32(SIGSTRUCT.EXPONENT),
    signature: b.slice(SIGSTRUCT.SIGNATURE, SIGSTRUCT.SIGNATURE + RSA_BYTES),
    seamhash: b.slice(SIGSTRUCT.SEAMHASH, SIGSTRUCT.SEAMHASH + 48),
    seamsvn: u16(SIGSTRUCT.SEAMSVN),
    attributes: v.getBigUint64(SIGSTRUCT.ATTRIBUTES, true),
    ripOffset: u32(SIGSTRUCT.RIP_OFFSET),
    numStackPages: b[SIGSTRUCT.NUM_STACK_PAGES]!,
    numTlsPages: b[SIGSTRUCT.NUM_TLS_PAGES]!,
    numKeyholePages: u16(SIGSTRUCT.NUM_KEYHOLE_PAGES),
    numGlobalDataPages: u16(SIGSTRUCT.NUM_GLOBAL_DATA_PAGES),
    maxTdmrs: u16(SIGSTRUCT.MAX_TDMRS),
    maxRsvdPerTdmr: u16(SIGSTRUCT.MAX_RSVD_PER_TDMR),
    pamtEntrySize4k: u16(SIGSTRUCT.PAMT_ENTRY_SIZE_4K),
    pamtEntrySize2m: u16(SIGSTRUCT.PAMT_ENTRY_SIZE_2M),
    pamtEntrySize1g: u16(SIGSTRUCT.PAMT_ENTRY_SIZE_1G),
    moduleHv: u16(SIGSTRUCT.MODULE_HV),
    minUpdateHv: u16(SIGSTRUCT.MIN_UPDATE_HV),
    noDowngrade: b[SIGSTRUCT.NO_DOWNGRADE] !== 0,
    numHandoffPages: u16(SIGSTRUCT.NUM_HANDOFF_PAGES),
    gdtIdtOffset: u32(SIGSTRUCT.GDT_IDT_OFFSET),
    faultWrapperOffset: u32(SIGSTRUCT.FAULT_WRAPPER_OFFSET),
    moduleVersion: {
      major: b[SIGSTRUCT.MODULE_MAJOR]!,
      minor: b[SIGSTRUCT.MODULE_MINOR]!,
      update: u16(SIGSTRUCT.MODULE_UPDATE),
      build: u16(SIGSTRUCT.MODULE_BUILD),
      extra: u16(SIGSTRUCT.MODULE_EXTRA),
    },
    cpuidTableSize,
    cpuidTable,
    firstReservedNonZero: firstNonZero(b, RESERVED_RANGES),
    firstVersionFieldNonZero: firstNonZero(b, [[SIGSTRUCT.MODULE_UPDATE, SIGSTRUCT.RESERVED3 - SIGSTRUCT.MODULE_UPDATE]]),
  };
}

/** What verify_manifest compares the sigstruct with: the platform and, for UPDATE, the running module. */
export interface ManifestContext {
  /** The loader's sigstruct layout: a 1.5 P-SEAMLDR reserves 1000..1023, a 2.0 one reads the version there. */
  layout: '1.5' | '2.0';
  /** INTEL_SIGNER_KEY_HASH: SHA-384 of the only modulus allowed to sign modules. */
  trustedKeyHash: string;
  debugUnlocked: boolean;
  /** SEAMEXTEND's current_seam_svn for an UPDATE; null for a LOAD. */
  runningSeamsvn: number | null;
  /** CPUID(1).EAX of the platform's sockets; null when no platform is known (inspect). */
  cpuFms: readonly number[] | null;
  /** num_module_pages * 4096. */
  moduleBytes: number;
}

/** One P-SEAMLDR check: its name, whether it passed, the value it read, and its failure status. */
export interface ManifestCheck {
  name: string;
  ok: boolean;
  value: string;
  status: bigint;
}

const hex = (x: number | bigint) => '0x' + x.toString(16);
const svnMajor = (svn: number) => svn >> 8,
  svnMinor = (svn: number) => svn & 0xff;
// Stepping (bits 3:0) is ignored when the table is compared with a CPU.
const fm = (x: number) => (x & ~0xf) >>> 0;

// The first non-zero reserved byte in the loader's layout, or -1.
function firstReserved(s: Sigstruct, layout: ManifestContext['layout']): number {
  const v = layout === '1.5' ? s.firstVersionFieldNonZero : -1;
  return s.firstReservedNonZero < 0 || (v >= 0 && v < s.firstReservedNonZero) ? v : s.firstReservedNonZero;
}

// check_seam_sigstruct's "must be" fields (every failure EBADSIG), in the loader's order.
function fieldChecks(s: Sigstruct, layout: ManifestContext['layout']): [string, boolean, string][] {
  const reserved = firstReserved(s, layout);
  return [
    ['reserved fields zero', reserved < 0, reserved < 0 ? `zero (${layout} layout)` : `byte ${reserved}`],
    ['header_type', s.headerType === HEADER_TYPE_GENERIC_FW, hex(s.headerType)],
    ['header_length', s.headerLength === HEADER_LENGTH_DWORDS, hex(s.headerLength)],
    ['header_version', s.headerVersion === HEADER_VERSION_1_0, hex(s.headerVersion)],
    ['key_size', s.keySize === KEY_SIZE_DWORDS, hex(s.keySize)],
    ['modulus_size', s.modulusSize === KEY_SIZE_DWORDS, hex(s.modulusSize)],
    ['exponent_size', s.exponentSize === EXPONENT_SIZE_DWORDS, hex(s.exponentSize)],
    ['module_vendor', s.vendor === SIGSTRUCT_VENDOR_INTEL, hex(s.vendor)],
    ['module_type reserved bits', (s.moduleType & ~MODULE_TYPE_DEBUG) === 0, hex(s.moduleType >>> 0)],
    ['attributes', s.attributes === 0n, hex(s.attributes)],
    ['size', s.size === SIZE_DWORDS, hex(s.size)],
    ['cpuid_table_size', s.cpuidTableSize <= SIGSTRUCT_MAX_CPUID_TABLE_SIZE, String(s.cpuidTableSize)],
    ['exponent', s.exponent === SIGSTRUCT_RSA_EXPONENT, hex(s.exponent)],
    ['min_update_hv <= module_hv', s.minUpdateHv <= s.moduleHv, `${s.minUpdateHv} <= ${s.moduleHv}`],
    ['gdt_idt_offset 4 KiB aligned', s.gdtIdtOffset % PAGE_SIZE === 0, hex(s.gdtIdtOffset)],
    [
      'gdt_idt_offset and fault_wrapper_offset paired',
      (s.gdtIdtOffset === 0) === (s.faultWrapperOffset === 0),
      `${hex(s.gdtIdtOffset)}, ${hex(s.faultWrapperOffset)}`,
    ],
  ];
}

// The update's SVN rules: major 0 is never loadable; an UPDATE keeps the major and never lowers
// the minor (SEAMSVN may stay equal, 2.0.04 -> 2.0.05).
function svnChecks(s: Sigstruct, ctx: ManifestContext): ManifestCheck[] {
  const run = ctx.runningSeamsvn;
  const svn = `${svnMajor(s.seamsvn)}/${svnMinor(s.seamsvn)}`;
  return [
    { name: 'major SVN not 0', ok: svnMajor(s.seamsvn) !== 0, value: svn, status: SEAMLDR_EUNSUPPORTED },
    {
      name: 'update keeps the major SVN',
      ok: run === null || svnMajor(s.seamsvn) === svnMajor(run),
      value: run === null ? 'load' : `${svn} over ${svnMajor(run)}/${svnMinor(run)}`,
      status: SEAMLDR_EUNSUPPORTED,
    },
    {
      name: 'update does not lower the minor SVN',
      ok: run === null || svnMajor(s.seamsvn) !== svnMajor(run) || svnMinor(s.seamsvn) >= svnMinor(run),
      value: run === null ? 'load' : `${svnMinor(s.seamsvn)} >= ${svnMinor(run)}`,
      status: SEAMLDR_EBADSIG,
    },
  ];
}

function cpuidChecks(s: Sigstruct, ctx: ManifestContext): ManifestCheck[] {
  const table = s.cpuidTable.map(hex).join(' ') || 'empty';
  const covers = ctx.cpuFms === null || s.cpuidTableSize === 0 || ctx.cpuFms.every((c) => s.cpuidTable.some((t) => fm(t) === fm(c)));
  return [
    {
      name: 'CPUID table covers every socket',
      ok: covers,
      value: ctx.cpuFms === null ? `${table} (no platform)` : `${table} vs ${ctx.cpuFms.map(hex).join(' ')}`,
      status: SEAMLDR_EUNSUPCPU,
    },
    { name: 'production module has a CPUID table', ok: s.debug || s.cpuidTableSize > 0, value: `${s.cpuidTableSize} entries`, status: SEAMLDR_EBADSIG },
  ];
}

/** verify_manifest's checks in the real loader's order; the first failure is the status it returns. */
export function manifestChecks(s: Sigstruct, sigBytes: Uint8Array, ctx: ManifestContext): ManifestCheck[] {
  const keyHash = toHex(sha384(s.modulus));
  const inModule = (off: number) => off < ctx.moduleBytes;
  return [
    ...fieldChecks(s, ctx.layout).map(([name, ok, value]) => ({ name, ok, value, status: SEAMLDR_EBADSIG })),
    { name: 'signer key hash', ok: keyHash === ctx.trustedKeyHash, value: keyHash.slice(0, 16) + '…', status: SEAMLDR_EBADSIG },
    { name: 'debug module on a debug-unlocked platform', ok: !s.debug || ctx.debugUnlocked, value: s.debug ? 'debug' : 'production', status: SEAMLDR_EBADSIG },
    ...svnChecks(s, ctx),
    {
      name: 'gdt_idt_offset and fault_wrapper_offset inside the module',
      ok: inModule(s.gdtIdtOffset) && inModule(s.faultWrapperOffset),
      value: `${hex(s.gdtIdtOffset)}, ${hex(s.faultWrapperOffset)} < ${hex(ctx.moduleBytes)}`,
      status: SEAMLDR_EBADSIG,
    },
    ...cpuidChecks(s, ctx),
    { name: 'RSA signature', ok: sigstructSignatureValid(sigBytes), value: 'RSA-3072 PKCS#1 v1.5 SHA-384', status: SEAMLDR_EBADSIG },
  ];
}

/** check_seam_sigstruct's "must be" fields alone (2.0 layout): what a sigstruct needs before any platform is known. */
export function sigstructFieldsValid(s: Sigstruct): boolean {
  return fieldChecks(s, '2.0').every(([, ok]) => ok);
}

// The signed message: the 128 header bytes, then the body from the SEAMHASH on (modulus, exponent
// and signature are left out).
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

/** The project's test key hash: what a test platform's P-SEAMLDR trusts (synthetic images). */
export const TEST_KEY_HASH = keyHash(INTEL_TEST_KEY_PEM);

const signatures = new Map<string, Uint8Array>();

/** Writes modulus, exponent and an RSA-3072 PKCS#1 v1.5 SHA-384 signature into b (in place). */
export function signSigstruct(b: Uint8Array, keyPem: string): void {
  b.set(sigstructModulus(keyPem), SIGSTRUCT.MODULUS);
  view(b).setUint32(SIGSTRUCT.EXPONENT, SIGSTRUCT_RSA_EXPONENT, true);
  const msg = signedBytes(b);
  const memoKey = keyHash(keyPem) + toHex(sha384(msg));
  const sig = signatures.get(memoKey) ?? memoSet(signatures, memoKey, reversed(new Uint8Array(sign('sha384', msg, privateKey(keyPem)))));
  b.set(sig, SIGSTRUCT.SIGNATURE);
}

// The verdict depends on the sigstruct's bytes alone, and an RSA-3072 check is the largest
// cost of an exhaustive search's execution (npm run bench): each distinct sigstruct is checked once.
const verdicts = new Map<string, boolean>();

/** verify_seam_sigstruct_signature: RSA check with the modulus and exponent the sigstruct carries. */
export function sigstructSignatureValid(b: Uint8Array): boolean {
  const key = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  const known = verdicts.get(key);
  return known ?? memoSet(verdicts, key, rsaCheck(b));
}

function rsaCheck(b: Uint8Array): boolean {
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

/** Every field a build writes, as buildSigstruct takes them (the signing fields aside). */
export type SigstructFields = Omit<
  Sigstruct,
  | 'headerType'
  | 'headerLength'
  | 'headerVersion'
  | 'moduleType'
  | 'vendor'
  | 'size'
  | 'keySize'
  | 'modulusSize'
  | 'exponentSize'
  | 'modulus'
  | 'exponent'
  | 'signature'
  | 'cpuidTableSize'
  | 'firstReservedNonZero'
  | 'firstVersionFieldNonZero'
>;

function writeBody(v: DataView, f: SigstructFields): void {
  v.setUint32(SIGSTRUCT.DATE, f.date, true);
  new Uint8Array(v.buffer, v.byteOffset).set(f.seamhash, SIGSTRUCT.SEAMHASH);
  v.setUint16(SIGSTRUCT.SEAMSVN, f.seamsvn, true);
  v.setBigUint64(SIGSTRUCT.ATTRIBUTES, f.attributes, true);
  v.setUint32(SIGSTRUCT.RIP_OFFSET, f.ripOffset, true);
  v.setUint8(SIGSTRUCT.NUM_STACK_PAGES, f.numStackPages);
  v.setUint8(SIGSTRUCT.NUM_TLS_PAGES, f.numTlsPages);
  const u16s: [number, number][] = [
    [SIGSTRUCT.NUM_KEYHOLE_PAGES, f.numKeyholePages],
    [SIGSTRUCT.NUM_GLOBAL_DATA_PAGES, f.numGlobalDataPages],
    [SIGSTRUCT.MAX_TDMRS, f.maxTdmrs],
    [SIGSTRUCT.MAX_RSVD_PER_TDMR, f.maxRsvdPerTdmr],
    [SIGSTRUCT.PAMT_ENTRY_SIZE_4K, f.pamtEntrySize4k],
    [SIGSTRUCT.PAMT_ENTRY_SIZE_2M, f.pamtEntrySize2m],
    [SIGSTRUCT.PAMT_ENTRY_SIZE_1G, f.pamtEntrySize1g],
    [SIGSTRUCT.MODULE_HV, f.moduleHv],
    [SIGSTRUCT.MIN_UPDATE_HV, f.minUpdateHv],
    [SIGSTRUCT.NUM_HANDOFF_PAGES, f.numHandoffPages],
    [SIGSTRUCT.MODULE_UPDATE, f.moduleVersion.update],
    [SIGSTRUCT.MODULE_BUILD, f.moduleVersion.build],
    [SIGSTRUCT.MODULE_EXTRA, f.moduleVersion.extra],
  ];
  for (const [off, x] of u16s) v.setUint16(off, x, true);
  v.setUint8(SIGSTRUCT.NO_DOWNGRADE, f.noDowngrade ? 1 : 0);
  v.setUint32(SIGSTRUCT.GDT_IDT_OFFSET, f.gdtIdtOffset, true);
  v.setUint32(SIGSTRUCT.FAULT_WRAPPER_OFFSET, f.faultWrapperOffset, true);
  v.setUint8(SIGSTRUCT.MODULE_MINOR, f.moduleVersion.minor);
  v.setUint8(SIGSTRUCT.MODULE_MAJOR, f.moduleVersion.major);
  v.setUint32(SIGSTRUCT.CPUID_TABLE_SIZE, f.cpuidTable.length, true);
  f.cpuidTable.forEach((c, i) => v.setUint32(SIGSTRUCT.CPUID_TABLE + 4 * i, c, true));
}

/** The sigstruct a build with these fields produces, signed with keyPem (default: the test key). */
export function buildSigstruct(f: SigstructFields, keyPem = INTEL_TEST_KEY_PEM): Uint8Array {
  const b = new Uint8Array(SIGSTRUCT_SIZE);
  const v = view(b);
  v.setUint32(SIGSTRUCT.HEADER_TYPE, HEADER_TYPE_GENERIC_FW, true);
  v.setUint32(SIGSTRUCT.HEADER_LENGTH, HEADER_LENGTH_DWORDS, true);
  v.setUint32(SIGSTRUCT.HEADER_VERSION, HEADER_VERSION_1_0, true);
  v.setUint32(SIGSTRUCT.MODULE_TYPE, f.debug ? MODULE_TYPE_DEBUG : 0, true);
  v.setUint32(SIGSTRUCT.MODULE_VENDOR, SIGSTRUCT_VENDOR_INTEL, true);
  v.setUint32(SIGSTRUCT.SIZE, SIZE_DWORDS, true);
  v.setUint32(SIGSTRUCT.KEY_SIZE, KEY_SIZE_DWORDS, true);
  v.setUint32(SIGSTRUCT.MODULUS_SIZE, KEY_SIZE_DWORDS, true);
  v.setUint32(SIGSTRUCT.EXPONENT_SIZE, EXPONENT_SIZE_DWORDS, true);
  writeBody(v, f);
  signSigstruct(b, keyPem);
  return b;
}
