// td_finalize: KVM_TDX_FINALIZE_VM, i.e. TDH.MR.FINALIZE.
import fc from 'fast-check';
import { kvmTdFinalize } from '../../impl/kvm/tdx.ts';
import { tdFinalize } from '../../model/td.ts';
import type { TdFaultLeaf } from '../../model/types.ts';
import { cpuOf, exactly, type CommandSpec } from './spec.ts';
import { armed, faultText, pickTd, tdFault } from './td.ts';

export interface TdFinalize {
  readonly kind: 'td_finalize';
  readonly td: number;
  readonly cpu: number;
  readonly fault?: Extract<TdFaultLeaf, 'MR_FINALIZE'> | null;
}

export const TD_FINALIZE: CommandSpec<TdFinalize> = {
  kind: 'td_finalize',
  inertUntil: 'td_create',
  arbitrary: (cfg) =>
    fc.record({ kind: fc.constant('td_finalize' as const), td: fc.nat({ max: 7 }), cpu: fc.nat({ max: 255 }), fault: tdFault(cfg, ['MR_FINALIZE']) }),
  describe: (c) => `td_finalize(td #${c.td}, cpu ${c.cpu}${faultText(c.fault)})`,
  issue(env, c) {
    const t = pickTd(env, c.td);
    return armed(env, c.fault, t && kvmTdFinalize(env.h, cpuOf(c.cpu, env.h.platform.cpus.length), t.td));
  },
  lins: { td_finalize: (m, op) => exactly(tdFinalize(m, op.args.td, op.args.injected !== undefined)) },
};
