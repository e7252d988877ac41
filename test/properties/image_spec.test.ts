// Tests for properties/image_spec.ts (the v1 blob acceptance predicate of invariant I-15) and
// for properties/images.ts `defectOf`, the model's reading of each corruption: the predicate
// accepts what buildBlobV1 builds and rejects every corruption defectOf calls 'header'; and,
// run through the whole harness, every corruption kind ends as the model predicts from its
// defect (no violation = they agree).
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../harness/run.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { buildBlobV1, corruptBlobV1, type ImageCorruption } from '../../impl/firmware/image.ts';
import { SIGSTRUCT } from '../../impl/firmware/sigstruct.ts';
import { SEED } from '../../impl/kernel/revision.ts';
import { parseBlobV1 } from '../../impl/kernel/seamldr.ts';
import type { Defect } from '../../model/types.ts';
import { acceptableBlobV1 } from '../../properties/image_spec.ts';
import { defectOf, identityOf, imageBytes } from '../../properties/images.ts';
import { RELEASES } from '../../properties/releases.ts';
import { boot, HOST, image, stageImage, upload } from './helpers.ts';

const VALID = buildBlobV1(identityOf(image('1.5.08')));

/** Every corruption kind with the parameters worth trying; a new kind fails to compile here. */
const CORRUPTIONS: Record<ImageCorruption['kind'], readonly ImageCorruption[]> = {
  truncate: [0, 1, 19, 100, 4095, 4096, 4097, 8191, 8192, 12288, VALID.length - 1].map((length) => ({ kind: 'truncate', length })),
  short_blob: [0, 20, 100, 2048, 4095, 9000].map((length) => ({ kind: 'short_blob', length })),
  bad_checksum: [{ kind: 'bad_checksum' }],
  bad_magic: [{ kind: 'bad_magic' }],
  bad_version: [{ kind: 'bad_version' }],
  bad_length: [{ kind: 'bad_length' }],
  reserved_nonzero: [0, 3, 4, 100, 4075, 4076, -1].map((index) => ({ kind: 'reserved_nonzero', index })),
  sig_size: [0, 2, 3].map((pages) => ({ kind: 'sig_size', pages })),
  module_unaligned: [{ kind: 'module_unaligned' }],
  module_too_big: [{ kind: 'module_too_big' }],
  no_module_pages: [{ kind: 'no_module_pages' }],
  page_count_overflow: [0, 3, -1].map((extra) => ({ kind: 'page_count_overflow', extra })),
  sigstruct_bitflip: [
    [SIGSTRUCT.HEADER_TYPE, 0], [SIGSTRUCT.MODULE_TYPE + 3, 7], [SIGSTRUCT.MODULE_VENDOR, 1], [SIGSTRUCT.DATE, 0],
    [SIGSTRUCT.MODULUS + 10, 3], [SIGSTRUCT.EXPONENT, 0], [SIGSTRUCT.SIGNATURE + 200, 5], [SIGSTRUCT.SEAMHASH, 2],
    [SIGSTRUCT.SEAMSVN, 0], [SIGSTRUCT.MODULE_HV, 0], [SIGSTRUCT.CPUID_TABLE_SIZE, 1], [SIGSTRUCT.CPUID_TABLE, 4],
    [2047, 7], [2048, 0], [3000, 3], [4095, 7], [-1, 0], [4096, 1],
  ].map(([byte, bit]) => ({ kind: 'sigstruct_bitflip', byte: byte!, bit: bit! })),
  module_bitflip: [[0, 0], [5, 1], [4096, 7], [8191, 2], [-1, 3]].map(([byte, bit]) => ({ kind: 'module_bitflip', byte: byte!, bit: bit! })),
  rogue_key: [{ kind: 'rogue_key' }],
};

const ALL: readonly ImageCorruption[] = Object.values(CORRUPTIONS).flat();
const label = (c: ImageCorruption): string => JSON.stringify(c);

/** What the emulated seed kernel's parseBlobV1 says of the bytes (0 = forwarded to P-SEAMLDR). */
function kernelAccepts(bytes: Uint8Array): boolean {
  const h = boot();
  return parseBlobV1(h, stageImage(h, bytes)).ret === 0;
}

describe('acceptableBlobV1', () => {
  it.each(RELEASES.map((r) => [r.version] as const))('accepts the buildBlobV1 blob of %s', (release) => {
    expect(acceptableBlobV1(buildBlobV1(identityOf(image(release))))).toBe(true);
  });
  it('accepts variations a vendor could ship: debug, handoff versions, SEAMSVN, 1 and 496 module pages', () => {
    const base = identityOf(image('1.5.08'));
    for (const id of [
      identityOf(image('1.5.08', { debug: true, moduleHv: 3, minUpdateHv: 1, noDowngrade: false, svnDelta: 2 })),
      { ...base, nrPages: 1 },
      { ...base, nrPages: 496 },
    ]) {
      const blob = buildBlobV1(id);
      expect(acceptableBlobV1(blob)).toBe(true);
      expect(kernelAccepts(blob)).toBe(true);
    }
  });
  it('rejects anything shorter than the header, including the empty image', () => {
    for (const n of [0, 1, 20, 4095]) expect(acceptableBlobV1(VALID.slice(0, n))).toBe(false);
  });
  it.each(ALL.filter((c) => defectOf(c) === 'header').map((c) => [label(c), c] as const))('rejects the header defect %s', (_l, c) => {
    expect(acceptableBlobV1(corruptBlobV1(VALID, c))).toBe(false);
  });
  it.each(ALL.filter((c) => defectOf(c) !== 'header').map((c) => [label(c), c] as const))('lets %s through to P-SEAMLDR (not a header defect)', (_l, c) => {
    expect(acceptableBlobV1(corruptBlobV1(VALID, c))).toBe(true);
  });
  it.each(ALL.map((c) => [label(c), c] as const))('agrees with the emulated seed kernel on %s', (_l, c) => {
    const bytes = corruptBlobV1(VALID, c);
    expect(acceptableBlobV1(bytes)).toBe(kernelAccepts(bytes));
  });
});

/** What the model says must happen to the running module for each defect. */
const EXPECTED: Record<Defect, { status: 'ready' | 'lost'; update: number | null; errorIsEmpty: boolean }> = {
  none: { status: 'ready', update: 8, errorIsEmpty: true },
  header: { status: 'ready', update: 6, errorIsEmpty: false },
  signature: { status: 'lost', update: null, errorIsEmpty: false },
  hash: { status: 'lost', update: null, errorIsEmpty: false },
};

describe('defectOf agrees with what happens when the image is uploaded', () => {
  it.each(ALL.map((c) => [label(c), defectOf(c), c] as const))('%s (%s)', (_l, defect, c) => {
    const ref = image('1.5.08', { corruption: c });
    const r = runScenario(
      { host: HOST, commands: [{ kind: 'td_create', cpu: 1 }, upload(ref), { kind: 'read_version' }, { kind: 'read_error' }], schedule: [] },
      { rev: SEED, bugs: NO_BUGS },
    );
    expect(r.violation).toBeNull();
    if (imageBytes(ref).length === 0) return; // an empty upload starts nothing (spec §4.1 row 0)
    const want = EXPECTED[defect];
    expect(r.model.module.status).toBe(want.status);
    if (r.model.module.status === 'ready') expect(r.model.module.spec.version.update).toBe(want.update);
    expect(r.model.upload.error === '').toBe(want.errorIsEmpty);
  });

  // Outside the generator's domain (properties/generators.ts draws truncate < 16384 and
  // sig_size in {0, 2, 3}) defectOf calls an untouched, well-formed blob a header defect:
  // corruptBlobV1 returns the blob unchanged for truncate >= its length, and sig_size with
  // pages = 1 is the valid layout (see its comment). The kernel applies the image, the model
  // predicts -EINVAL. Reported as a discrepancy; these tests flip when defectOf is fixed.
  const UNTOUCHED = [
    ['truncate to the full length', { kind: 'truncate', length: VALID.length }],
    ['sig_size with one page', { kind: 'sig_size', pages: 1 }],
  ] as const;
  it.each(UNTOUCHED)('%s leaves a well-formed blob the kernel forwards', (_l, c) => {
    const bytes = corruptBlobV1(VALID, c);
    expect(bytes).toEqual(VALID);
    expect(acceptableBlobV1(bytes)).toBe(true);
    expect(kernelAccepts(bytes)).toBe(true);
  });
  it.fails.each(UNTOUCHED)('known discrepancy: defectOf(%s) should be none', (_l, c) => {
    expect(defectOf(c)).toBe('none');
  });
});
