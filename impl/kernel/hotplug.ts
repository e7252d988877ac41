// CPU hotplug as the update path sees it: cpu_down/cpu_up take the hotplug lock for writing,
// so they wait while seamldr_install_module holds cpus_read_lock() (spec §3.6), and onlining
// runs the TDX online callback.
// Mirrors: kernel/cpu.c (_cpu_down/_cpu_up, cpus_write_lock) and tdx_online_cpu() in
// arch/x86/virt/vmx/tdx/tdx.c.
import { EBUSY } from './errno.ts';
import { wait, type Yield } from './sched.ts';
import { tdxCpuEnable } from './tdx.ts';
import type { Host } from '../host.ts';

function* cpusWriteLock(h: Host): Generator<Yield, void, void> {
  // Stryker disable next-line StringLiteral: the label only names the point in the timeline
  yield wait(() => h.platform.hotplugReaders === 0, 'cpus_write_lock', h.platform.hotplugWriter);
}

/** `echo 0 > /sys/devices/system/cpu/cpuN/online`. CPU 0 cannot be offlined (x86 BSP). */
export function* cpuDown(h: Host, cpu: number): Generator<Yield, void, void> {
  yield* cpusWriteLock(h);
  const c = h.platform.cpus[cpu]!;
  const ret = cpu === 0 ? -EBUSY : 0;
  if (ret === 0) c.online = false;
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  h.trace.push({ kind: 'hotplug', cpu, online: false, ret });
  yield { kind: 'lin', op: { name: 'cpu_offline', args: { cpu } }, result: ret };
}

/** `echo 1 > .../online`: tdx_online_cpu() must bring the LP up in the TDX module, or the CPU stays down. */
export function* cpuUp(h: Host, cpu: number): Generator<Yield, void, void> {
  yield* cpusWriteLock(h);
  const c = h.platform.cpus[cpu]!;
  const ret = c.online ? 0 : yield* tdxCpuEnable(h, cpu);
  if (ret === 0) c.online = true;
  // Stryker disable next-line all: the invariants' probe (h.trace), not kernel behaviour
  h.trace.push({ kind: 'hotplug', cpu, online: true, ret });
  yield { kind: 'lin', op: { name: 'cpu_online', args: { cpu } }, result: ret };
}
