// Tests for impl/firmware/registry.ts: builds by SEAMHASH and which handoff data a build imports.
import { describe, expect, it } from 'vitest';
import { canImportHandoff, handoffDataVersionOf, lookupBuild, registerBuild, type ModuleBuild } from '../../../impl/firmware/registry.ts';

const build = (v: string): ModuleBuild => {
  const [major, minor, update] = v.split('.').map(Number) as [number, number, number];
  return {
    version: { major, minor, update },
    moduleHv: 0,
    minUpdateHv: 0,
    noDowngrade: false,
    numHandoffPages: 24,
    features0: 0n,
    handoffDataVersion: handoffDataVersionOf({ major, minor, update }),
  };
};

describe('registry', () => {
  it('finds a build by its hash and nothing by an unknown one', () => {
    registerBuild('ab'.repeat(48), build('2.0.04'));
    expect(lookupBuild('ab'.repeat(48))?.version).toEqual({ major: 2, minor: 0, update: 4 });
    expect(lookupBuild('cd'.repeat(48))).toBeUndefined();
  });
  it('packs a version as 0xMMmmuu', () => {
    expect(handoffDataVersionOf({ major: 2, minor: 0, update: 4 })).toBe(0x020004);
  });
  it('imports data of its own line at or above its own version, nothing else', () => {
    const b = build('2.0.04');
    expect(canImportHandoff(b, 0x020004)).toBe(true);
    expect(canImportHandoff(b, 0x020008)).toBe(true);
    expect(canImportHandoff(b, 0x020002)).toBe(false);
    expect(canImportHandoff(b, 0x010510)).toBe(false);
    expect(canImportHandoff(b, 0x020104)).toBe(false);
  });
});
