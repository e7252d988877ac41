// CPU hotplug and the sysfs reads of tdx-host, as the contract sees them.
import { only, type Choices } from './allowed.ts';
import type { ModelState } from './state.ts';
import { EBUSY, ENOENT, ENXIO, type Version } from './types.ts';

/** Offlining a CPU: the boot CPU cannot go; any other simply goes offline. */
export function cpuOffline(s: ModelState, cpu: number): number {
  if (cpu === 0) return EBUSY;
  s.online[cpu] = false;
  return 0;
}

/**
 * Onlining a CPU brings it up in the TDX module (tdx_online_cpu). After a lost update that
 * works only if the new module got as far as SYSINIT_DONE (spec §3.6).
 */
export function cpuOnline(s: ModelState, cpu: number): Choices<number | 'nonzero'> {
  const up = (t: ModelState) => {
    t.online[cpu] = true;
  };
  if (s.online[cpu]) return only(0, 'already online');
  if (s.module.status === 'ready' || s.module.lpInitWorks) return only(0, 'the module brings the CPU up', up);
  return only('nonzero', 'no module can bring the CPU up');
}

/** `version`: the running module's version, or -ENXIO once the module is lost (§4.2, B30). */
export function readVersion(s: ModelState): Choices<Version | number> {
  return s.module.status === 'ready' ? only(s.module.spec.version, 'the running module') : only(ENXIO, 'the module is lost');
}

/**
 * The P-SEAMLDR attributes (`seamldr/version`, `num_remaining_updates`): P-SEAMLDR outlives a
 * lost module. The merged driver hides them on a CPU with the VMCS-clobbering erratum.
 */
export function readSeamldr(s: ModelState, attr: 'version' | 'num_remaining_updates'): Choices<Version | number> {
  if (s.params.vmcsErratumGuard && s.host.erratum) return only(ENOENT, 'hidden behind the erratum guard');
  return attr === 'version' ? only(s.host.seamldrVersion, "P-SEAMLDR's version") : only(s.slots, 'the update slots left');
}
