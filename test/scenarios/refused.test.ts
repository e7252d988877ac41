// End-to-end scenarios that end "Refused" (spec §4.1 rows 1-4): the update fails and nothing
// changed — module, version, TDs, slots — and userspace reads transferring:firmware-invalid.
import { describe, expect, it } from 'vitest';
import type { ImageCorruption } from '../../impl/firmware/image.ts';
import { P_SEAMLDR_INSTALL, TDH } from '../../impl/firmware/abi.ts';
import {
  callsOf,
  corrupt,
  events,
  finalizedTd,
  hostData,
  imageRef,
  linResults,
  offline,
  readError,
  readSeamldr,
  readVersion,
  run,
  scenario,
  tdRun,
  upload,
} from '../impl/kernel/helpers.ts';
import type { Command } from '../../properties/commands/index.ts';
import type { HostData } from '../../properties/scenario.ts';
import { imageBytes } from '../../properties/images.ts';

/** Runs `before`, the refused upload, then reads everything userspace can see. */
function refused(up: Command, o: { before?: Command[]; host?: HostData } = {}) {
  const r = run(
    scenario(o.host ?? hostData(4), [...finalizedTd(), ...(o.before ?? []), up, readError, readVersion, readSeamldr('num_remaining_updates'), tdRun()]),
  );
  expect(r.violation).toBeNull();
  const h = r.host;
  expect(linResults(h, 'read_error')).toEqual(['transferring:firmware-invalid']);
  expect(linResults(h, 'read_version')).toEqual(['1.5.06']);
  expect(linResults(h, 'read_seamldr')).toEqual([String(o.host?.slots ?? 2)]);
  expect(linResults(h, 'td_run')).toEqual([true]);
  expect(h.seam.seamdb).toHaveLength(1);
  expect(h.seam.module!.sysState).toBe('SYS_READY');
  expect(h.tdx.state.initialized).toBe(true);
  return r;
}

describe('refused updates', () => {
  const header: ImageCorruption[] = [
    { kind: 'truncate', length: 1 },
    { kind: 'truncate', length: 4095 },
    { kind: 'truncate', length: 12000 },
    { kind: 'bad_checksum' },
    { kind: 'bad_magic' },
    { kind: 'bad_version' },
    { kind: 'bad_length' },
    { kind: 'reserved_nonzero', index: 77 },
    { kind: 'sig_size', pages: 0 },
    { kind: 'sig_size', pages: 2 },
    { kind: 'module_unaligned' },
    { kind: 'module_too_big' },
  ];

  it.each(header.map((c) => [JSON.stringify(c), c] as const))('a corrupt image is refused before shutdown: %s', (_, c) => {
    const r = refused(upload(corrupt(c)));
    expect(linResults(r.host, 'update')).toEqual([-22]);
    expect(events(r.host.trace, 'update_begin')).toEqual([]);
    expect(r.host.tdxHost.fw!.remainingSize).toBe(imageBytes(corrupt(c)).length);
  });

  it('a truncated-to-nothing image is an empty upload: nothing starts, the previous error stays', () => {
    const r = run(scenario(hostData(2), [upload(corrupt({ kind: 'bad_magic' })), upload(corrupt({ kind: 'truncate', length: 0 })), readError]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'fw_load')).toEqual(['started', 'empty']);
    expect(linResults(r.host, 'read_error')).toEqual(['transferring:firmware-invalid']);
  });

  it('a failing TDH.SYS.SHUTDOWN leaves the old module running: TDs and version intact', () => {
    const r = refused(upload(imageRef(), { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null }));
    expect(linResults(r.host, 'update')).toEqual([-5]);
    expect(callsOf(r.host.trace, P_SEAMLDR_INSTALL)).toEqual([]);
    expect(r.host.tdx.lpInitialized).toEqual([true, true, true, true]);
  });

  it('an offline CPU refuses the update with -EBUSY before anything happens (seed, v2 p09)', () => {
    const r = refused(upload(), { before: [offline(3)] });
    expect(linResults(r.host, 'update')).toEqual([-16]);
    expect(callsOf(r.host.trace, TDH.SYS_SHUTDOWN)).toEqual([]);
  });

  it('no update slots left refuses with -ENOSPC before the image is looked at (seed, v2 p10)', () => {
    const r = run(
      scenario(hostData(2, { slots: 1 }), [
        ...finalizedTd(),
        upload(),
        upload(corrupt({ kind: 'bad_magic' }, '1.5.09')),
        upload(imageRef('1.5.09')),
        readVersion,
        tdRun(),
      ]),
    );
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([0, -28, -28]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.08']);
    expect(linResults(r.host, 'td_run')).toEqual([true]);
    expect(events(r.host.trace, 'update_begin')).toHaveLength(1);
  });
});
