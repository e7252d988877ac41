// Tests for properties/revisions/: each record's emulator switches against the two columns of
// the spec §2.7 table (v2, merged) and the v3-v10 compat variant; records found by name.
import { describe, expect, it } from 'vitest';
import { COMPAT_KERNEL as COMPAT, findRevision, REVISIONS, UPSTREAM_KERNEL as UPSTREAM, V2_KERNEL as V2 } from '../../properties/revisions/index.ts';

describe('kernel revisions (spec §2.7)', () => {
  it('seed is the v2 column, its review bugs fixed (B23: the version lock-out)', () => {
    expect(V2).toMatchObject({
      name: 'v2',
      cpuOnlinePrecheck: true,
      slotsPrecheck: true,
      imageFormat: 'v1',
      avoidCompat: false,
      errorMap: 'v2',
      fwName: 'seamldr_upload',
      seamldrAttrs: { dir: 'seamldr/', mode: 0o444 },
      cancelSupport: true,
      handoffHvSource: 'boot-cache',
      lpResetScope: 'online',
      refreshScope: 'version+handoff',
      seamldrEntropyRetry: true,
      versionLockout: true,
      vmcsErratumGuard: false,
    });
  });

  it('upstream is the merged column', () => {
    expect(UPSTREAM).toMatchObject({
      name: 'upstream',
      cpuOnlinePrecheck: false,
      slotsPrecheck: false,
      imageFormat: 'v2',
      avoidCompat: false,
      errorMap: 'merged',
      fwName: 'tdx_module',
      seamldrAttrs: { dir: '', mode: 0o400 },
      cancelSupport: false,
      handoffHvSource: 'read-fresh',
      lpResetScope: 'possible',
      refreshScope: 'version',
      seamldrEntropyRetry: false,
      versionLockout: true,
      vmcsErratumGuard: true,
    });
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
