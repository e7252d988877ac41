// The v1 blob checksum's arithmetic (spec §3.2, [T-v3 #108]), apart from seamldr.ts so that
// Stryker's instrumentation of seamldr.ts does not run once per word of every uploaded image
// (README "Mutation score": a mutant of seamldr.ts used to cost 1.5-2 minutes for this loop).

/** The 16-bit sum of the little-endian u16 words of `b` (a trailing odd byte as is), carry discarded. */
export function le16Sum(b: Uint8Array): number {
  const words = new DataView(b.buffer, b.byteOffset, b.byteLength),
    even = b.length & ~1;
  let sum = 0; // exact below 2^53, so the carry is dropped once, at the end
  for (let i = 0; i < even; i += 2) sum += words.getUint16(i, true);
  if (even < b.length) sum += b[even]!;
  return sum & 0xffff;
}
