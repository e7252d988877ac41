// CPU hotplug and the sysfs reads, as the contract sees them.
import type { ModelState } from './state.ts';
import { versionString } from './types.ts';

const EBUSY = -16, ENXIO = -6;

/** Offlining a CPU: the boot CPU cannot go; any other simply goes offline. */
export function cpuOffline(s: ModelState, cpu: number): number {
  if (cpu === 0) return EBUSY;
  s.online[cpu] = false;
  return 0;
}

/**
 * Onlining a CPU: it must be brought up in the TDX module. After a lost update that happens
 * only if the new module reached SYSINIT_DONE; otherwise the CPU stays offline.
 */
export function cpuOnline(s: ModelState, cpu: number): number | 'fails' {
  if (s.online[cpu]) return 0;
  if (s.module.status === 'lost' && !s.module.lpInitWorks) return 'fails';
  s.online[cpu] = true;
  return 0;
}

/** `version`: the running module's version, or -ENXIO once the module is lost. */
export function readVersion(s: ModelState): string | number {
  return s.module.status === 'ready' ? versionString(s.module.spec.version) : ENXIO;
}

/**
 * `seamldr/version` and `seamldr/num_remaining_updates`: P-SEAMLDR outlives a lost module.
 * The merged driver hides them (-ENOENT) on a CPU with the VMCS-clobbering erratum.
 */
export function readSeamldr(s: ModelState, attr: 'version' | 'num_remaining_updates'): string | number {
  if (s.params.vmcsErratumGuard && s.host.erratum) return -2;
  return attr === 'version' ? versionString(s.host.seamldrVersion) : String(s.slots);
}
