// td_create: KVM_TDX_INIT_VM, i.e. TDH.MNG.CREATE, TDH.MNG.KEY.CONFIG, TDH.MNG.INIT.
import fc from 'fast-check';
import { kvmTdInitVm } from '../../impl/kvm/tdx.ts';
import { tdCreate, tdInit, tdKeyConfig } from '../../model/td.ts';
import type { TdFaultLeaf } from '../../model/types.ts';
import { cpuOf, exactly, type CommandSpec } from './spec.ts';
import { armed, faultText, tdFault } from './td.ts';

export interface TdCreate {
  readonly kind: 'td_create';
  readonly cpu: number;
  readonly fault?: Extract<TdFaultLeaf, 'MNG_CREATE' | 'MNG_KEY_CONFIG' | 'MNG_INIT'> | null;
}

export const TD_CREATE: CommandSpec<TdCreate> = {
  kind: 'td_create',
  arbitrary: (cfg) =>
    fc.record({ kind: fc.constant('td_create' as const), cpu: fc.nat({ max: 255 }), fault: tdFault(cfg, ['MNG_CREATE', 'MNG_KEY_CONFIG', 'MNG_INIT']) }),
  describe: (c) => `td_create(cpu ${c.cpu}${faultText(c.fault)})`,
  issue: (env, c) => armed(env, c.fault, kvmTdInitVm(env.h, cpuOf(c.cpu, env.h.platform.cpus.length), env.newTdId())),
  lins: {
    td_create: (m, op) => exactly(tdCreate(m, op.args.td, op.args.injected !== undefined)),
    td_key_config: (m, op) => exactly(tdKeyConfig(m, op.args.td, op.args.injected !== undefined)),
    td_init: (m, op) => exactly(tdInit(m, op.args.td, op.args.injected !== undefined)),
  },
};
