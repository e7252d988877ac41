// Tests for model/measure.ts: the MRTD hash chain and its record formats, checked against a
// SHA-384 computed here from the documented layout (tag, then the GPA's byte address as a
// little-endian u64, then for MR.EXTEND the page).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MRTD_INIT, measureExtend, measurePageAdd } from '../../model/measure.ts';

function le64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

function expected(prev: Uint8Array, tag: string, gpa: number, page?: Uint8Array): Uint8Array {
  const record = Buffer.concat([Buffer.from(tag, 'latin1'), le64(BigInt(gpa) * 4096n), ...(page ? [Buffer.from(page)] : [])]);
  return new Uint8Array(createHash('sha384').update(Buffer.concat([Buffer.from(prev), record])).digest());
}

const PAGE = Uint8Array.from({ length: 4096 }, (_, i) => (i * 13 + 5) & 0xff);

describe('MRTD_INIT', () => {
  it('is 48 zero bytes (a SHA-384 sized register)', () => {
    expect(MRTD_INIT).toHaveLength(48);
    expect(MRTD_INIT.every((b) => b === 0)).toBe(true);
  });
});

describe('record formats', () => {
  it.each([0, 1, 0x1234, 0xfffff])('MEM.PAGE.ADD of gpa %i', (gpa) => {
    expect(measurePageAdd(MRTD_INIT, gpa)).toEqual(expected(MRTD_INIT, 'MEM.PAGE.ADD', gpa));
  });
  it.each([0, 7, 0x80000])('MR.EXTEND of gpa %i', (gpa) => {
    const prev = measurePageAdd(MRTD_INIT, gpa);
    expect(measureExtend(prev, gpa, PAGE)).toEqual(expected(prev, 'MR.EXTEND', gpa, PAGE));
  });
  it('the address is the byte address, little-endian: gpa 1 hashes 00 10 00 00 00 00 00 00', () => {
    const manual = createHash('sha384').update(Buffer.alloc(48)).update('MEM.PAGE.ADD').update(Buffer.from([0, 0x10, 0, 0, 0, 0, 0, 0])).digest();
    expect(measurePageAdd(MRTD_INIT, 1)).toEqual(new Uint8Array(manual));
  });
});

describe('the chain', () => {
  it('is a chain: each step hashes the previous value', () => {
    const a = measurePageAdd(MRTD_INIT, 0);
    const b = measureExtend(a, 0, PAGE);
    const c = measurePageAdd(b, 1);
    expect(c).toEqual(expected(expected(expected(MRTD_INIT, 'MEM.PAGE.ADD', 0), 'MR.EXTEND', 0, PAGE), 'MEM.PAGE.ADD', 1));
  });
  it('depends on order, address, contents and record kind', () => {
    const ab = measurePageAdd(measurePageAdd(MRTD_INIT, 0), 1);
    const ba = measurePageAdd(measurePageAdd(MRTD_INIT, 1), 0);
    expect(ab).not.toEqual(ba);
    const other = PAGE.slice();
    other[4095]! ^= 1;
    expect(measureExtend(MRTD_INIT, 0, PAGE)).not.toEqual(measureExtend(MRTD_INIT, 0, other));
    expect(measureExtend(MRTD_INIT, 0, new Uint8Array(0))).not.toEqual(measurePageAdd(MRTD_INIT, 0));
  });
  it('returns a fresh 48-byte value and leaves its inputs alone', () => {
    const prev = measurePageAdd(MRTD_INIT, 3);
    const copy = prev.slice();
    const page = PAGE.slice();
    const next = measureExtend(prev, 3, page);
    expect(next).toHaveLength(48);
    expect(next).not.toBe(prev);
    expect(prev).toEqual(copy);
    expect(page).toEqual(PAGE);
    expect(MRTD_INIT.every((b) => b === 0)).toBe(true);
  });
});
