// Synthetic module images and the "tdx_blob" v1 container (version 0x100) that userspace uploads.
// Mirrors: intel/tdx-module-binaries blob_structure.txt and blob_join.sh (spec §3.2): header,
// 2 KiB sigstruct, 2 KiB reserved2, then the module; plus the corruptions the harness feeds the
// kernel, each aimed at exactly one check of the kernel (spec §3.2) or of P-SEAMLDR (spec §3.3).
import type { ModuleIdentity, Version } from './types.ts';
import { PAGE_SIZE, SEAMLDR_MAX_NR_MODULE_PAGES } from './abi.ts';
import { ELF64, writeElf64Header } from './elf.ts';
import { handoffDataVersionOf, registerBuild } from './registry.ts';
import { buildSigstruct, sha384, signSigstruct, SIGSTRUCT_SIZE, toHex, type SigstructFields } from './sigstruct.ts';
import { INTEL_TEST_KEY_PEM, ROGUE_KEY_PEM } from './test_key.ts';

// Header layout of blob v1 (spec §3.2; all little-endian).
export const BLOB_V1 = {
  VERSION: 0x100,
  SIGNATURE: 'TDX-BLOB',
  OFF_VERSION: 0, // u16
  OFF_CHECKSUM: 2, // u16
  OFF_OFFSET_OF_MODULE: 4, // u32
  OFF_SIGNATURE: 8, // u8[8]
  OFF_LENGTH: 16, // u32, total blob size
  OFF_RESERVED0: 20, // u32
  OFF_RESERVED1: 24, // u64[509]
  RESERVED_BYTES: 4 + 509 * 8, // reserved0 and reserved1, contiguous
  HEADER_SIZE: 4096,
  OFF_SIGSTRUCT: 4096, // 2 KiB sigstruct
  OFF_RESERVED2: 4096 + SIGSTRUCT_SIZE, // 2 KiB nobody checks
  SIG_REGION: 4096, // sigstruct + reserved2: exactly one page in every shipped blob
  OFF_MODULE: 8192,
} as const;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function identityKey(id: ModuleIdentity): string {
  const v = id.version;
  return [
    `${v.major}.${v.minor}.${v.update}`,
    id.seamsvn,
    id.moduleHv,
    id.minUpdateHv,
    id.noDowngrade,
    id.debug,
    id.cpuids.join(','),
    id.features0.toString(16),
    id.nrPages,
  ].join('|');
}

// Bounded caches: insertion order makes eviction deterministic. Bounded by bytes, since a
// real-size module is 0.6 MiB and a small one 8 KiB (npm run bench shows the hit rates).
const MAX_MEMO_BYTES = 64 << 20;
export interface Memo<V> {
  map: Map<string, V>;
  bytes: number;
  size: (v: V) => number;
  max: number;
}
export function memo<V>(size: (v: V) => number, max = MAX_MEMO_BYTES): Memo<V> {
  return { map: new Map(), bytes: 0, size, max };
}
export function memoSet<V>(m: Memo<V>, k: string, v: V): V {
  m.map.set(k, v);
  m.bytes += m.size(v);
  while (m.bytes > m.max && m.map.size > 1) {
    const [oldest, ov] = m.map.entries().next().value as [string, V];
    m.map.delete(oldest);
    m.bytes -= m.size(ov);
  }
  return v;
}

// Filler seeded by the SHA-384 of the identity, so distinct identities give distinct images; a
// xorshift128 stream rather than SHA-384 in counter mode, which made real-size (0.6 MiB) images
// the largest cost of a run (npm run bench).
function fillPattern(out: Uint8Array, seed: string): void {
  const s = new Uint32Array(sha384(new TextEncoder().encode(seed)).buffer, 0, 4);
  let [x, y, z, w] = [s[0]! | 1, s[1]!, s[2]!, s[3]!];
  const words = new Uint32Array(out.length >> 2);
  for (let i = 0; i < words.length; i++) {
    const t = x ^ (x << 11);
    [x, y, z] = [y, z, w];
    w = (w ^ (w >>> 19) ^ t ^ (t >>> 8)) >>> 0;
    words[i] = w;
  }
  out.set(new Uint8Array(words.buffer));
}

// Where a synthetic module's landmarks sit, shaped like the real ones (data/README.md): the entry
// point a little past the middle, the GDT/IDT page near the end, the fault wrapper 0x160 past the
// entry as in every real module. A one-page module has no room for a GDT page: both offsets 0.
function entryOf(nrPages: number): number {
  return ((Math.floor((nrPages * PAGE_SIZE * 9) / 16) & ~0xf) | 4) >>> 0;
}
const FAULT_WRAPPER_PAST_ENTRY = 0x160;

// BCD, as the sigstruct's date: 0x20250123 for 2025-01-23.
function bcd(n: number): number {
  return parseInt(String(n), 16);
}

/** The sigstruct fields a build of id writes (values shaped like real sigstructs), signing fields aside. */
export function sigstructFieldsOf(id: ModuleIdentity): SigstructFields {
  const seamhash = built(id).seamhash;
  const v = id.version,
    v2 = v.major >= 2;
  const gdtIdt = id.nrPages >= 2 ? Math.floor((id.nrPages * 9) / 10) * PAGE_SIZE : 0;
  const entry = entryOf(id.nrPages);
  return {
    date: ((bcd(2024 + (v.update >= 10 ? 1 : 0)) << 16) | (bcd(1 + (v.update % 12)) << 8) | bcd(1 + (id.seamsvn % 28))) >>> 0,
    debug: id.debug,
    seamhash,
    seamsvn: id.seamsvn,
    attributes: 0n,
    ripOffset: entry,
    numStackPages: 1,
    numTlsPages: 1,
    numKeyholePages: 127,
    numGlobalDataPages: v2 ? 33 : 21,
    maxTdmrs: 0,
    maxRsvdPerTdmr: 0,
    pamtEntrySize4k: 0,
    pamtEntrySize2m: 0,
    pamtEntrySize1g: 0,
    moduleHv: id.moduleHv,
    minUpdateHv: id.minUpdateHv,
    noDowngrade: id.noDowngrade,
    numHandoffPages: numHandoffPagesOf(v),
    gdtIdtOffset: gdtIdt,
    faultWrapperOffset: gdtIdt ? entry + FAULT_WRAPPER_PAST_ENTRY : 0,
    // The 2.0 layout carries the version; the build number is made up (real ones: 0x312..0x372).
    moduleVersion: v2 ? { ...v, build: 0x300 + 8 * v.update, extra: 0 } : { major: 0, minor: 0, update: 0, build: 0, extra: 0 },
    cpuidTable: [...id.cpuids],
  };
}

/** num_handoff_pages of a release line, as the real sigstructs have it: 13 for 1.5, 24 for 2.0. */
export function numHandoffPagesOf(v: Version): number {
  return v.major >= 2 ? 24 : 13;
}

function registerSynthetic(id: ModuleIdentity, seamhash: Uint8Array): void {
  registerBuild(toHex(seamhash), {
    version: id.version,
    moduleHv: id.moduleHv,
    minUpdateHv: id.minUpdateHv,
    noDowngrade: id.noDowngrade,
    numHandoffPages: numHandoffPagesOf(id.version),
    features0: id.features0,
    // As the identity says (the release's, from Intel's mapping); else one layout per major.minor.
    handoffDataVersion: id.handoffDataVersion ?? handoffDataVersionOf({ ...id.version, update: 0 }),
  });
}

interface Built {
  image: Uint8Array;
  seamhash: Uint8Array;
}
const images = memo<Built>((b) => b.image.length);

// The image, hashed once per identity; its build is (re)registered on every use.
function built(id: ModuleIdentity): Built {
  const key = identityKey(id);
  let b = images.map.get(key);
  if (!b) {
    const image = new Uint8Array(id.nrPages * PAGE_SIZE);
    fillPattern(image, key);
    // A zero-page module (a test of the page-count checks) has no room for a header.
    if (image.length >= ELF64.HEADER_SIZE) writeElf64Header(image, entryOf(id.nrPages));
    b = memoSet(images, key, { image, seamhash: sha384(image) });
  }
  registerSynthetic(id, b.seamhash);
  return b;
}

/** The module binary of id: nrPages*4096 bytes, an ELF64 header first; its build is registered. Fresh copy. */
export function moduleImage(id: ModuleIdentity): Uint8Array {
  return built(id).image.slice();
}

const sigstructs = memo<Uint8Array>((b) => b.length);

/** The signed sigstruct of id's module (default key: the project's test key). Fresh copy. */
export function moduleSigstruct(id: ModuleIdentity, keyPem = INTEL_TEST_KEY_PEM): Uint8Array {
  const key = identityKey(id) + '|' + keyPem;
  const s = sigstructs.map.get(key) ?? memoSet(sigstructs, key, buildSigstruct(sigstructFieldsOf(id), keyPem));
  return s.slice();
}

/** 16-bit sum of the little-endian words (trailing odd byte as-is), carry discarded (spec §3.2). */
export function checksum16(b: Uint8Array): number {
  const words = view(b),
    even = b.length & ~1;
  let sum = 0; // below 2^53 for any blob under 2^37 bytes: the carry is dropped once, at the end
  for (let i = 0; i < even; i += 2) sum += words.getUint16(i, true);
  if (even < b.length) sum += b[even]!;
  return sum & 0xffff;
}

/** Sets the checksum field so that checksum16 of the whole blob is 0. */
export function fixChecksumV1(b: Uint8Array): void {
  view(b).setUint16(BLOB_V1.OFF_CHECKSUM, 0, true);
  view(b).setUint16(BLOB_V1.OFF_CHECKSUM, (0x10000 - checksum16(b)) & 0xffff, true);
}

// The sum of a memoized module image, kept with it: the sum is additive over even offsets, so
// a blob's checksum is its header's and signature region's plus its module's (the module starts
// at a page boundary, so a trailing odd byte is a low byte in both).
const moduleSums = new WeakMap<Uint8Array, number>();
function moduleSum(module: Uint8Array): number {
  let s = moduleSums.get(module);
  if (s === undefined) moduleSums.set(module, (s = checksum16(module)));
  return s;
}

// Lays out header, signature region (sigstruct + zero padding) and module, as blob_join.sh does.
function assembleV1(sigstruct: Uint8Array, sigRegion: number, module: Uint8Array): Uint8Array {
  const offsetOfModule = BLOB_V1.HEADER_SIZE + sigRegion;
  const b = new Uint8Array(offsetOfModule + module.length);
  const v = view(b);
  v.setUint16(BLOB_V1.OFF_VERSION, BLOB_V1.VERSION, true);
  v.setUint32(BLOB_V1.OFF_OFFSET_OF_MODULE, offsetOfModule, true);
  b.set(new TextEncoder().encode(BLOB_V1.SIGNATURE), BLOB_V1.OFF_SIGNATURE);
  v.setUint32(BLOB_V1.OFF_LENGTH, b.length, true);
  b.set(sigstruct.subarray(0, Math.min(sigstruct.length, sigRegion)), BLOB_V1.HEADER_SIZE);
  b.set(module, offsetOfModule);
  v.setUint16(BLOB_V1.OFF_CHECKSUM, (0x10000 - checksum16(b.subarray(0, offsetOfModule)) - moduleSum(module)) & 0xffff, true);
  return b;
}

const blobs = memo<Uint8Array>((b) => b.length);

/** A well-formed v1 blob of id signed with keyPem (default: the trusted test key). Fresh copy. */
export function buildBlobV1(id: ModuleIdentity, keyPem = INTEL_TEST_KEY_PEM): Uint8Array {
  const key = identityKey(id) + '|' + keyPem;
  let blob = blobs.map.get(key);
  if (!blob) {
    blob = memoSet(blobs, key, assembleV1(moduleSigstruct(id, keyPem), BLOB_V1.SIG_REGION, built(id).image));
  }
  return blob.slice();
}

/** Ways to break a blob; each targets one check and leaves everything else consistent. */
export type ImageCorruption =
  | { kind: 'truncate'; length: number }
  | { kind: 'short_blob'; length: number }
  | { kind: 'bad_checksum' }
  | { kind: 'bad_magic' }
  | { kind: 'bad_version' }
  | { kind: 'bad_length' }
  | { kind: 'reserved_nonzero'; index: number }
  | { kind: 'sig_size'; pages: number }
  | { kind: 'module_unaligned' }
  | { kind: 'module_too_big' }
  | { kind: 'no_module_pages' }
  | { kind: 'page_count_overflow'; extra: number }
  | { kind: 'sigstruct_bitflip'; byte: number; bit: number }
  | { kind: 'module_bitflip'; byte: number; bit: number }
  | { kind: 'rogue_key' };

/** Every corruption kind, in the order the coverage table and the minimizer list them. */
export const CORRUPTION_KINDS = [
  'truncate',
  'short_blob',
  'bad_checksum',
  'bad_magic',
  'bad_version',
  'bad_length',
  'reserved_nonzero',
  'sig_size',
  'module_unaligned',
  'module_too_big',
  'no_module_pages',
  'page_count_overflow',
  'sigstruct_bitflip',
  'module_bitflip',
  'rogue_key',
] as const satisfies readonly ImageCorruption['kind'][];

// A version that is neither v1 (0x100) nor v2 (0x200), so both kernel profiles reject it.
const BAD_VERSION = 0x101;
// Bytes appended by module_unaligned: not a multiple of 4 KiB.
const UNALIGNED_TAIL = 1024;

export function moduleOf(blob: Uint8Array): Uint8Array {
  return blob.slice(view(blob).getUint32(BLOB_V1.OFF_OFFSET_OF_MODULE, true));
}

export function sigstructOf(blob: Uint8Array): Uint8Array {
  return blob.slice(BLOB_V1.OFF_SIGSTRUCT, BLOB_V1.OFF_SIGSTRUCT + SIGSTRUCT_SIZE);
}

function withModule(blob: Uint8Array, module: Uint8Array): Uint8Array {
  return assembleV1(sigstructOf(blob), BLOB_V1.SIG_REGION, module);
}

/**
 * A corrupted copy of a well-formed blob from buildBlobV1. Every kind except truncate and
 * bad_checksum re-fixes the checksum so that only the intended check fails.
 */
export function corruptBlobV1(blob: Uint8Array, c: ImageCorruption): Uint8Array {
  const b = blob.slice();
  const v = view(b);
  switch (c.kind) {
    case 'truncate':
      // Defeats the size checks (and exposes a kernel that reads the header first, bug B7).
      return b.slice(0, Math.max(0, Math.min(c.length, b.length)));
    case 'short_blob': {
      // A file shorter than the header that is otherwise self-consistent (length field and
      // checksum match): only the "at least a header" check stops it; a kernel that reads the
      // header first reads past the end (bug B13, "userspace writes a 100-byte file").
      const n = Math.max(BLOB_V1.OFF_RESERVED0, Math.min(c.length, BLOB_V1.HEADER_SIZE - 2) & ~1);
      const short = b.slice(0, n);
      view(short).setUint32(BLOB_V1.OFF_LENGTH, n, true);
      fixChecksumV1(short);
      return short;
    }
    case 'bad_checksum':
      // Defeats the v1 checksum check only; the sum becomes 1.
      v.setUint16(BLOB_V1.OFF_CHECKSUM, (v.getUint16(BLOB_V1.OFF_CHECKSUM, true) + 1) & 0xffff, true);
      return b;
    case 'bad_magic':
      // Defeats the "TDX-BLOB" signature check.
      b[BLOB_V1.OFF_SIGNATURE] = 'X'.charCodeAt(0);
      break;
    case 'bad_version':
      // Defeats the version check.
      v.setUint16(BLOB_V1.OFF_VERSION, BAD_VERSION, true);
      break;
    case 'bad_length':
      // Defeats "length == size".
      v.setUint32(BLOB_V1.OFF_LENGTH, b.length + PAGE_SIZE, true);
      break;
    case 'reserved_nonzero':
      // Defeats "reserved0 == 0 and reserved1[] all zero".
      b[BLOB_V1.OFF_RESERVED0 + mod(c.index, BLOB_V1.RESERVED_BYTES)] = 0xa5;
      break;
    case 'sig_size':
      // Defeats "offset_of_module - 4096 == 4096" (N reserved3 pages, or none at all). The file
      // stays self-consistent: length, offset and checksum match; pages = 1 is the valid layout.
      return assembleV1(sigstructOf(blob), Math.max(0, c.pages) * PAGE_SIZE, moduleOf(blob));
    case 'module_unaligned':
      // Defeats "module size is a 4 KiB multiple".
      return withModule(blob, concat(moduleOf(blob), new Uint8Array(UNALIGNED_TAIL)));
    case 'module_too_big':
      // Defeats "module size <= 496 pages": the module is repeated out to 497 pages.
      return withModule(blob, repeatTo(moduleOf(blob), (SEAMLDR_MAX_NR_MODULE_PAGES + 1) * PAGE_SIZE));
    case 'no_module_pages':
      // Defeats "module size > 0".
      return withModule(blob, new Uint8Array(0));
    case 'page_count_overflow':
      // v1 has no page count to overflow; the nearest v1 fault is a module over the bound.
      return withModule(blob, repeatTo(moduleOf(blob), (SEAMLDR_MAX_NR_MODULE_PAGES + 1 + mod(c.extra, 4)) * PAGE_SIZE));
    case 'sigstruct_bitflip':
      // Bytes 0..2047 are the sigstruct: P-SEAMLDR's field, key-hash or signature check fails
      // (EBADSIG), or the CPUID check (EUNSUPCPU). Bytes 2048..4095 are reserved2: harmless.
      b[BLOB_V1.OFF_SIGSTRUCT + mod(c.byte, BLOB_V1.SIG_REGION)] ^= 1 << mod(c.bit, 8);
      break;
    case 'module_bitflip': {
      // Defeats P-SEAMLDR's image hash check (EBADHASH, after the point of no return).
      const off = v.getUint32(BLOB_V1.OFF_OFFSET_OF_MODULE, true);
      b[off + mod(c.byte, b.length - off)] ^= 1 << mod(c.bit, 8);
      break;
    }
    case 'rogue_key': {
      // A well-formed, correctly signed blob, but not by the key P-SEAMLDR trusts (EBADSIG).
      const s = sigstructOf(blob);
      signSigstruct(s, ROGUE_KEY_PEM);
      b.set(s, BLOB_V1.OFF_SIGSTRUCT);
      break;
    }
    default: {
      const never: never = c;
      return never;
    }
  }
  fixChecksumV1(b);
  return b;
}

export function mod(x: number, n: number): number {
  return ((x % n) + n) % n;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function repeatTo(src: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let off = 0; src.length > 0 && off < length; off += src.length) out.set(src.subarray(0, Math.min(src.length, length - off)), off);
  return out;
}
