// upload: `loading` 1, `data`, `loading` 0 with an image, as userspace does it; the fw_upload
// worker then runs prepare, write (the update) and poll_complete. The command's response is
// fw_upload_start's; the worker's ops are linearization points of their own.
import fc from 'fast-check';
import type { ImageCorruption } from '../../impl/firmware/image.ts';
import { fwLoad, fwUploadMain } from '../../impl/kernel/fw_upload.ts';
import { spawn } from '../../impl/kernel/sched.ts';
import { FAULT_LEAVES, RDRAND_RETRY_LOOPS, type FaultPlan } from '../../model/types.ts';
import { fwDone, fwLoad as modelFwLoad, fwPrepare, fwWrite, update, type UpdateResult } from '../../model/update.ts';
import type { GenConfig } from '../generators.ts';
import { describeImage, imageBytes, modelImage, trustOf, type ImageRef } from '../images.ts';
import { RELEASES } from '../releases.ts';
import { infoFaultAtUploadStart } from '../faults.ts';
import { exactly, same, type CommandSpec } from './spec.ts';

export interface Upload {
  readonly kind: 'upload';
  readonly image: ImageRef;
  readonly fault: FaultPlan | null;
}

/** `arb` with probability `rate`, else null; null is what it shrinks to. */
export function withRate<T>(arb: fc.Arbitrary<T>, rate: number): fc.Arbitrary<T | null> {
  const some = Math.round(rate * 100);
  return fc.oneof({ weight: 100 - some, arbitrary: fc.constant(null) }, { weight: some, arbitrary: arb });
}

const corruption: fc.Arbitrary<ImageCorruption> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), length: fc.oneof(fc.nat({ max: 64 }), fc.nat({ max: 4095 }), fc.nat({ max: 16383 })) }),
  fc.constantFrom(
    ...(['bad_checksum', 'bad_magic', 'bad_version', 'bad_length', 'module_unaligned', 'module_too_big', 'rogue_key'] as const).map((kind) => ({ kind })),
  ),
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
 * and resolved once the host is known (generators.ts), so host and commands shrink separately.
 */
export function resolveRelease(pick: string, boot: string): string {
  if (!pick.startsWith('@')) return pick;
  const [kind, k] = pick.slice(1).split(':') as [string, string];
  const same = RELEASES.filter((r) => r.version.slice(0, 3) === boot.slice(0, 3) && r.version >= boot);
  const pool = kind === 'same' ? same : RELEASES;
  return pool[Number(k) % pool.length]!.version;
}

function imageRef(cfg: GenConfig): fc.Arbitrary<ImageRef> {
  const native = cfg.imageFormat ?? 'v1',
    other = native === 'v1' ? 'v2' : 'v1';
  return fc
    .record({
      format: fc.oneof({ weight: 12, arbitrary: fc.constant(native) }, { weight: 1, arbitrary: fc.constant(other) }),
      release: fc.oneof(
        { weight: 6, arbitrary: fc.nat({ max: 10 }).map((k) => `@same:${k}`) },
        { weight: 1, arbitrary: fc.nat({ max: 10 }).map((k) => `@any:${k}`) },
      ),
      svnDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1) }),
      hv: fc.oneof({ weight: 4, arbitrary: fc.constant([0, 0] as const) }, { weight: 1, arbitrary: fc.tuple(fc.nat({ max: 2 }), fc.nat({ max: 2 })) }),
      noDowngrade: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      debug: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      corruption: withRate(corruption, cfg.corruptRate),
    })
    .map(({ hv: [a, b], ...r }) => ({ ...r, moduleHv: Math.max(a, b), minUpdateHv: Math.min(a, b), noDowngrade: r.noDowngrade && a === b }));
}

const cpuIndex = fc.nat({ max: 255 });

const faultPlan: fc.Arbitrary<FaultPlan> = fc.oneof(
  // SHUTDOWN, UPDATE and the reads run on the lead CPU only and SYS.INIT on whichever CPU gets there first,
  // so only LP.INIT faults name a CPU.
  fc.record({
    kind: fc.constant('leaf' as const),
    leaf: fc.constantFrom(...FAULT_LEAVES.filter((l) => l !== 'LP_INIT')),
    cpu: fc.constant(null),
  }),
  fc.record({ kind: fc.constant('leaf' as const), leaf: fc.constant('LP_INIT' as const), cpu: withRate(cpuIndex, 0.5) }),
  fc.record({ kind: fc.constant('install' as const), cpu: cpuIndex }),
  // Mostly CPU 0, where the fw_upload worker issues v2's SEAMLDR.INFO precheck.
  fc.record({ kind: fc.constant('seamldr_info' as const), cpu: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: cpuIndex }) }),
  fc.record({ kind: fc.constant('no_entropy' as const), count: fc.integer({ min: 1, max: 2 }) }),
  fc.record({
    kind: fc.constant('tdx_no_entropy' as const),
    count: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: RDRAND_RETRY_LOOPS - 1 }) }, { weight: 1, arbitrary: fc.constant(RDRAND_RETRY_LOOPS) }),
  }),
);

const LEAF_NAME = {
  SHUTDOWN: 'TDH.SYS.SHUTDOWN',
  SYS_INIT: 'TDH.SYS.INIT',
  LP_INIT: 'TDH.SYS.LP.INIT',
  UPDATE: 'TDH.SYS.UPDATE',
  RD_MODULE_HV: 'TDH.SYS.RD(MODULE_HV)',
  RD_MINOR_VERSION: 'TDH.SYS.RD(MINOR_VERSION)',
  RD_MAJOR_VERSION: 'TDH.SYS.RD(MAJOR_VERSION)',
  RD_UPDATE_VERSION: 'TDH.SYS.RD(UPDATE_VERSION)',
} as const;

export function faultString(f: FaultPlan): string {
  switch (f.kind) {
    case 'leaf':
      return `${LEAF_NAME[f.leaf]} fails${f.cpu === null ? '' : ` on cpu ${f.cpu}`}`;
    case 'install':
      return `SEAMLDR.INSTALL fails on cpu ${f.cpu}`;
    case 'no_entropy':
      return `no entropy x${f.count}`;
    case 'tdx_no_entropy':
      return `TDX module no entropy x${f.count}`;
    case 'seamldr_info':
      return `SEAMLDR.INFO fails on cpu ${f.cpu}`;
  }
}

/** The update's errno as the contract states it: exactly, or any non-zero one. */
function errnoMatches(allowed: unknown, actual: unknown): boolean {
  const { errno } = allowed as UpdateResult;
  return errno === 'nonzero' ? actual !== 0 : actual === errno;
}

export const UPLOAD: CommandSpec<Upload> = {
  kind: 'upload',
  needsFw: true,
  arbitrary: (cfg) => fc.record({ kind: fc.constant('upload' as const), image: imageRef(cfg), fault: withRate(faultPlan, cfg.faultRate) }),
  describe: (c) => `upload(${describeImage(c.image)}${c.fault ? `; fault: ${faultString(c.fault)}` : ''})`,
  issue(env, c) {
    const { h } = env,
      fw = h.tdxHost.fw!;
    return (function* () {
      const r = fwLoad(h, fw, imageBytes(c.image));
      if (r === 'started') {
        env.setPendingFault(c.fault);
        const infoFail = infoFaultAtUploadStart(c.fault, h.platform.cpus.length);
        if (infoFail) h.seam.faults = { ...h.seam.faults, infoFail };
        // The worker runs on system_long_wq; CPU 0 is always online.
        spawn(h.sched, 'fw_upload_worker', 0, fwUploadMain(h, fw));
      }
      return r;
    })();
  },
  response: {
    read: false,
    // The platform's trust anchor decides whether the image's signer is one P-SEAMLDR accepts.
    model: (m, c, env) => ({
      choices: modelFwLoad(m, modelImage(c.image, imageBytes(c.image).length, env.revision.checks.imageFormat, trustOf(env.h)), c.fault),
      matches: same,
    }),
  },
  lins: {
    fw_prepare: (m) => exactly(fwPrepare(m)),
    fw_write: (m) => exactly(fwWrite(m)),
    update: (m) => ({ choices: update(m), matches: errnoMatches }),
    fw_done: (m) => exactly(fwDone(m)),
  },
};
