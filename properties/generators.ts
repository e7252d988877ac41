// Generators: fast-check arbitraries for scenarios. Every command kind and fault is reachable
// (the coverage table of `npm run verify` shows how often); weights steer towards what the
// properties talk about: full updates, TD builds, faults, interleavings.
import fc from 'fast-check';
import type { ImageCorruption } from '../impl/firmware/image.ts';
import type { FaultPlan } from '../model/types.ts';
import type { Command, GuestStore } from './commands.ts';
import type { ImageRef } from './images.ts';
import { RELEASES } from './releases.ts';
import type { HostData, Scenario } from './scenario.ts';

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
  /** The format the kernel under test accepts; images mostly come in it (default v1). */
  readonly imageFormat?: 'v1' | 'v2';
  /**
   * Boot modules with UPDATE_COMPAT half of the time: a kernel passing AVOID_COMPAT_SENSITIVE
   * can update nothing else (every older module refuses the flag), so its runs need them.
   */
  readonly compatModules?: boolean;
}

const cpuIndex = fc.nat({ max: 255 });

/** `arb` with probability `rate`, else null; null is what it shrinks to. */
function withRate<T>(arb: fc.Arbitrary<T>, rate: number): fc.Arbitrary<T | null> {
  const some = Math.round(rate * 100);
  return fc.oneof({ weight: 100 - some, arbitrary: fc.constant(null) }, { weight: some, arbitrary: arb });
}

function hostData(cfg: GenConfig): fc.Arbitrary<HostData> {
  const cpus = typeof cfg.cpus === 'number' ? fc.constant(cfg.cpus) : fc.integer({ min: cfg.cpus[0], max: cfg.cpus[1] });
  const hv = fc.oneof({ weight: 4, arbitrary: fc.constant([0, 0] as const) }, { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 })) });
  return fc.record({
    nrCpus: cpus,
    boot: fc.record({
      release: cfg.compatModules
        ? fc.oneof(fc.constantFrom(...RELEASES.map((r) => r.version)), fc.constantFrom(...RELEASES.filter((r) => r.features0 & (1n << 47n)).map((r) => r.version)))
        : fc.constantFrom(...RELEASES.map((r) => r.version)),
      hv,
      noDowngrade: fc.boolean(),
    }).map(({ release, hv: [a, b], noDowngrade }) => ({ release, moduleHv: Math.max(a, b), minUpdateHv: Math.min(a, b), noDowngrade: noDowngrade && a === b })),
    slots: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.constant(1) }),
    debugUnlocked: fc.boolean(),
    erratum: withRate(fc.constant(true), 0.05).map((e) => e ?? false),
  });
}

const corruption: fc.Arbitrary<ImageCorruption> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), length: fc.oneof(fc.nat({ max: 64 }), fc.nat({ max: 4095 }), fc.nat({ max: 16383 })) }),
  fc.constantFrom(...(['bad_checksum', 'bad_magic', 'bad_version', 'bad_length', 'module_unaligned', 'module_too_big', 'rogue_key'] as const).map((kind) => ({ kind }))),
  fc.record({ kind: fc.constant('reserved_nonzero' as const), index: fc.nat({ max: 4075 }) }),
  fc.record({ kind: fc.constant('short_blob' as const), length: fc.nat({ max: 4095 }) }),
  fc.record({ kind: fc.constant('sig_size' as const), pages: fc.constantFrom(0, 2, 3) }),
  fc.constant({ kind: 'no_module_pages' as const }),
  fc.record({ kind: fc.constant('page_count_overflow' as const), extra: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('sigstruct_bitflip' as const), byte: fc.nat({ max: 4095 }), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('module_bitflip' as const), byte: fc.nat({ max: 8191 }), bit: fc.nat({ max: 7 }) }),
);

/**
 * The release of an uploaded image is drawn relative to the boot module ('@same:k': the k-th
 * z-stream at or above it, as the selection tool would pick, spec §3.5; '@any:k': any release)
 * and resolved once the host is known. Drawing host and commands independently (no chain)
 * lets fast-check shrink the CPU count and the commands separately.
 */
function resolveRelease(pick: string, boot: string): string {
  const [kind, k] = pick.slice(1).split(':') as [string, string];
  const same = RELEASES.filter((r) => r.version.slice(0, 3) === boot.slice(0, 3) && r.version >= boot);
  const pool = kind === 'same' ? same : RELEASES;
  return pool[Number(k) % pool.length]!.version;
}

function imageRef(cfg: GenConfig): fc.Arbitrary<ImageRef> {
  const native = cfg.imageFormat ?? 'v1', other = native === 'v1' ? 'v2' : 'v1';
  return fc.record({
    format: fc.oneof({ weight: 12, arbitrary: fc.constant(native) }, { weight: 1, arbitrary: fc.constant(other) }),
    release: fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 10 }).map((k) => `@same:${k}`) }, { weight: 1, arbitrary: fc.nat({ max: 10 }).map((k) => `@any:${k}`) }),
    svnDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1) }),
    hv: fc.oneof({ weight: 4, arbitrary: fc.constant([0, 0] as const) }, { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 })) }),
    noDowngrade: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    debug: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    corruption: withRate(corruption, cfg.corruptRate),
  }).map(({ hv: [a, b], ...r }) => ({ ...r, moduleHv: Math.max(a, b), minUpdateHv: Math.min(a, b), noDowngrade: r.noDowngrade && a === b }));
}

const faultPlan: fc.Arbitrary<FaultPlan> = fc.oneof(
  // SHUTDOWN and UPDATE run on the lead CPU only and SYS.INIT on whichever CPU gets there first,
  // so only LP.INIT faults name a CPU.
  fc.record({ kind: fc.constant('leaf' as const), leaf: fc.constantFrom('SHUTDOWN' as const, 'SYS_INIT' as const, 'UPDATE' as const), cpu: fc.constant(null) }),
  fc.record({ kind: fc.constant('leaf' as const), leaf: fc.constant('LP_INIT' as const), cpu: withRate(cpuIndex, 0.5) }),
  fc.record({ kind: fc.constant('install' as const), cpu: cpuIndex }),
  fc.record({ kind: fc.constant('no_entropy' as const), count: fc.integer({ min: 1, max: 2 }) }),
);

const store: fc.Arbitrary<GuestStore> = fc.record({ page: fc.nat({ max: 7 }), offset: fc.nat({ max: 4095 }), value: fc.nat({ max: 255 }) });

function command(cfg: GenConfig): fc.Arbitrary<Command> {
  const td = fc.nat({ max: 7 });
  const arbs: Record<Command['kind'], fc.Arbitrary<Command>> = {
    upload: fc.record({
      kind: fc.constant('upload' as const),
      image: imageRef(cfg),
      fault: withRate(faultPlan, cfg.faultRate),
    }),
    cancel: fc.constant({ kind: 'cancel' as const }),
    read_error: fc.constant({ kind: 'read_error' as const }),
    read_version: fc.constant({ kind: 'read_version' as const }),
    read_seamldr: fc.record({ kind: fc.constant('read_seamldr' as const), attr: fc.constantFrom('version' as const, 'num_remaining_updates' as const), cpu: cpuIndex }),
    cpu_offline: fc.record({ kind: fc.constant('cpu_offline' as const), cpu: cpuIndex }),
    cpu_online: fc.record({ kind: fc.constant('cpu_online' as const), cpu: cpuIndex }),
    td_create: fc.record({ kind: fc.constant('td_create' as const), cpu: cpuIndex }),
    td_add_page: fc.record({ kind: fc.constant('td_add_page' as const), td, fill: fc.nat({ max: 255 }), cpu: cpuIndex }),
    td_finalize: fc.record({ kind: fc.constant('td_finalize' as const), td, cpu: cpuIndex }),
    td_run: fc.record({ kind: fc.constant('td_run' as const), td, stores: fc.array(store, { maxLength: 3 }), cpu: cpuIndex }),
    td_teardown: fc.record({ kind: fc.constant('td_teardown' as const), td, cpu: cpuIndex }),
  };
  const weighted = Object.entries(cfg.weights)
    .filter(([, w]) => (w ?? 0) > 0)
    .map(([k, w]) => ({ weight: w!, arbitrary: arbs[k as Command['kind']] }));
  return fc.oneof(...weighted);
}

export function scenario(cfg: GenConfig): fc.Arbitrary<Scenario> {
  return fc.record({
    host: hostData(cfg),
    commands: fc.array(command(cfg), { minLength: 1, maxLength: cfg.maxCommands, size: 'max' }),
    schedule: fc.array(fc.nat({ max: 15 }), { maxLength: cfg.maxSchedule, size: 'max' }),
  }).map(({ host, commands, schedule }) => ({
    host,
    commands: commands.map((c) => (c.kind === 'upload' ? { ...c, image: { ...c.image, release: resolveRelease(c.image.release, host.boot.release) } } : c)),
    schedule,
  }));
}
