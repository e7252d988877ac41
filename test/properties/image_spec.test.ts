// Tests for properties/image_spec.ts (the acceptance predicates of invariant I-15: v1 blob for
// v2, v2 image for the merged kernel) and for properties/images.ts `defectOf`, the model's
// reading of a corruption, as properties over generated images: the predicate accepts every
// image the builder makes and rejects every one the model calls a header defect, and an upload
// of any generated image ends as the contract says its defect must (the whole harness agrees).
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../harness/run.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { corruptBlobV1 } from '../../impl/firmware/image.ts';
import { corruptImageV2 } from '../../impl/firmware/image_v2.ts';
import { COMMANDS } from '../../properties/commands/index.ts';
import { resolveRelease } from '../../properties/commands/upload.ts';
import type { GenConfig } from '../../properties/generators.ts';
import { acceptableBlobV1, acceptableImageV2 } from '../../properties/image_spec.ts';
import { defectOf, imageBytes, modelImage, type ImageRef } from '../../properties/images.ts';
import { UPSTREAM, V2 } from '../../properties/revisions/index.ts';
import { HOST, image, upload } from './helpers.ts';

type Format = 'v1' | 'v2';
const REVISION = { v1: V2, v2: UPSTREAM } as const;
const acceptable = (f: Format, b: Uint8Array): boolean => (f === 'v1' ? acceptableBlobV1(b) : acceptableImageV2(b));

/** Upload images as the generators draw them, of the boot module's family, in the kernel's format. */
function images(format: Format, corruptRate: number): fc.Arbitrary<ImageRef> {
  const cfg: GenConfig = { cpus: 4, maxCommands: 1, maxSchedule: 0, weights: {}, faultRate: 0, corruptRate, imageFormat: format };
  return COMMANDS.upload.arbitrary(cfg).map((c) => ({ ...c.image, release: resolveRelease(c.image.release, HOST.boot.release) }));
}

const PARAMS = { numRuns: 150, seed: 20261130 };

describe.each(['v1', 'v2'] as const)('%s images', (f) => {
  test.prop([images(f, 0)], PARAMS)('the predicate accepts every image the builder makes', (ref) => {
    if (ref.format !== f) return;
    expect(acceptable(f, imageBytes(ref))).toBe(true);
  });

  test.prop([images(f, 1)], PARAMS)('the predicate rejects every image the model calls a header defect', (ref) => {
    const bytes = imageBytes(ref);
    if (ref.format !== f || modelImage(ref, bytes.length, f).defect !== 'header') return;
    expect(acceptable(f, bytes)).toBe(false);
  });

  test.prop([images(f, 0.7)], PARAMS)('an upload ends as its defect says: the model and the emulation agree', (ref) => {
    const commands = [{ kind: 'td_create', cpu: 1 } as const, upload(ref), { kind: 'read_version' } as const, { kind: 'read_error' } as const];
    const r = runScenario({ host: HOST, commands, schedule: [] }, { revision: REVISION[f], bugs: NO_BUGS });
    expect(r.violation).toBeNull();
  });
});

describe("images outside the generators' domain", () => {
  const UNTOUCHED = [
    ['truncate to the full length', (n: number) => ({ kind: 'truncate', length: n }) as const],
    ['truncate past the end', () => ({ kind: 'truncate', length: 1 << 20 }) as const],
  ] as const;
  const corrupt = { v1: corruptBlobV1, v2: corruptImageV2 };
  it.each((['v1', 'v2'] as const).flatMap((f) => UNTOUCHED.map(([n, c]) => [f, n, c] as const)))('%s: %s leaves a well-formed image', (f, _n, c) => {
    const id = imageBytes(image('1.5.08', { format: f }));
    const bytes = corrupt[f](id, c(id.length));
    expect(bytes).toEqual(id);
    expect(acceptable(f, bytes)).toBe(true);
  });
  // The generators draw truncate < 16384; beyond that defectOf calls an untouched image a header
  // defect, where the kernel applies it. Reported as a discrepancy; this flips when it is fixed.
  it.fails.each((['v1', 'v2'] as const).flatMap((f) => UNTOUCHED.map(([n, c]) => [f, n, c] as const)))(
    'known discrepancy: %s defectOf(%s) should be none',
    (f, _n, c) => {
      expect(defectOf(c(imageBytes(image('1.5.08', { format: f })).length), f)).toBe('none');
    },
  );
});
