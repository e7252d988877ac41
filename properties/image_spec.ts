// The image acceptance predicates of spec §3.2 (v1 blob: "v2 kernel checks"; v2 image: the
// merged checks, I-15), written from the spec and independent of impl/kernel/seamldr.ts, so
// invariant I-15 can judge what reached P-SEAMLDR.

const HEADER = 4096;

export function acceptableBlobV1(b: Uint8Array): boolean {
  if (b.length < HEADER) return false;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += v.getUint16(i, true);
  if (b.length % 2) sum += b[b.length - 1]!;
  const offset = v.getUint32(4, true);
  const moduleSize = b.length - offset;
  return (
    v.getUint16(0, true) === 0x100 &&
    sum % 0x10000 === 0 &&
    v.getUint32(16, true) === b.length &&
    new TextDecoder().decode(b.subarray(8, 16)) === 'TDX-BLOB' &&
    b.subarray(20, HEADER).every((x) => x === 0) &&
    offset === 2 * HEADER &&
    moduleSize > 0 &&
    moduleSize <= 496 * 4096 &&
    moduleSize % 4096 === 0
  );
}

/** The merged predicate: len >= 4096, len = 4096(1+s+m) in u32, 0x200, s <= 1, m <= 496, signature, reserved zero. */
export function acceptableImageV2(b: Uint8Array): boolean {
  if (b.length < HEADER) return false;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const s = v.getUint32(12, true),
    m = v.getUint32(16, true);
  return (
    (HEADER + ((s * 4096) >>> 0) + ((m * 4096) >>> 0)) >>> 0 === b.length &&
    v.getUint16(0, true) === 0x200 &&
    s <= 1 &&
    m <= 496 &&
    new TextDecoder().decode(b.subarray(4, 12)) === 'TDX-BLOB' &&
    b.subarray(20, HEADER).every((x) => x === 0)
  );
}
