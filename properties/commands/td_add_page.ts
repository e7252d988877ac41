// td_add_page: KVM_TDX_INIT_MEM_REGION with MEASURE, i.e. TDH.MEM.PAGE.ADD then TDH.MR.EXTEND,
// at the TD's next free guest page.
import fc from 'fast-check';
import { kvmTdAddPage } from '../../impl/kvm/tdx.ts';
import { tdExtend, tdPageAdd } from '../../model/td.ts';
import type { TdFaultLeaf } from '../../model/types.ts';
import { cpuOf, exactly, type CommandSpec } from './spec.ts';
import { armed, faultText, fillOf, pageContent, pages, pickTd, tdFault } from './td.ts';

export interface TdAddPage {
  readonly kind: 'td_add_page';
  readonly td: number;
  readonly fill: number;
  readonly cpu: number;
  readonly fault?: Extract<TdFaultLeaf, 'MEM_PAGE_ADD' | 'MR_EXTEND'> | null;
}

export const TD_ADD_PAGE: CommandSpec<TdAddPage> = {
  kind: 'td_add_page',
  inertUntil: 'td_create',
  arbitrary: (cfg) =>
    fc.record({
      kind: fc.constant('td_add_page' as const),
      td: fc.nat({ max: 7 }),
      fill: fc.nat({ max: 255 }),
      cpu: fc.nat({ max: 255 }),
      fault: tdFault(cfg, ['MEM_PAGE_ADD', 'MR_EXTEND']),
    }),
  describe: (c) => `td_add_page(td #${c.td}, fill ${c.fill}, cpu ${c.cpu}${faultText(c.fault)})`,
  issue(env, c) {
    const t = pickTd(env, c.td);
    return armed(env, c.fault, t && kvmTdAddPage(env.h, cpuOf(c.cpu, env.h.platform.cpus.length), t.td, pages(env.model, t.id), pageContent(c.fill)));
  },
  lins: {
    td_page_add: (m, op) => exactly(tdPageAdd(m, op.args.td, op.args.gpa, fillOf(op.args.content), op.args.injected !== undefined)),
    td_extend: (m, op) => exactly(tdExtend(m, op.args.td, op.args.gpa, op.args.injected !== undefined)),
  },
};
