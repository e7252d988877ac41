// TD measurement (MRTD) as a hash chain: each build step extends the digest (TDX base spec,
// "TD Measurement"; the record formats are this project's, see impl/firmware/tdx_module.ts).
import { createHash } from 'node:crypto';

export const MRTD_INIT = new Uint8Array(48);

function extend(mrtd: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha384').update(mrtd);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

const enc = new TextEncoder();

export function measurePageAdd(mrtd: Uint8Array, gpa: number): Uint8Array {
  return extend(mrtd, enc.encode('MEM.PAGE.ADD'), u64(gpa * 4096));
}

export function measureExtend(mrtd: Uint8Array, gpa: number, page: Uint8Array): Uint8Array {
  return extend(mrtd, enc.encode('MR.EXTEND'), u64(gpa * 4096), page);
}
