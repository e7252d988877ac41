// Tests for properties/images.ts's real-module side: real releases registered by SEAMHASH, the
// trust anchors and what a key mismatch means to the model, the share of real-size images, and
// the generator hook that swaps in Intel's blobs (with synthetic stand-ins for the bytes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../impl/firmware/abi.ts';
import { buildBlobV1 } from '../../impl/firmware/image.ts';
import { lookupBuild } from '../../impl/firmware/registry.ts';
import { keyHash } from '../../impl/firmware/sigstruct.ts';
import { INTEL_TEST_KEY_PEM } from '../../impl/firmware/test_key.ts';
import {
  identityOf, imageBytes, modelImage, REAL_SIGSTRUCTS, TRUST_ANCHORS, trustOf, useRealBlobs, usesRealSize, withRealBlobs, type ImageRef,
} from '../../properties/images.ts';
import { RELEASES } from '../../properties/releases.ts';
import { boot } from './helpers.ts';

const REF: ImageRef = { release: '2.0.05', svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false, corruption: null };

describe('real releases', () => {
  it('are registered under their SEAMHASH with the version, features and handoff data version of mapping_file.json', () => {
    for (const r of REAL_SIGSTRUCTS.releases) {
      const b = lookupBuild(r.seamhash)!;
      expect(`${b.version.major}.${b.version.minor}.${String(b.version.update).padStart(2, '0')}`).toBe(r.release);
      expect(b).toMatchObject({ moduleHv: 0, minUpdateHv: 0, noDowngrade: false, numHandoffPages: r.numHandoffPages });
    }
    expect(lookupBuild(REAL_SIGSTRUCTS.releases.find((r) => r.release === '2.0.05')!.seamhash)!.handoffDataVersion).toBe(0x020004);
  });
  it('the trust anchors are Intel\'s key hash and the project\'s test key; a host says which it trusts', () => {
    expect(TRUST_ANCHORS).toEqual({ intel: REAL_SIGSTRUCTS.signerKeySha384, test: keyHash(INTEL_TEST_KEY_PEM) });
    expect(trustOf(boot())).toBe('test');
  });
});

describe('modelImage and the trust anchor', () => {
  // A stand-in for Intel's blob of 2.0.05: the bytes matter less here than who signed them.
  useRealBlobs(new Map([['2.0.05', buildBlobV1(identityOf(REF))]]));
  it('a synthetic image on an Intel-trusting platform is a signature defect, unless the kernel refuses it first', () => {
    expect(modelImage(REF, 0, 'v1', 'intel').defect).toBe('signature');
    expect(modelImage(REF, 0, 'v1', 'test').defect).toBe('none');
    expect(modelImage({ ...REF, corruption: { kind: 'bad_magic' } }, 0, 'v1', 'intel').defect).toBe('header');
  });
  it('a real image on a test-key platform is a signature defect, on an Intel-trusting one it is what its corruption makes it', () => {
    const real = { ...REF, real: true };
    expect(modelImage(real, 0, 'v1', 'test').defect).toBe('signature');
    expect(modelImage(real, 0, 'v1', 'intel').defect).toBe('none');
    expect(modelImage({ ...real, corruption: { kind: 'module_bitflip', byte: 1, bit: 1 } }, 0, 'v1', 'intel').defect).toBe('hash');
  });
  it('a truncation to the full length of a real blob is no defect', () => {
    const real: ImageRef = { ...REF, real: true, corruption: { kind: 'truncate', length: 1 << 30 } };
    expect(modelImage(real, imageBytes(real).length, 'v1', 'intel').defect).toBe('none');
  });
});

describe('real module sizes', () => {
  it('about 1 in 10 identities is built at its release\'s real size (100-150 pages)', () => {
    const refs = RELEASES.flatMap((r) => [-1, 0, 1].flatMap((svnDelta) => [0, 1, 2].map((moduleHv) => ({ ...REF, release: r.version, svnDelta, moduleHv }))));
    const real = refs.filter((r) => usesRealSize(r));
    expect(real.length / refs.length).toBeGreaterThan(0.04);
    expect(real.length / refs.length).toBeLessThan(0.2);
    for (const r of real) expect(identityOf(r).nrPages).toBeGreaterThanOrEqual(100);
    for (const r of real) expect(identityOf(r).nrPages).toBeLessThanOrEqual(150);
    for (const r of refs.filter((x) => !usesRealSize(x))) expect(identityOf(r).nrPages).toBe(2);
    expect(imageBytes(real[0]!).length).toBe(8192 + identityOf(real[0]!).nrPages * PAGE_SIZE);
  });
});

describe('withRealBlobs', () => {
  it('turns about `share` of the drawn images into Intel\'s blob of a loaded release of the same line', () => {
    const synthetic = fc.constantFrom<ImageRef>(REF, { ...REF, release: '1.5.08', svnDelta: 1, corruption: { kind: 'bad_magic' } });
    const refs = fc.sample(withRealBlobs(synthetic, ['2.0.05', '2.0.08'], 0.5), { numRuns: 400, seed: 3 });
    const real = refs.filter((r) => r.real);
    expect(real.length).toBeGreaterThan(60); // half of the 2.0 draws
    for (const r of real) expect(r).toMatchObject({ svnDelta: 0, moduleHv: 0, debug: false, release: expect.stringMatching(/^2\.0\.0[58]$/) });
    expect(refs.filter((r) => r.release.startsWith('1.5')).every((r) => !r.real)).toBe(true);
    expect(fc.sample(withRealBlobs(synthetic, [], 1), { numRuns: 20, seed: 3 }).every((r) => !r.real)).toBe(true);
  });
});
