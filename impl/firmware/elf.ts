// The ELF64 file header every TDX module binary starts with (ET_DYN, x86-64); the sigstruct's
// rip_offset equals its e_entry. Mirrors: the System V gABI ELF header (elf.h Elf64_Ehdr), as
// found in the eleven modules of intel/tdx-module-binaries (data/README.md).

export const ELF64 = {
  HEADER_SIZE: 64,
  OFF_CLASS: 4, // u8, 2 = ELFCLASS64
  OFF_DATA: 5, // u8, 1 = little-endian
  OFF_VERSION: 6, // u8, 1
  OFF_TYPE: 16, // u16, 3 = ET_DYN
  OFF_MACHINE: 18, // u16, 62 = EM_X86_64
  OFF_E_VERSION: 20, // u32, 1
  OFF_ENTRY: 24, // u64
  OFF_PHOFF: 32, // u64
  OFF_EHSIZE: 52, // u16
  OFF_PHENTSIZE: 54, // u16
  ET_DYN: 3,
  EM_X86_64: 62,
} as const;

const MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const PHDR_SIZE = 56;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Writes an ELF64 little-endian ET_DYN x86-64 header with this entry point at the start of b. */
export function writeElf64Header(b: Uint8Array, entry: number): void {
  const v = view(b);
  b.fill(0, 0, ELF64.HEADER_SIZE);
  b.set(MAGIC, 0);
  b[ELF64.OFF_CLASS] = 2;
  b[ELF64.OFF_DATA] = 1;
  b[ELF64.OFF_VERSION] = 1;
  v.setUint16(ELF64.OFF_TYPE, ELF64.ET_DYN, true);
  v.setUint16(ELF64.OFF_MACHINE, ELF64.EM_X86_64, true);
  v.setUint32(ELF64.OFF_E_VERSION, 1, true);
  v.setBigUint64(ELF64.OFF_ENTRY, BigInt(entry), true);
  v.setBigUint64(ELF64.OFF_PHOFF, BigInt(ELF64.HEADER_SIZE), true);
  v.setUint16(ELF64.OFF_EHSIZE, ELF64.HEADER_SIZE, true);
  v.setUint16(ELF64.OFF_PHENTSIZE, PHDR_SIZE, true);
}

export interface Elf64Header {
  type: number;
  machine: number;
  entry: bigint;
}

/** The header's type, machine and entry, or null when b does not start with a 64-bit little-endian ELF header. */
export function readElf64Header(b: Uint8Array): Elf64Header | null {
  if (b.length < ELF64.HEADER_SIZE || MAGIC.some((m, i) => b[i] !== m)) return null;
  if (b[ELF64.OFF_CLASS] !== 2 || b[ELF64.OFF_DATA] !== 1) return null;
  const v = view(b);
  return { type: v.getUint16(ELF64.OFF_TYPE, true), machine: v.getUint16(ELF64.OFF_MACHINE, true), entry: v.getBigUint64(ELF64.OFF_ENTRY, true) };
}
