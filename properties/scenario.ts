// A scenario is data: the host to boot, the commands, and the interleaving choices. It is
// what the generators draw, what shrinks, and what the regression corpus stores.
import type { ModuleIdentity } from '../impl/firmware/types.ts';
import type { HostConfig } from '../impl/host.ts';
import type { HostSpec } from '../model/state.ts';
import type { BootFaultLeaf } from '../model/types.ts';
import type { Command } from './commands/index.ts';
import { bootFaultOf } from './faults.ts';
import { identityOf, moduleSpecOf, realHostConfig } from './images.ts';
import { parseVersion, PLATFORM_FMS } from './releases.ts';

export interface HostData {
  readonly nrCpus: number;
  /** The boot module: a release of the platform's family, with its handoff versions. */
  readonly boot: {
    readonly release: string;
    readonly moduleHv: number;
    readonly minUpdateHv: number;
    readonly noDowngrade: boolean;
    /** Intel's blob of the release (`--blobs DIR`), on a platform that trusts Intel's key. */
    readonly real?: boolean;
  };
  readonly slots: number;
  readonly debugUnlocked: boolean;
  /** X86_BUG_SEAMRET_INVD_VMCS on this platform. */
  readonly erratum?: boolean;
  /** The P-SEAMLDR version; `<family>.00` when absent. */
  readonly seamldr?: string;
  /** CPUID(1).EAX of the platform's CPUs; the family's usual part when absent. */
  readonly cpu?: number;
  /** A configuration leaf that fails at boot (injected): TDX never comes up. */
  readonly bootFault?: BootFaultLeaf | null;
}

export interface Scenario {
  readonly host: HostData;
  readonly commands: readonly Command[];
  /** Which runnable task steps next, at each point where more than one could (see harness/run.ts). */
  readonly schedule: readonly number[];
  /**
   * The same, by name: the task each decision picks (`cmd2:upload`, `stopper/1`) or `issue`
   * (the next command). A corpus entry records this form, which survives a change in the order
   * the runner lists its options; when present it is followed and `schedule` is not.
   */
  readonly picks?: readonly string[];
}

function family(h: HostData): '1.5' | '2.0' {
  return h.boot.release.startsWith('2.0') ? '2.0' : '1.5';
}

function bootIdentity(h: HostData): ModuleIdentity {
  return identityOf({ ...h.boot, svnDelta: 0, debug: false });
}

export function hostConfig(h: HostData): HostConfig {
  const c: HostConfig = {
    nrCpus: h.nrCpus,
    cpuFms: h.cpu ?? PLATFORM_FMS[family(h)],
    boot: bootIdentity(h),
    seamldrVersion: parseVersion(h.seamldr ?? family(h) + '.00'),
    numRemainingUpdates: h.slots,
    debugUnlocked: h.debugUnlocked,
    erratum: h.erratum ?? false,
    ...(h.bootFault ? { bootFault: bootFaultOf(h.bootFault) } : {}),
  };
  return h.boot.real ? realHostConfig(c, h.boot.release) : c;
}

export function hostSpec(h: HostData): HostSpec {
  const c = hostConfig(h);
  const { bootFault: _, ...rest } = c;
  return { ...rest, boot: moduleSpecOf(c.boot), erratum: h.erratum ?? false, configFails: Boolean(h.bootFault) };
}
