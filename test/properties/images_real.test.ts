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
  identityOf,
  imageBytes,
  modelImage,
  REAL_SIGSTRUCTS,
  TRUST_ANCHORS,
  trustOf,
  useRealBlobs,
  usesRealSize,
  withRealBlobs,
  type ImageRef,
} from '../../properties/images.ts';
import { RELEASES } from '../../properties/releases.ts';
import type { Command } from '../../properties/commands/index.ts';
import type { Scenario } from '../../properties/scenario.ts';
import { boot, HOST } from './helpers.ts';

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
  it("the trust anchors are Intel's key hash and the project's test key; a host says which it trusts", () => {
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
  it("about 1 in 10 identities is built at its release's real size (100-150 pages)", () => {
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
  const upload = (image: ImageRef): Command => ({ kind: 'upload', image, fault: null });
  const scenarios = fc.constant<Scenario>({
    host: HOST,
    commands: [
      upload(REF),
      upload({ ...REF, release: '1.5.08', svnDelta: 1, corruption: { kind: 'bad_magic' } }),
      { kind: 'read_version' },
      upload({ ...REF, release: '2.0.02' }),
    ],
    schedule: [],
  });
  it("turns about `share` of the uploads into Intel's blob of the nearest loaded release of their line", () => {
    const drawn = fc.sample(withRealBlobs(scenarios, ['2.0.05', '2.0.08'], 0.5), { numRuns: 200, seed: 3 }).flatMap((s) => s.commands);
    const images = drawn.flatMap((c) => (c.kind === 'upload' ? [c.image] : []));
    const real = images.filter((r) => r.real);
    expect(real.length).toBeGreaterThan(100); // half of the 2.0 uploads (400)
    expect(real.length).toBeLessThan(300);
    for (const r of real) expect(r).toMatchObject({ svnDelta: 0, moduleHv: 0, debug: false, release: '2.0.05' });
    expect(images.filter((r) => r.release.startsWith('1.5')).every((r) => !r.real)).toBe(true);
    expect(drawn.filter((c) => c.kind === 'read_version')).toHaveLength(200);
  });
  it('changes nothing when no blobs are loaded', () => {
    expect(
      fc
        .sample(withRealBlobs(scenarios, [], 1), { numRuns: 20, seed: 3 })
        .flatMap((s) => s.commands)
        .every((c) => c.kind !== 'upload' || !c.image.real),
    ).toBe(true);
  });
});
