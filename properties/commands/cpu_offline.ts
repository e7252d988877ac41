// cpu_offline: `echo 0 > /sys/devices/system/cpu/cpuN/online`.
import fc from 'fast-check';
import { cpuDown } from '../../impl/kernel/hotplug.ts';
import { cpuOffline } from '../../model/host.ts';
import { cpuOf, exactly, type CommandSpec } from './spec.ts';

export interface CpuOffline {
  readonly kind: 'cpu_offline';
  readonly cpu: number;
}

export const CPU_OFFLINE: CommandSpec<CpuOffline> = {
  kind: 'cpu_offline',
  arbitrary: () => fc.record({ kind: fc.constant('cpu_offline' as const), cpu: fc.nat({ max: 255 }) }),
  describe: (c) => `offline(cpu ${c.cpu})`,
  issue: ({ h }, c) => cpuDown(h, cpuOf(c.cpu, h.platform.cpus.length)),
  lins: { cpu_offline: (m, op) => exactly(cpuOffline(m, op.args.cpu)) },
  linearizes: true,
};
