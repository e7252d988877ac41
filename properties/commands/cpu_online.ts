// cpu_online: `echo 1 > /sys/devices/system/cpu/cpuN/online`, which runs tdx_online_cpu().
import fc from 'fast-check';
import { cpuUp } from '../../impl/kernel/hotplug.ts';
import { cpuOnline } from '../../model/host.ts';
import { cpuOf, type CommandSpec } from './spec.ts';

export interface CpuOnline {
  readonly kind: 'cpu_online';
  readonly cpu: number;
}

/** A result the contract states as "fails": any non-zero one. */
const nonzero = (allowed: unknown, actual: unknown) => (allowed === 'nonzero' ? actual !== 0 : allowed === actual);

export const CPU_ONLINE: CommandSpec<CpuOnline> = {
  kind: 'cpu_online',
  arbitrary: () => fc.record({ kind: fc.constant('cpu_online' as const), cpu: fc.nat({ max: 255 }) }),
  describe: (c) => `online(cpu ${c.cpu})`,
  issue: ({ h }, c) => cpuUp(h, cpuOf(c.cpu, h.platform.cpus.length)),
  lins: { cpu_online: (m, op) => ({ choices: cpuOnline(m, op.args.cpu), matches: nonzero }) },
  linearizes: true,
};
