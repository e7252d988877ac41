// Generators: fast-check arbitraries for scenarios. Every command kind and fault is reachable
// (the coverage table of `npm run verify` shows how often); weights steer towards what the
// properties talk about: full updates, TD builds, faults, interleavings.
import fc from 'fast-check';
import { COMMAND_KINDS, COMMANDS, type Command } from './commands/index.ts';
import { resolveRelease, withRate } from './commands/upload.ts';
import { withRealBlobs } from './images.ts';
import { release, RELEASES } from './releases.ts';
import type { HostData, Scenario } from './scenario.ts';
import { BOOT_FAULT_LEAVES } from '../model/types.ts';

/** How a property shapes its scenarios. */
export interface GenConfig {
  /** CPUs of the emulated platform: a fixed count, or a range to draw from. */
  readonly cpus: number | readonly [number, number];
  readonly maxCommands: number;
  readonly maxSchedule: number;
  /** Relative weights of command kinds (missing = 0). */
  readonly weights: Partial<Record<Command['kind'], number>>;
  /** Chance (0..1) that an upload carries an injected firmware fault, and that its image is corrupt. */
  readonly faultRate: number;
  readonly corruptRate: number;
  /** Chance (0..1) that a TD command carries an injected fault on one of its leaves (default 0). */
  readonly tdFaultRate?: number;
  /** Chance (0..1) that the host boots with a configuration leaf failing (default 0). */
  readonly bootFaultRate?: number;
  /** The format the kernel under test accepts; images mostly come in it (default v1). */
  readonly imageFormat?: 'v1' | 'v2';
  /**
   * Boot modules with UPDATE_COMPAT half of the time: a kernel passing AVOID_COMPAT_SENSITIVE
   * can update nothing else (every older module refuses the flag), so its runs need them.
   */
  readonly compatModules?: boolean;
  /** Releases whose Intel blobs are loaded (`--blobs DIR`): some boots and uploads use them. */
  readonly realReleases?: readonly string[];
}

function hostData(cfg: GenConfig): fc.Arbitrary<HostData> {
  const cpus = typeof cfg.cpus === 'number' ? fc.constant(cfg.cpus) : fc.integer({ min: cfg.cpus[0], max: cfg.cpus[1] });
  const hv = fc.oneof({ weight: 4, arbitrary: fc.constant([0, 0] as const) }, { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 })) });
  return fc
    .record({
      nrCpus: cpus,
      boot: fc
        .record({
          release: cfg.compatModules
            ? fc.oneof(
                fc.constantFrom(...RELEASES.map((r) => r.version)),
                fc.constantFrom(...RELEASES.filter((r) => r.features0 & (1n << 47n)).map((r) => r.version)),
              )
            : fc.constantFrom(...RELEASES.map((r) => r.version)),
          hv,
          noDowngrade: fc.boolean(),
          real: fc.boolean(),
        })
        .map(({ release, hv: [a, b], noDowngrade, real }) =>
          // An Intel blob boots with its real build: handoff versions 0 (every real sigstruct).
          real && cfg.realReleases?.includes(release)
            ? { release, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, real: true }
            : { release, moduleHv: Math.max(a, b), minUpdateHv: Math.min(a, b), noDowngrade: noDowngrade && a === b },
        ),
      // 0: a P-SEAMLDR without update support (v2's probe then fails, and with it tdx_host).
      slots: fc.oneof(
        { weight: 16, arbitrary: fc.integer({ min: 1, max: 3 }) },
        { weight: 4, arbitrary: fc.constant(1) },
        { weight: 1, arbitrary: fc.constant(0) },
      ),
      debugUnlocked: fc.boolean(),
      erratum: withRate(fc.constant(true), 0.05).map((e) => e ?? false),
      platform,
      bootFault: cfg.bootFaultRate ? withRate(fc.constantFrom(...BOOT_FAULT_LEAVES), cfg.bootFaultRate) : fc.constant(null),
    })
    .map(({ platform: p, bootFault, ...h }) => ({ ...h, ...resolvePlatform(h.boot.release, p), ...(bootFault ? { bootFault } : {}) }));
}

/** P-SEAMLDR versions of the real loaders (spec §3.5, mapping_file.json), and a CPU in no module's table. */
const LOADERS = ['1.5.00', '1.5.02', '2.0.00', '2.0.03'];
const CPU_IN_NO_TABLE = 0x50657;

/** A loader and a CPU, drawn as indices and resolved against the boot module (so they shrink apart from it). */
const platform = fc.record({
  loader: fc.nat({ max: LOADERS.length - 1 }),
  cpu: fc.oneof({ weight: 9, arbitrary: fc.record({ entry: fc.nat({ max: 2 }), stepping: fc.nat({ max: 15 }) }) }, { weight: 1, arbitrary: fc.constant(null) }),
});

/** A platform the boot module runs on: a P-SEAMLDR it accepts, a CPU from its CPUID table (or, 1 in 10, from none). */
function resolvePlatform(boot: string, p: { loader: number; cpu: { entry: number; stepping: number } | null }): { seamldr: string; cpu: number } {
  const r = release(boot);
  const ok = LOADERS.filter((l) => r.minSeamldrVersions.some((m) => m.slice(0, 3) === l.slice(0, 3) && m <= l));
  const cpu = p.cpu === null ? CPU_IN_NO_TABLE : (r.cpuids[p.cpu.entry % r.cpuids.length]! & ~0xf) | p.cpu.stepping;
  return { seamldr: ok[p.loader % ok.length]!, cpu };
}

function command(cfg: GenConfig): fc.Arbitrary<Command> {
  const weighted = COMMAND_KINDS.filter((k) => (cfg.weights[k] ?? 0) > 0).map((k) => ({
    weight: cfg.weights[k]!,
    arbitrary: COMMANDS[k].arbitrary(cfg) as fc.Arbitrary<Command>,
  }));
  return fc.oneof(...weighted);
}

export function scenario(cfg: GenConfig): fc.Arbitrary<Scenario> {
  const drawn = fc
    .record({
      host: hostData(cfg),
      commands: fc.array(command(cfg), { minLength: 1, maxLength: cfg.maxCommands, size: 'max' }),
      schedule: fc.array(fc.nat({ max: 15 }), { maxLength: cfg.maxSchedule, size: 'max' }),
    })
    .map(({ host, commands, schedule }) => ({
      host,
      commands: commands.map((c) => (c.kind === 'upload' ? { ...c, image: { ...c.image, release: resolveRelease(c.image.release, host.boot.release) } } : c)),
      schedule,
    }));
  return withRealBlobs(drawn, cfg.realReleases ?? []);
}
