// The v1 blob checksum's arithmetic (spec §3.2, [T-v3 #108]), apart from seamldr.ts so that
// Stryker's instrumentation of seamldr.ts does not run once per word of every uploaded image
// (README "Mutation score": a mutant of seamldr.ts used to cost 1.5-2 minutes for this loop).

/** The 16-bit sum of the little-endian u16 words of `b` (a trailing odd byte as is), carry discarded. */
export function le16Sum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum = (sum + b[i]! + (i + 1 < b.length ? b[i + 1]! << 8 : 0)) & 0xffff;
  return sum;
}
