// Tests for model/host.ts: CPU hotplug and the sysfs reads as the contract sees them.
import { describe, expect, it } from 'vitest';
import { cpuOffline, cpuOnline, readSeamldr, readVersion } from '../../model/host.ts';
import { fwDone } from '../../model/update.ts';
import { attempt, img, NEXT, SEED_PARAMS, spec, state, UPSTREAM_PARAMS } from './fixtures.ts';

describe('cpuOffline', () => {
  it('refuses the boot CPU with -EBUSY and changes nothing', () => {
    const s = state();
    expect(cpuOffline(s, 0)).toBe(-16);
    expect(s.online).toEqual([true, true, true, true]);
  });
  it('takes any other CPU offline, also when it is offline already', () => {
    const s = state();
    expect(cpuOffline(s, 3)).toBe(0);
    expect(cpuOffline(s, 3)).toBe(0);
    expect(s.online).toEqual([true, true, true, false]);
  });
});

describe('cpuOnline', () => {
  it('is a no-op returning 0 for an online CPU', () => {
    const s = state();
    expect(cpuOnline(s, 2)).toBe(0);
    expect(s.online).toEqual([true, true, true, true]);
  });
  it('brings an offline CPU back while the module runs', () => {
    const s = state();
    cpuOffline(s, 2);
    expect(cpuOnline(s, 2)).toBe(0);
    expect(s.online[2]).toBe(true);
  });
  it('fails after a loss before SYSINIT_DONE: the CPU stays offline', () => {
    const s = state();
    attempt(s, img(NEXT, 'hash'));
    fwDone(s);
    cpuOffline(s, 2);
    expect(cpuOnline(s, 2)).toBe('fails');
    expect(s.online[2]).toBe(false);
  });
  it('works after a loss at RUN_UPDATE: the new module can still LP-initialize a CPU', () => {
    const s = state();
    attempt(s, img(), { kind: 'leaf', leaf: 'UPDATE', cpu: null });
    fwDone(s);
    cpuOffline(s, 2);
    expect(cpuOnline(s, 2)).toBe(0);
    expect(s.online[2]).toBe(true);
  });
});

describe('readVersion', () => {
  it('prints major.minor.update with a two-digit update ("%u.%u.%02u")', () => {
    expect(readVersion(state())).toBe('1.5.06');
    expect(readVersion(state({ boot: spec(16) }))).toBe('1.5.16');
    expect(readVersion(state({ boot: { ...spec(8), version: { major: 2, minor: 0, update: 108 } } }))).toBe('2.0.108');
  });
  it('follows an applied update and reads -ENXIO once the module is lost', () => {
    const s = state();
    attempt(s, img());
    fwDone(s);
    expect(readVersion(s)).toBe('1.5.08');
    attempt(s, img(spec(9), 'signature'));
    expect(readVersion(s)).toBe(-6);
  });
});

describe('readSeamldr', () => {
  it('reports the P-SEAMLDR version and the slots, and outlives a lost module', () => {
    const s = state({ seamldrVersion: { major: 2, minor: 0, update: 0 }, numRemainingUpdates: 3 });
    expect(readSeamldr(s, 'version')).toBe('2.0.00');
    expect(readSeamldr(s, 'num_remaining_updates')).toBe('3');
    attempt(s, img(NEXT), { kind: 'leaf', leaf: 'SYS_INIT', cpu: null });
    expect(readSeamldr(s, 'version')).toBe('2.0.00');
    expect(readSeamldr(s, 'num_remaining_updates')).toBe('2');
  });
});

describe('readSeamldr on a platform with the VMCS-clobbering erratum', () => {
  it('the merged driver hides the attributes (-ENOENT); the seed still answers', () => {
    expect(readSeamldr(state({ erratum: true }, UPSTREAM_PARAMS), 'version')).toBe(-2);
    expect(readSeamldr(state({ erratum: true }, UPSTREAM_PARAMS), 'num_remaining_updates')).toBe(-2);
    expect(readSeamldr(state({ erratum: false }, UPSTREAM_PARAMS), 'version')).toBe('1.5.00');
    expect(readSeamldr(state({ erratum: true }, SEED_PARAMS), 'version')).toBe('1.5.00');
  });
});
