// Tests for properties/revisions/: v2 and the merged kernel differ where the spec §2.7 table
// says they do, compat is v2 with the v3-v10 handling, and records are found by name.
import { describe, expect, it } from 'vitest';
import { COMPAT_KERNEL as COMPAT, findRevision, REVISIONS, UPSTREAM_KERNEL as UPSTREAM, V2_KERNEL as V2 } from '../../properties/revisions/index.ts';

describe('kernel revisions (spec §2.7)', () => {
  it('v2 and upstream differ in every switch the spec §2.7 table lists, and agree on the version lock-out', () => {
    const differ = Object.keys(V2).filter((k) => JSON.stringify(V2[k as keyof typeof V2]) !== JSON.stringify(UPSTREAM[k as keyof typeof UPSTREAM]));
    expect(differ.sort()).toEqual(
      [
        'cancelSupport',
        'cpuOnlinePrecheck',
        'errorMap',
        'fwName',
        'handoffHvSource',
        'imageFormat',
        'lpResetScope',
        'name',
        'refreshScope',
        'seamldrAttrs',
        'seamldrEntropyRetry',
        'slotsPrecheck',
        'title',
        'vmcsErratumGuard',
      ].sort(),
    );
    expect([V2.versionLockout, UPSTREAM.versionLockout]).toEqual([true, true]);
  });

  it('compat is the seed with AVOID_COMPAT_SENSITIVE and the device-busy mapping', () => {
    const { name: _n, title: _t, avoidCompat, errorMap, ...rest } = COMPAT;
    const { name: _sn, title: _st, avoidCompat: _sa, errorMap: _se, ...seedRest } = V2;
    expect([avoidCompat, errorMap]).toEqual([true, 'compat']);
    expect(rest).toEqual(seedRest);
  });

  it('revisions are found by name', () => {
    expect(REVISIONS.map((r) => r.name)).toEqual(['v2', 'compat', 'upstream']);
    expect(findRevision('upstream')?.kernel).toBe(UPSTREAM);
    expect(findRevision('seed')).toBeUndefined();
  });
});
