// Physical memory: 4 KiB pages addressed by physical address. The kernel's vmalloc'd image
// buffer and the SEAMLDR_PARAMS page live here, so P-SEAMLDR reads the image through the
// physical addresses the kernel wrote into the params (seamldr.c populate_pa_list), and TD
// private pages live here so that TD preservation is checked on their content.
import { PAGE_SIZE } from '../firmware/abi.ts';

/** Where a page's bytes were copied from, while nothing can have written the page since. */
interface Origin {
  readonly src: Uint8Array;
  readonly off: number;
}

// Digests of unchanged copies, per source: an upload's image is summed by the kernel and
// hashed by P-SEAMLDR on every upload, and the harness uploads the same images again and
// again (issue 13: each distinct image hashed once). Kept as long as the source lives.
const digests = new WeakMap<Uint8Array, Map<string, unknown>>();

/** What a fresh page holds; never written (page() copies it first). */
const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

export class PhysMem {
  private readonly pages = new Map<number, Uint8Array>();
  private readonly origins = new Map<number, Origin>();
  private nextPfn = 0x100;

  /**
   * Allocate n zeroed pages, deliberately not contiguous (vmalloc), and return their addresses.
   * Each is a copy of one zero page until a holder writes it (page()): most are only read, and a
   * sysfs read of P-SEAMLDR's version allocates one.
   */
  allocPages(n: number): number[] {
    const pas: number[] = [];
    for (let i = 0; i < n; i++) {
      const pa = this.place(ZERO_PAGE);
      this.origins.set(pa, { src: ZERO_PAGE, off: 0 });
      pas.push(pa);
    }
    return pas;
  }

  private place(bytes: Uint8Array): number {
    const pa = this.nextPfn * PAGE_SIZE;
    this.nextPfn += 2;
    this.pages.set(pa, bytes);
    return pa;
  }

  /**
   * Fresh pages holding a copy of `data` (vmalloc, then the copy from userspace), each
   * remembering where its bytes came from. `data` must not change afterwards: the harness's
   * images never do (properties/images.ts imageBytes). A whole page is copied only when a
   * holder asks to write it (page()): until then it reads `data` itself, so an upload of a
   * real-size image (0.6-2 MiB) costs no copy (issue 13, npm run bench section 2).
   */
  load(data: Uint8Array): number[] {
    const pas: number[] = [];
    for (let off = 0; off < data.length; off += PAGE_SIZE) {
      // Stryker disable next-line EqualityOperator: a last whole page copied rather than shared reads the same
      const whole = off + PAGE_SIZE <= data.length;
      const pa = this.place(whole ? data.subarray(off, off + PAGE_SIZE) : zeroPadded(data.subarray(off)));
      this.origins.set(pa, { src: data, off });
      pas.push(pa);
    }
    return pas;
  }

  /** The page, to read or write: a holder may write it, so it no longer counts as a copy. */
  page(pa: number): Uint8Array | undefined {
    const o = this.origins.get(pa);
    if (o) {
      this.origins.delete(pa);
      const p = this.pages.get(pa)!;
      // Stryker disable next-line ConditionalExpression: copying a page that is already its own changes nothing
      if (p.buffer === o.src.buffer) this.pages.set(pa, p.slice());
    }
    return this.pages.get(pa);
  }

  /** The page, to read only: a copy stays a copy. It may be a view into the loaded source (mind its byteOffset). */
  read(pa: number): Readonly<Uint8Array> | undefined {
    return this.pages.get(pa);
  }

  free(pa: number): void {
    this.pages.delete(pa);
    this.origins.delete(pa);
  }

  /**
   * `f` of the first `len` bytes of the pages `pas` (past a missing page or past the end,
   * zeros). When the pages are an unchanged copy of one source, in order, `f` runs once per
   * source, range and `name`; else on the bytes as they are.
   */
  digest<T>(pas: readonly number[], len: number, name: string, f: (bytes: Uint8Array) => T): T {
    const o = this.copyOf(pas, len);
    if (!o) return f(this.gather(pas, len));
    let memo = digests.get(o.src);
    if (!memo) digests.set(o.src, (memo = new Map()));
    const key = `${name} ${o.off} ${len}`;
    if (!memo.has(key)) memo.set(key, f(o.src.subarray(o.off, o.off + len)));
    return memo.get(key) as T;
  }

  private copyOf(pas: readonly number[], len: number): Origin | null {
    const first = pas.length ? this.origins.get(pas[0]!) : undefined;
    // Too few pages for len ends the loop below at the first missing one.
    if (!first || first.off + len > first.src.length) return null;
    for (let i = 1; i * PAGE_SIZE < len; i++) {
      const o = this.origins.get(pas[i]!);
      if (o?.src !== first.src || o.off !== first.off + i * PAGE_SIZE) return null;
    }
    return first;
  }

  private gather(pas: readonly number[], len: number): Uint8Array {
    const b = new Uint8Array(len);
    // Stryker disable next-line EqualityOperator: one more page would add no bytes (its slice is empty)
    for (let i = 0; i * PAGE_SIZE < len; i++) {
      const p = this.pages.get(pas[i]!);
      if (p) b.set(p.subarray(0, Math.min(PAGE_SIZE, len - i * PAGE_SIZE)), i * PAGE_SIZE);
    }
    return b;
  }

  get size(): number {
    return this.pages.size;
  }
}

function zeroPadded(tail: Uint8Array): Uint8Array {
  const p = new Uint8Array(PAGE_SIZE);
  p.set(tail);
  return p;
}
