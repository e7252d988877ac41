// CPU hotplug around updates (spec §3.6, I-2, I-26 seed policy), end to end.
import { describe, expect, it } from 'vitest';
import { events, finalizedTd, hostData, imageRef, linResults, offline, online, readVersion, run, scenario, tdRun, upload } from '../impl/kernel/helpers.ts';

describe('hotplug and updates', () => {
  it('an offline CPU refuses the update; once it is back the update goes through', () => {
    const r = run(
      scenario(hostData(4), [...finalizedTd(), offline(2), upload(), online(2), upload(), readVersion, offline(2), online(2), tdRun(0, undefined, 2)]),
    );
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([-16, 0]);
    expect(linResults(r.host, 'cpu_offline')).toEqual([0, 0]);
    expect(linResults(r.host, 'cpu_online')).toEqual([0, 0]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.08']);
    expect(linResults(r.host, 'td_run')).toEqual([true]);
    expect(events(r.host.trace, 'update_begin').map((e) => e.cpus)).toEqual([[0, 1, 2, 3]]);
  });

  it('CPU 0 cannot be offlined, before or after an update', () => {
    const r = run(scenario(hostData(2), [offline(0), upload(), offline(0)]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'cpu_offline')).toEqual([-16, -16]);
    expect(linResults(r.host, 'update')).toEqual([0]);
  });

  it('after an update lost at LP.INIT, the CPU that failed can be cycled and comes back', () => {
    const r = run(scenario(hostData(3), [upload(imageRef(), { kind: 'leaf', leaf: 'LP_INIT', cpu: 2 }), offline(2), online(2), readVersion]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'cpu_online')).toEqual([0]);
    expect(linResults(r.host, 'read_version')).toEqual([-6]); // the CPU is back; the TDs and version are not
  });

  it('after an update lost at TDH.SYS.INIT, no CPU comes back online', () => {
    const r = run(scenario(hostData(3), [upload(imageRef(), { kind: 'leaf', leaf: 'SYS_INIT', cpu: null }), offline(1), online(1), offline(2), online(2)]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'cpu_online')).toEqual([-5, -5]);
    expect(r.host.platform.cpus.map((c) => c.online)).toEqual([true, false, false]);
  });
});
