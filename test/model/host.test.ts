// Tests for model/host.ts: CPU hotplug and the sysfs reads as the contract sees them.
import { describe, expect, it } from 'vitest';
import { cpuOffline, cpuOnline, readSeamldr, readVersion } from '../../model/host.ts';
import type { ModelState } from '../../model/state.ts';
import { fwDone } from '../../model/update.ts';
import { attempt, img, NEXT, spec, state, take, UPSTREAM_PARAMS, V2_PARAMS } from './fixtures.ts';

const results = <R>(cs: readonly { result: R }[]) => cs.map((c) => c.result);

/** An update attempt that ends the way `because` names, and its worker finishing. */
function end(s: ModelState, image = img(), fault: Parameters<typeof attempt>[2] = null, because = ''): void {
  take(s, attempt(s, image, fault), 0, (a) => a.because.includes(because));
  fwDone(s);
}

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
  it('is a no-op returning 0 for an online CPU, and brings an offline one back while the module runs', () => {
    const s = state();
    expect(results(cpuOnline(s, 2))).toEqual([0]);
    cpuOffline(s, 2);
    take(s, cpuOnline(s, 2), 0);
    expect(s.online[2]).toBe(true);
  });
  it('fails after a loss in which nothing was initialized: the CPU stays offline', () => {
    const s = state();
    end(s, img(NEXT, 'hash'), null, 'no module was installed');
    cpuOffline(s, 2);
    expect(results(cpuOnline(s, 2))).toEqual(['nonzero']);
  });
});

describe('readVersion', () => {
  it("the running module's version; after an applied update the new one; -ENXIO once the module is lost", () => {
    const s = state();
    expect(results(readVersion(s))).toEqual([spec(6).version]);
    end(s);
    expect(results(readVersion(s))).toEqual([NEXT.version]);
    take(s, attempt(s, img(spec(9), 'signature')), -5);
    expect(results(readVersion(s))).toEqual([-6]);
  });
});

describe('readSeamldr', () => {
  it('reports the P-SEAMLDR version and the slots, and outlives a lost module', () => {
    const s = state({ seamldrVersion: { major: 2, minor: 0, update: 0 }, numRemainingUpdates: 3 });
    expect(results(readSeamldr(s, 'version'))).toEqual([{ major: 2, minor: 0, update: 0 }]);
    expect(results(readSeamldr(s, 'num_remaining_updates'))).toEqual([3]);
    take(s, attempt(s, img(NEXT), { kind: 'leaf', leaf: 'SYS_INIT', cpu: null }), -5, (a) => a.because.includes('installed but'));
    expect(results(readSeamldr(s, 'version'))).toEqual([{ major: 2, minor: 0, update: 0 }]);
    expect(results(readSeamldr(s, 'num_remaining_updates'))).toEqual([2]);
  });
  it('the merged driver hides them behind the VMCS-clobbering erratum (-ENOENT); v2 still answers', () => {
    expect(results(readSeamldr(state({ erratum: true }, UPSTREAM_PARAMS), 'version'))).toEqual([-2]);
    expect(results(readSeamldr(state({ erratum: true }, UPSTREAM_PARAMS), 'num_remaining_updates'))).toEqual([-2]);
    expect(results(readSeamldr(state({ erratum: false }, UPSTREAM_PARAMS), 'version'))).toEqual([{ major: 1, minor: 5, update: 0 }]);
    expect(results(readSeamldr(state({ erratum: true }, V2_PARAMS), 'version'))).toEqual([{ major: 1, minor: 5, update: 0 }]);
  });
});

describe('a host whose boot failed to configure the module (configFails)', () => {
  const off = () => state({ configFails: true });
  it('starts with no module and no tdx_host device: no version file, no P-SEAMLDR attributes, no TD', () => {
    const s = off();
    expect(s.module).toEqual({ status: 'lost', lpInitWorks: true });
    expect(results(readVersion(s))).toEqual([-2]);
    expect(results(readSeamldr(s, 'version'))).toEqual([-2]);
    expect(results(readSeamldr(s, 'num_remaining_updates'))).toEqual([-2]);
  });
  it('CPUs still go offline and come back: each passed TDH.SYS.LP.INIT at boot', () => {
    const s = off();
    expect(cpuOffline(s, 1)).toBe(0);
    expect(results(cpuOnline(s, 1))).toEqual([0]);
    take(s, cpuOnline(s, 1), 0);
    expect(s.online[1]).toBe(true);
  });
});
