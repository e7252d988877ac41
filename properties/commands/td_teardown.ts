// td_teardown: VM destruction, i.e. TDH.MNG.KEY.FREEID; KVM forgets the TD either way.
import fc from 'fast-check';
import { kvmTdTeardown } from '../../impl/kvm/tdx.ts';
import { tdTeardown } from '../../model/td.ts';
import type { TdFaultLeaf } from '../../model/types.ts';
import { cpuOf, exactly, type CommandSpec } from './spec.ts';
import { armed, faultText, pickTd, tdFault } from './td.ts';

export interface TdTeardown {
  readonly kind: 'td_teardown';
  readonly td: number;
  readonly cpu: number;
  readonly fault?: Extract<TdFaultLeaf, 'MNG_KEY_FREEID'> | null;
}

export const TD_TEARDOWN: CommandSpec<TdTeardown> = {
  kind: 'td_teardown',
  inertUntil: 'td_create',
  arbitrary: (cfg) =>
    fc.record({ kind: fc.constant('td_teardown' as const), td: fc.nat({ max: 7 }), cpu: fc.nat({ max: 255 }), fault: tdFault(cfg, ['MNG_KEY_FREEID']) }),
  describe: (c) => `td_teardown(td #${c.td}, cpu ${c.cpu}${faultText(c.fault)})`,
  issue(env, c) {
    const t = pickTd(env, c.td);
    return armed(env, c.fault, t && kvmTdTeardown(env.h, cpuOf(c.cpu, env.h.platform.cpus.length), t.td));
  },
  lins: { td_teardown: (m, op) => exactly(tdTeardown(m, op.args.td, op.args.injected !== undefined)) },
};
