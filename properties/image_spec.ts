// The v1 blob acceptance predicate of spec §3.2 ("v2 kernel checks"), written from the spec
// and independent of impl/kernel/seamldr.ts, so invariant I-15 can judge what reached P-SEAMLDR.

const HEADER = 4096;

export function acceptableBlobV1(b: Uint8Array): boolean {
  if (b.length < HEADER) return false;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += v.getUint16(i, true);
  if (b.length % 2) sum += b[b.length - 1]!;
  const offset = v.getUint32(4, true);
  const moduleSize = b.length - offset;
  return v.getUint16(0, true) === 0x100
    && sum % 0x10000 === 0
    && v.getUint32(16, true) === b.length
    && new TextDecoder().decode(b.subarray(8, 16)) === 'TDX-BLOB'
    && b.subarray(20, HEADER).every((x) => x === 0)
    && offset === 2 * HEADER
    && moduleSize > 0 && moduleSize <= 496 * 4096 && moduleSize % 4096 === 0;
}
