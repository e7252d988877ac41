// td_run: KVM_RUN, i.e. TDH.VP.ENTER; the guest stores to its own private memory.
import fc from 'fast-check';
import { kvmTdRun } from '../../impl/kvm/tdx.ts';
import { tdRun } from '../../model/td.ts';
import type { TdFaultLeaf } from '../../model/types.ts';
import { cpuOf, exactly, type CommandSpec } from './spec.ts';
import { armed, faultText, pages, pickTd, tdFault } from './td.ts';

export interface GuestStore {
  readonly page: number;
  readonly offset: number;
  readonly value: number;
}
export interface TdRun {
  readonly kind: 'td_run';
  readonly td: number;
  readonly stores: readonly GuestStore[];
  readonly cpu: number;
  readonly fault?: Extract<TdFaultLeaf, 'VP_ENTER'> | null;
}

const store: fc.Arbitrary<GuestStore> = fc.record({ page: fc.nat({ max: 7 }), offset: fc.nat({ max: 4095 }), value: fc.nat({ max: 255 }) });

export const TD_RUN: CommandSpec<TdRun> = {
  kind: 'td_run',
  inertUntil: 'td_create',
  arbitrary: (cfg) =>
    fc.record({
      kind: fc.constant('td_run' as const),
      td: fc.nat({ max: 7 }),
      stores: fc.array(store, { maxLength: 3 }),
      cpu: fc.nat({ max: 255 }),
      fault: tdFault(cfg, ['VP_ENTER']),
    }),
  describe: (c) => `td_run(td #${c.td}, ${c.stores.length} stores, cpu ${c.cpu}${faultText(c.fault)})`,
  issue(env, c) {
    const t = pickTd(env, c.td);
    if (!t) return null;
    const n = pages(env.model, t.id);
    const writes = n === 0 ? [] : c.stores.map((s) => ({ gpa: s.page % n, offset: s.offset, value: s.value }));
    return armed(env, c.fault, kvmTdRun(env.h, cpuOf(c.cpu, env.h.platform.cpus.length), t.td, writes));
  },
  lins: { td_run: (m, op) => exactly(tdRun(m, op.args.td, op.args.writes, op.args.injected !== undefined)) },
};
