// Physical memory: 4 KiB pages addressed by physical address. The kernel's vmalloc'd image
// buffer and the SEAMLDR_PARAMS page live here, so P-SEAMLDR reads the image through the
// physical addresses the kernel wrote into the params (seamldr.c populate_pa_list), and TD
// private pages live here so that TD preservation is checked on their content.
import { PAGE_SIZE } from '../firmware/abi.ts';

export class PhysMem {
  private readonly pages = new Map<number, Uint8Array>();
  private nextPfn = 0x100;

  /** Allocate n pages, deliberately not contiguous (vmalloc), and return their addresses. */
  allocPages(n: number): number[] {
    const pas: number[] = [];
    for (let i = 0; i < n; i++) {
      const pa = this.nextPfn * PAGE_SIZE;
      this.nextPfn += 2;
      this.pages.set(pa, new Uint8Array(PAGE_SIZE));
      pas.push(pa);
    }
    return pas;
  }

  page(pa: number): Uint8Array | undefined {
    return this.pages.get(pa);
  }

  free(pa: number): void {
    this.pages.delete(pa);
  }

  get size(): number {
    return this.pages.size;
  }
}
