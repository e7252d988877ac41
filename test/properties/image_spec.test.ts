// Tests for properties/image_spec.ts (the acceptance predicates of invariant I-15: v1 blob for
// the seed, v2 image for the merged kernel) and for properties/images.ts `defectOf`, the
// model's reading of each corruption: a predicate accepts what the builder builds and rejects
// every corruption defectOf calls 'header'; and, run through the whole harness, every
// corruption kind ends as the model predicts from its defect (no violation = they agree).
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../harness/run.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { buildBlobV1, corruptBlobV1, type ImageCorruption } from '../../impl/firmware/image.ts';
import { buildImageV2, corruptImageV2 } from '../../impl/firmware/image_v2.ts';
import { SIGSTRUCT } from '../../impl/firmware/sigstruct.ts';
import { V2, UPSTREAM, type Revision } from '../../impl/kernel/revision.ts';
import { parseBlobV1, parseImageV2 } from '../../impl/kernel/seamldr.ts';
import type { Defect } from '../../model/types.ts';
import { acceptableBlobV1, acceptableImageV2 } from '../../properties/image_spec.ts';
import { defectOf, identityOf, imageBytes, type ImageRef } from '../../properties/images.ts';
import { RELEASES } from '../../properties/releases.ts';
import { boot, HOST, image, stageImage, upload } from './helpers.ts';

type Format = 'v1' | 'v2';

const ID = identityOf(image('1.5.08'));
const VALID: Record<Format, Uint8Array> = { v1: buildBlobV1(ID), v2: buildImageV2(ID) };
const corrupt = (f: Format, c: ImageCorruption): Uint8Array => (f === 'v1' ? corruptBlobV1(VALID.v1, c) : corruptImageV2(VALID.v2, c));
const acceptable = (f: Format, b: Uint8Array): boolean => (f === 'v1' ? acceptableBlobV1(b) : acceptableImageV2(b));

/** Every corruption kind with the parameters worth trying; a new kind fails to compile here. */
const CORRUPTIONS: Record<ImageCorruption['kind'], readonly ImageCorruption[]> = {
  truncate: [0, 1, 19, 100, 4095, 4096, 4097, 8191, 8192, 12288, VALID.v1.length - 1].map((length) => ({ kind: 'truncate', length })),
  short_blob: [0, 20, 100, 2048, 4095, 9000].map((length) => ({ kind: 'short_blob', length })),
  bad_checksum: [{ kind: 'bad_checksum' }],
  bad_magic: [{ kind: 'bad_magic' }],
  bad_version: [{ kind: 'bad_version' }],
  bad_length: [{ kind: 'bad_length' }],
  reserved_nonzero: [0, 3, 4, 100, 4075, 4076, -1].map((index) => ({ kind: 'reserved_nonzero', index })),
  sig_size: [0, 1, 2, 3].map((pages) => ({ kind: 'sig_size', pages })),
  module_unaligned: [{ kind: 'module_unaligned' }],
  module_too_big: [{ kind: 'module_too_big' }],
  no_module_pages: [{ kind: 'no_module_pages' }],
  page_count_overflow: [0, -1].map((extra) => ({ kind: 'page_count_overflow', extra })),
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
const FORMATS: readonly Format[] = ['v1', 'v2'];
const cases = (pred: (f: Format, c: ImageCorruption) => boolean) =>
  FORMATS.flatMap((f) => ALL.filter((c) => pred(f, c)).map((c) => [f, JSON.stringify(c), c] as const));

/** What the emulated kernel's parser says of the bytes (0 = forwarded to P-SEAMLDR). */
function kernelAccepts(f: Format, bytes: Uint8Array): boolean {
  const h = boot();
  const buf = stageImage(h, bytes);
  return (f === 'v1' ? parseBlobV1(h, buf) : parseImageV2(h, buf)).ret === 0;
}

describe('the acceptance predicates', () => {
  it.each(RELEASES.flatMap((r) => FORMATS.map((f) => [f, r.version] as const)))('%s accepts the well-formed image of %s', (f, release) => {
    const id = identityOf(image(release));
    expect(acceptable(f, f === 'v1' ? buildBlobV1(id) : buildImageV2(id))).toBe(true);
  });
  it.each(FORMATS)('%s accepts what a vendor could ship: debug, handoff versions, SEAMSVN, 1 and 496 module pages', (f) => {
    for (const id of [
      identityOf(image('1.5.08', { debug: true, moduleHv: 3, minUpdateHv: 1, noDowngrade: false, svnDelta: 2 })),
      { ...ID, nrPages: 1 },
      { ...ID, nrPages: 496 },
    ]) {
      const bytes = f === 'v1' ? buildBlobV1(id) : buildImageV2(id);
      expect(acceptable(f, bytes)).toBe(true);
      expect(kernelAccepts(f, bytes)).toBe(true);
    }
  });
  it.each(FORMATS)('%s rejects anything shorter than the header, including the empty image', (f) => {
    for (const n of [0, 1, 20, 4095]) expect(acceptable(f, VALID[f].slice(0, n))).toBe(false);
  });
  it('each predicate rejects the other format', () => {
    expect(acceptableBlobV1(VALID.v2)).toBe(false);
    expect(acceptableImageV2(VALID.v1)).toBe(false);
  });
  it.each(cases((f, c) => defectOf(c, f) === 'header'))('%s rejects the header defect %s', (f, _l, c) => {
    expect(acceptable(f, corrupt(f, c))).toBe(false);
  });
  it.each(cases((f, c) => defectOf(c, f) !== 'header'))('%s lets %s through to P-SEAMLDR', (f, _l, c) => {
    expect(acceptable(f, corrupt(f, c))).toBe(true);
  });
  it.each(cases(() => true))('%s agrees with the emulated kernel on %s', (f, _l, c) => {
    const bytes = corrupt(f, c);
    expect(acceptable(f, bytes)).toBe(kernelAccepts(f, bytes));
  });
});

/** What the model says must happen to the running module for each defect. */
const EXPECTED: Record<Defect, { status: 'ready' | 'lost'; update: number | null; errorIsEmpty: boolean }> = {
  none: { status: 'ready', update: 8, errorIsEmpty: true },
  header: { status: 'ready', update: 6, errorIsEmpty: false },
  signature: { status: 'lost', update: null, errorIsEmpty: false },
  hash: { status: 'lost', update: null, errorIsEmpty: false },
};

const KERNEL: Record<Format, Revision> = { v1: V2, v2: UPSTREAM };

function uploadOnce(ref: ImageRef, rev: Revision) {
  return runScenario(
    { host: HOST, commands: [{ kind: 'td_create', cpu: 1 }, upload(ref), { kind: 'read_version' }, { kind: 'read_error' }], schedule: [] },
    { rev, bugs: NO_BUGS },
  );
}

describe('defectOf agrees with what happens when the image is uploaded', () => {
  it.each(cases(() => true).map(([f, l, c]) => [f, l, defectOf(c, f), c] as const))('%s %s (%s)', (f, _l, defect, c) => {
    const ref = image('1.5.08', { format: f, corruption: c });
    const r = uploadOnce(ref, KERNEL[f]);
    expect(r.violation).toBeNull();
    if (imageBytes(ref).length === 0) return; // an empty upload starts nothing (spec §4.1 row 0)
    const want = EXPECTED[defect];
    expect(r.model.module.status).toBe(want.status);
    if (r.model.module.status === 'ready') expect(r.model.module.spec.version.update).toBe(want.update);
    expect(r.model.upload.error === '').toBe(want.errorIsEmpty);
  });
  it.each([['v1 blob on the merged kernel', 'v1', UPSTREAM], ['v2 image on the seed kernel', 'v2', V2]] as const)('a %s is a header defect: refused, nothing changes', (_n, f, rev) => {
    const r = uploadOnce(image('1.5.08', { format: f }), rev);
    expect(r.violation).toBeNull();
    expect(r.model.module).toMatchObject({ status: 'ready', spec: { version: { update: 6 } } });
  });

  const UNTOUCHED = [
    ['truncate to the full length', { kind: 'truncate', length: VALID.v1.length }],
    ['truncate past the end', { kind: 'truncate', length: 1 << 20 }],
  ] as const;
  it.each(FORMATS.flatMap((f) => UNTOUCHED.map(([n, c]) => [f, n, c] as const)))('%s: %s leaves a well-formed image the kernel forwards', (f, _n, c) => {
    const bytes = corrupt(f, c);
    expect(bytes).toEqual(VALID[f]);
    expect(acceptable(f, bytes)).toBe(true);
    expect(kernelAccepts(f, bytes)).toBe(true);
  });
  // Outside the generator's domain (properties/generators.ts draws truncate < 16384) defectOf
  // calls an untouched, well-formed image a header defect: the kernel applies it while the
  // model predicts -EINVAL. Reported as a discrepancy; this flips when defectOf is fixed.
  it.fails.each(FORMATS.flatMap((f) => UNTOUCHED.map(([n, c]) => [f, n, c] as const)))('known discrepancy: %s defectOf(%s) should be none', (f, _n, c) => {
    expect(defectOf(c, f)).toBe('none');
  });
});
