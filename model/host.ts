// CPU hotplug and the sysfs reads of tdx-host, as the contract sees them.
import { only, type Choices } from './allowed.ts';
import { setOnline, type ModelState } from './state.ts';
import { EBUSY, EIO, ENOENT, ENXIO, type Version } from './types.ts';

/** Offlining a CPU: the boot CPU cannot go; any other simply goes offline. */
export function cpuOffline(s: ModelState, cpu: number): number {
  if (cpu === 0) return EBUSY;
  setOnline(s, cpu, false);
  return 0;
}

/**
 * Onlining a CPU brings it up in the TDX module (tdx_online_cpu). After a lost update that
 * works only if the new module got as far as SYSINIT_DONE (spec §3.6).
 */
export function cpuOnline(s: ModelState, cpu: number): Choices<number | 'nonzero'> {
  const up = (t: ModelState) => {
    setOnline(t, cpu, true);
  };
  if (s.online[cpu]) return only(0, 'already online');
  if (s.module.status === 'ready' || s.module.lpInitWorks) return only(0, 'the module brings the CPU up', up);
  return only('nonzero', 'no module can bring the CPU up');
}

/**
 * `version`: the running module's version, or -ENXIO once the module is lost (§4.2, B30); no
 * file (-ENOENT) without a tdx_host device. After a failed re-read (spec §8 B12, accepted merged
 * behaviour) each field may still be the old one.
 */
export function readVersion(s: ModelState): Choices<Version | number> {
  const none = noTdxHostDevice(s);
  if (none) return only(ENOENT, none);
  if (s.module.status !== 'ready') return only(ENXIO, 'the module is lost');
  const { spec, staleVersion } = s.module;
  if (staleVersion === undefined) return only(spec.version, 'the running module');
  const pick = (k: keyof Version) => [...new Set([spec.version[k], staleVersion[k]])];
  return pick('major').flatMap((major) =>
    pick('minor').flatMap((minor) =>
      pick('update').map((update) => ({ result: { major, minor, update }, because: 'the running module, or fields of the old one: the re-read failed' })),
    ),
  );
}

/**
 * Why the host has no update interface (no fw_upload node, no P-SEAMLDR attributes), or null
 * when it has one. Decided at boot, when tdx_host probes, and kept until reboot (spec §2.1, §2.7).
 */
export function noUpdateInterface(s: ModelState): string | null {
  return noTdxHostDevice(s) ?? (s.params.vmcsErratumGuard && s.host.erratum ? 'hidden behind the erratum guard' : null);
}

/** Why there is no tdx_host device (no sysfs file of it at all), or null when there is one (spec §2.2, §2.7). */
function noTdxHostDevice(s: ModelState): string | null {
  // tdx_host_init() gives up when tdx_get_sysinfo() is NULL.
  if (s.host.configFails) return 'TDX did not initialize at boot: no tdx_host device';
  // v2 p08: the probe fails with -EOPNOTSUPP when P-SEAMLDR has no update slot left at boot, and
  // a faux device whose probe fails is not created (v3 stopped failing the whole device).
  if (s.params.slotsPrecheck && s.host.numRemainingUpdates === 0) return 'v2 does not probe without update slots: no tdx_host device';
  return null;
}

/**
 * The P-SEAMLDR attributes (`seamldr/version`, `num_remaining_updates`): P-SEAMLDR outlives a
 * lost module. The merged driver hides them on a CPU with the VMCS-clobbering erratum.
 */
export function readSeamldr(s: ModelState, attr: 'version' | 'num_remaining_updates'): Choices<Version | number> {
  const none = noUpdateInterface(s);
  if (none) return only(ENOENT, none);
  const read =
    attr === 'version' ? only<Version | number>(s.host.seamldrVersion, "P-SEAMLDR's version") : only<Version | number>(s.slots, 'the update slots left');
  // A failed SEAMLDR.INFO propagates as the read's errno (spec §2.2); the fault fires once.
  // The contract does not follow the reader's CPU: while a failure is armed, any read may get it.
  const failed = {
    result: EIO,
    because: 'an injected SEAMLDR.INFO failure',
    next: (t: ModelState) => {
      t.infoFault = null;
    },
  };
  return s.infoFault === null ? read : [...read, failed];
}
