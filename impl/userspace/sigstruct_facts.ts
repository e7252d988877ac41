// What the selection policy needs from a module blob's sigstruct: the module type (debug or
// production) and the CPUID table. Userspace reads them from the blob file, as the operator's
// tool does, before anything reaches the kernel.
// Layout: intel/tdx-loader @ 81bf312 p-seam-loader/include/seam_sigstruct.h, checked against
// the eleven published blobs (spec §3.2; data/README.md of the shared data): in a version-1
// blob the sigstruct starts at offset 4096.
import type { ModuleFacts } from './policy.ts';

export const BLOB_SIGSTRUCT_OFFSET = 4096;
export const SIGSTRUCT_SIZE = 2048;

const HEADER_TYPE = 0;
const MODULE_TYPE = 12;
const MODULE_VENDOR = 16;
const CPUID_TABLE_SIZE = 1024;
const CPUID_TABLE = 1028;
/** The table ends with the sigstruct: at most (2048 - 1028) / 4 entries. */
export const MAX_CPUID_TABLE = (SIGSTRUCT_SIZE - CPUID_TABLE) / 4;

const SEAM_SIGSTRUCT_HEADER_TYPE = 6;
const INTEL_VENDOR = 0x8086;
const MODULE_TYPE_DEBUG = 0x8000_0000;

/**
 * The facts of release `version` from its blob's bytes, or a one-line reason why the bytes are
 * not a module blob (too short, not a SEAM sigstruct, a CPUID table that overruns it).
 */
export function sigstructFacts(version: string, blob: Uint8Array): ModuleFacts | string {
  if (blob.length < BLOB_SIGSTRUCT_OFFSET + SIGSTRUCT_SIZE) return `${blob.length} bytes, too short for a blob with a sigstruct at ${BLOB_SIGSTRUCT_OFFSET}`;
  const dv = new DataView(blob.buffer, blob.byteOffset + BLOB_SIGSTRUCT_OFFSET, SIGSTRUCT_SIZE);
  const u32 = (off: number) => dv.getUint32(off, true);
  if (u32(HEADER_TYPE) !== SEAM_SIGSTRUCT_HEADER_TYPE || u32(MODULE_VENDOR) !== INTEL_VENDOR)
    return 'no SEAM sigstruct at offset 4096 (header type or vendor wrong)';
  const n = u32(CPUID_TABLE_SIZE);
  if (n > MAX_CPUID_TABLE) return `cpuid_table_size ${n} overruns the sigstruct (at most ${MAX_CPUID_TABLE})`;
  const cpuids = Array.from({ length: n }, (_, i) => u32(CPUID_TABLE + 4 * i));
  return { version, cpuids, debug: (u32(MODULE_TYPE) & MODULE_TYPE_DEBUG) !== 0 };
}
