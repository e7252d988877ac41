// read_seamldr: a P-SEAMLDR attribute of tdx_host (v2: seamldr/version and
// seamldr/num_remaining_updates; merged: seamldr_version and num_remaining_updates), a fresh
// SEAMLDR.INFO on the reader's CPU.
import fc from 'fast-check';
import { seamldrAttrShow } from '../../impl/kernel/tdx_host.ts';
import { readSeamldr } from '../../model/host.ts';
import { cpuOf, type CommandSpec } from './spec.ts';
import { sysfsMatches } from './sysfs.ts';

export interface ReadSeamldr {
  readonly kind: 'read_seamldr';
  readonly attr: 'version' | 'num_remaining_updates';
  readonly cpu?: number;
}

export const READ_SEAMLDR: CommandSpec<ReadSeamldr> = {
  kind: 'read_seamldr',
  arbitrary: () =>
    fc.record({
      kind: fc.constant('read_seamldr' as const),
      attr: fc.constantFrom('version' as const, 'num_remaining_updates' as const),
      cpu: fc.nat({ max: 255 }),
    }),
  describe: (c) => `read(seamldr/${c.attr}, cpu ${c.cpu ?? 0})`,
  cpu: (c, n) => cpuOf(c.cpu ?? 0, n),
  issue: ({ h }, c) => seamldrAttrShow(h, cpuOf(c.cpu ?? 0, h.platform.cpus.length), c.attr),
  response: { read: true, model: (m, c) => ({ choices: readSeamldr(m, c.attr), matches: sysfsMatches }) },
};
