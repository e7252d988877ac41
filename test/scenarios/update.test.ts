// End-to-end scenarios through harness/run.ts that end "Applied" (DESIGN.md update contract):
// the model and the emulated host agree at every step, and the outcome is visible to userspace.
import { describe, expect, it } from 'vitest';
import {
  events,
  finalizedTd,
  hostData,
  imageRef,
  lastUpdate,
  linResults,
  readError,
  readSeamldr,
  readVersion,
  run,
  scenario,
  tdAddPage,
  tdCreate,
  tdFinalize,
  tdRun,
  tdTeardown,
  upload,
} from '../impl/kernel/helpers.ts';
import { pageContent } from '../../properties/commands/index.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('applied updates', () => {
  it("update preserves a running TD's memory, HKID and launch TCB", () => {
    const r = run(
      scenario(hostData(4), [
        ...finalizedTd(0, 9),
        tdRun(0, [{ page: 0, offset: 100, value: 1 }]),
        upload(),
        readVersion,
        tdRun(0, [{ page: 0, offset: 101, value: 2 }]),
      ]),
    );
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.08']);
    expect(linResults(r.host, 'td_run')).toEqual([true, true]);
    const tdr = r.host.seam.module!.tds.get(r.host.kvm.tds.get(1)!.tdrPa)!;
    const want = pageContent(9);
    want[100] = 1;
    want[101] = 2;
    expect(hex(r.host.mem.page(tdr.pages.get(0)!)!)).toBe(hex(want));
    expect(tdr.hkid).toBe(16);
    expect(r.host.seam.seamdb[tdr.launchSeamdbIndex]!.version).toEqual({ major: 1, minor: 5, update: 6 });
  });

  it('an update with no TDs on 8 CPUs: new version, one slot used, empty error, remaining_size 0', () => {
    const r = run(scenario(hostData(8), [upload(), readVersion, readError, readSeamldr('num_remaining_updates')]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.08']);
    expect(linResults(r.host, 'read_error')).toEqual(['']);
    expect(linResults(r.host, 'read_seamldr')).toEqual(['1']);
    expect(r.host.tdxHost.fw!.remainingSize).toBe(0);
    expect(events(lastUpdate(r.host.trace), 'update_begin')[0]!.cpus).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('two updates in a row, each with its own SEAMDB entry, until the slots run out (-ENOSPC)', () => {
    const r = run(
      scenario(hostData(2, { slots: 2 }), [upload(imageRef('1.5.08')), upload(imageRef('1.5.09')), upload(imageRef('1.5.13')), readVersion, readError]),
    );
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([0, 0, -28]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.09']);
    expect(linResults(r.host, 'read_error')).toEqual(['transferring:firmware-invalid']);
    expect(r.host.seam.seamdb.map((e) => e.version.update)).toEqual([6, 8, 9]);
  });

  it('re-installing the running version (equal SEAMSVN) is an update like any other', () => {
    const r = run(scenario(hostData(2), [...finalizedTd(), upload(imageRef('1.5.06')), readVersion, tdRun()]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([0]);
    expect(r.host.seam.seamdb).toHaveLength(2);
  });

  it('2.0.04 -> 2.0.05 on a 2.0 platform: equal SEAMSVN is allowed', () => {
    const host = hostData(2, { boot: { release: '2.0.04', moduleHv: 0, minUpdateHv: 0, noDowngrade: false } });
    const r = run(scenario(host, [upload(imageRef('2.0.05')), readVersion, readSeamldr('version')]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'read_version')).toEqual(['2.0.05']);
    expect(linResults(r.host, 'read_seamldr')).toEqual(['2.0.00']);
  });

  it("a new module with a higher handoff version imports the old one's handoff", () => {
    const host = hostData(2, { boot: { release: '1.5.06', moduleHv: 1, minUpdateHv: 1, noDowngrade: true } });
    const r = run(
      scenario(host, [
        ...finalizedTd(),
        upload(imageRef('1.5.08', { moduleHv: 2, minUpdateHv: 1 })),
        tdRun(),
        upload(imageRef('1.5.09', { moduleHv: 2, minUpdateHv: 2 })),
        tdRun(),
      ]),
    );
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([0, 0]);
    expect(linResults(r.host, 'td_run')).toEqual([true, true]);
  });

  it('TDs created, built and torn down around an update keep working', () => {
    const r = run(
      scenario(hostData(3), [
        ...finalizedTd(0, 1),
        tdCreate(2),
        tdAddPage(1, 2),
        upload(),
        tdAddPage(1, 3),
        tdFinalize(1),
        tdRun(1, [{ page: 1, offset: 0, value: 9 }]),
        tdTeardown(0),
        tdRun(0),
      ]),
    );
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'td_teardown')).toEqual([true]);
    expect(linResults(r.host, 'td_run')).toEqual([true, true]);
  });
});
