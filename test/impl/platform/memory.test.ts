import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../../impl/firmware/abi.ts';
import { PhysMem } from '../../../impl/platform/memory.ts';

// no two pages alike: a digest over the wrong pages of one source must differ
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed + Math.floor(i / PAGE_SIZE)) & 0xff);
const sum = (b: Uint8Array) => b.reduce((a, x) => a + x, 0);
const hex = (...parts: Uint8Array[]) => parts.map((p) => Buffer.from(p).toString('hex')).join('');

describe('PhysMem.load and digest', () => {
  it('load copies the bytes into separate pages, zero past the end', () => {
    const m = new PhysMem();
    const data = bytes(2 * PAGE_SIZE + 10, 1);
    const pas = m.load(data);
    expect(pas).toHaveLength(3);
    expect([...m.read(pas[1]!)!]).toEqual([...data.subarray(PAGE_SIZE, 2 * PAGE_SIZE)]);
    expect(m.read(pas[2]!)![10]).toBe(0);
  });

  it('a page written after load changes that page only: not the source, not another load of it', () => {
    const m = new PhysMem();
    const data = bytes(2 * PAGE_SIZE, 4);
    const before = Uint8Array.from(data);
    const a = m.load(data),
      b = m.load(data);
    const w = m.page(a[0]!)!;
    w[0] = w[0]! ^ 0xff;
    expect(w.length).toBe(PAGE_SIZE);
    expect(m.read(a[0]!)![0]).toBe(before[0]! ^ 0xff);
    expect(data).toEqual(before);
    expect([...m.read(b[0]!)!]).toEqual([...before.subarray(0, PAGE_SIZE)]);
    expect(m.page(a[0]!)).toBe(w);
  });

  it('a digest of an unchanged copy runs once per source and range, and agrees with the bytes', () => {
    const m = new PhysMem();
    const data = bytes(3 * PAGE_SIZE, 2);
    let calls = 0;
    const f = (b: Uint8Array) => {
      calls++;
      return sum(b);
    };
    const a = m.load(data),
      b = m.load(data);
    expect(m.digest(a, data.length, 's', f)).toBe(sum(data));
    expect(m.digest(b, data.length, 's', f)).toBe(sum(data));
    expect(calls).toBe(1);
    expect(m.digest(a.slice(1), 2 * PAGE_SIZE, 's', f)).toBe(sum(data.subarray(PAGE_SIZE)));
    expect(calls).toBe(2);
  });

  it('a page handed out to write is read as it is: no stale digest', () => {
    const m = new PhysMem();
    const data = bytes(2 * PAGE_SIZE, 3);
    const pas = m.load(data);
    expect(m.digest(pas, data.length, 's', sum)).toBe(sum(data));
    m.page(pas[1]!)![0]! += 1;
    expect(m.digest(pas, data.length, 's', sum)).toBe(sum(data) + 1);
  });

  it('pages out of order, from two sources, or freed are not taken for a copy', () => {
    const m = new PhysMem();
    const x = bytes(2 * PAGE_SIZE, 4),
      y = bytes(2 * PAGE_SIZE, 5);
    const px = m.load(x),
      py = m.load(y);
    const gathered = (pas: number[]) => m.digest(pas, 2 * PAGE_SIZE, 'hex', (b) => hex(b));
    expect(gathered(px)).toBe(hex(x));
    expect(gathered([px[1]!, px[0]!])).toBe(hex(x.subarray(PAGE_SIZE), x.subarray(0, PAGE_SIZE)));
    expect(gathered([px[0]!, py[1]!])).toBe(hex(x.subarray(0, PAGE_SIZE), y.subarray(PAGE_SIZE)));
    m.free(px[1]!);
    expect(gathered(px)).toBe(hex(x.subarray(0, PAGE_SIZE), new Uint8Array(PAGE_SIZE)));
  });

  it('pages of one source at the wrong offsets, or a first page written, are not taken for a copy', () => {
    const m = new PhysMem();
    const x = bytes(3 * PAGE_SIZE, 6);
    const px = m.load(x);
    expect(m.digest([px[0]!, px[2]!], 2 * PAGE_SIZE, 'hex', hex)).toBe(hex(x.subarray(0, PAGE_SIZE), x.subarray(2 * PAGE_SIZE)));
    m.page(px[0]!)![0]! += 1;
    expect(m.digest(px, x.length, 's', sum)).toBe(sum(x) + 1);
  });

  it('a digest past the end of its source reads the zeros of the last page', () => {
    const m = new PhysMem();
    const x = bytes(PAGE_SIZE + PAGE_SIZE / 2, 7);
    const px = m.load(x);
    expect(m.digest(px, 2 * PAGE_SIZE, 'hex', hex)).toBe(hex(x) + '00'.repeat(PAGE_SIZE / 2));
  });
});
