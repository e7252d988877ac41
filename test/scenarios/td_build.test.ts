// Updates during a TD build (spec §3.7, B29, I-28), end to end on the three outcomes the spec
// lists: old modules restart the measurement, newer modules without the flag refuse the rest
// of the build (KVM_BUG_ON), and the compat kernel refuses the update itself (device-busy).
import { describe, expect, it } from 'vitest';
import { COMPAT_KERNEL as COMPAT } from '../../properties/revisions/index.ts';
import { mrtdExtend as measureExtend, mrtdPageAdd as measurePageAdd } from '../../impl/firmware/tdx_module.ts';
import { pageContent } from '../../properties/commands/index.ts';
import {
  hostData,
  imageRef,
  linResults,
  readError,
  readVersion,
  run,
  scenario,
  tdAddPage,
  tdCreate,
  tdFinalize,
  tdRun,
  upload,
} from '../impl/kernel/helpers.ts';

const MRTD_INIT = new Uint8Array(48);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const build = [tdCreate(), tdAddPage(0, 1)];
const rest = [tdAddPage(0, 2), tdFinalize(0), tdRun()];
const newer = hostData(2, { boot: { release: '1.5.24', moduleHv: 0, minUpdateHv: 0, noDowngrade: false } });

describe('update during a TD build', () => {
  it('old module (1.5.06 -> 1.5.08): the build goes on, but MRTD only covers what came after the update', () => {
    const r = run(scenario(hostData(2), [...build, upload(), ...rest]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'td_run')).toEqual([true]);
    const tdr = r.host.seam.module!.tds.get(r.host.kvm.tds.get(1)!.tdrPa)!;
    expect(hex(tdr.mrtd)).toBe(hex(measureExtend(measurePageAdd(MRTD_INIT, 1), 1, pageContent(2))));
    const whole = measureExtend(measurePageAdd(measureExtend(measurePageAdd(MRTD_INIT, 0), 0, pageContent(1)), 1), 1, pageContent(2));
    expect(hex(tdr.mrtd)).not.toBe(hex(whole)); // what attestation expects: corrupted
  });

  it('newer module (1.5.24 -> 1.5.25), seed kernel: the next build SEAMCALL fails and KVM gives up on the TD', () => {
    const r = run(scenario(newer, [...build, upload(imageRef('1.5.25')), readVersion, ...rest]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([0]);
    expect(linResults(r.host, 'td_page_add')).toEqual([true, false]);
    expect(linResults(r.host, 'td_finalize')).toEqual([false]);
    expect(linResults(r.host, 'td_run')).toEqual([false]);
    expect(r.host.kvm.tds.get(1)!.bugged).toBe(true);
  });

  it('compat kernel (v3-v10 AVOID_COMPAT_SENSITIVE): the update is refused as device-busy and works after the build', () => {
    const r = run(scenario(newer, [...build, upload(imageRef('1.5.25')), readError, readVersion, ...rest, upload(imageRef('1.5.25')), readVersion]), {
      rev: COMPAT,
    });
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([-16, 0]);
    expect(linResults(r.host, 'read_error')).toEqual(['transferring:device-busy']);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.24', '1.5.25']);
    expect(linResults(r.host, 'td_run')).toEqual([true]);
  });
});
