// Logical CPUs and the CPU-hotplug lock. Mirrors: kernel/cpu.c (cpus_read_lock,
// cpu_device_up/down) at the level the update path relies on.

export interface Cpu {
  readonly id: number;
  online: boolean;
}

export interface Platform {
  readonly cpus: Cpu[];
  /** cpus_read_lock() holders; hotplug (the writer) waits until this is 0 (kernel/cpu.c). */
  hotplugReaders: number;
  /** cpu_hotplug_lock.writer, the rcuwait cpus_write_lock() sleeps on; cpus_read_unlock() wakes it. */
  readonly hotplugWriter: { gen: number };
  /** CPUID(1).EAX of every CPU (one family/model/stepping per platform). */
  readonly cpuFms: number;
  /** X86_BUG_SEAMRET_INVD_VMCS: set at boot when IA32_VMX_BASIC bit 60 is clear (spec §3.1). */
  readonly erratumSeamretInvdVmcs: boolean;
}

export function createPlatform(nrCpus: number, cpuFms: number, erratum = false): Platform {
  const cpus: Cpu[] = [];
  for (let id = 0; id < nrCpus; id++) cpus.push({ id, online: true });
  return { cpus, hotplugReaders: 0, hotplugWriter: { gen: 0 }, cpuFms, erratumSeamretInvdVmcs: erratum };
}

export function onlineCpus(p: Platform): number[] {
  return p.cpus.filter((c) => c.online).map((c) => c.id);
}

export function numOnlineCpus(p: Platform): number {
  let n = 0;
  for (const c of p.cpus) if (c.online) n++;
  return n;
}
