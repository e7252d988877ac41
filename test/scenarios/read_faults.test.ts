// TDH.SYS.RD can fail in the update path (issue 14 part 2): the MODULE_HV read and the version
// re-read. Merged: no shutdown without MODULE_HV (spec §2.5 step 1, §4.1 row 3). After
// TDH.SYS.UPDATE a failed re-read is only warned about, so the kernel may report the old
// version (spec §8 B12, accepted) and v2 keeps its cached MODULE_HV; the runner checks every
// result against the model, so a clean run means the contract allowed what happened.
import { describe, expect, it } from 'vitest';
import { P_SEAMLDR_INFO, SEAMLDR_EUNSPECERR, TDH, TDX_SYS_LP_INIT_NOT_DONE } from '../../impl/firmware/abi.ts';
import { UPSTREAM_KERNEL as UPSTREAM } from '../../properties/revisions/index.ts';
import type { FaultLeaf } from '../../model/types.ts';
import type { Command } from '../../properties/commands/index.ts';
import { callsOf, finalizedTd, hostData, imageRef, linResults, readVersion, run, scenario, tdRun, upload } from '../impl/kernel/helpers.ts';

// The new module's MODULE_HV is 1, the boot module's 0: a stale cached handoff version shows.
const rdFault = (leaf: FaultLeaf, format: 'v1' | 'v2' = 'v1') => upload(imageRef('1.5.08', { format, moduleHv: 1 }), { kind: 'leaf', leaf, cpu: null });
const failedReads = (r: ReturnType<typeof run>) => callsOf(r.host.trace, TDH.SYS_RD).filter((e) => e.status === TDX_SYS_LP_INIT_NOT_DONE);

describe('a failed TDH.SYS.RD of MODULE_HV', () => {
  it('merged: the update is refused before shutdown; the old module and its TDs run on', () => {
    const r = run(scenario(hostData(2), [...finalizedTd(), rdFault('RD_MODULE_HV', 'v2'), readVersion, tdRun()]), { rev: UPSTREAM });
    expect(r.violation).toBeNull();
    expect(failedReads(r)).toHaveLength(1);
    expect(callsOf(r.host.trace, TDH.SYS_SHUTDOWN)).toEqual([]);
    expect(linResults(r.host, 'update')).toEqual([-5]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.06']);
    expect(linResults(r.host, 'td_run')).toEqual([true]);
  });

  it('v2: the update stands; the kernel keeps the old handoff version it cached', () => {
    const r = run(scenario(hostData(2), [...finalizedTd(), rdFault('RD_MODULE_HV'), readVersion, tdRun()]));
    expect(r.violation).toBeNull();
    expect(failedReads(r)).toHaveLength(1);
    expect(linResults(r.host, 'update')).toEqual([0]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.08']);
    expect(linResults(r.host, 'td_run')).toEqual([true]);
    expect(r.host.tdx.sysinfo.moduleHv).toBe(0);
  });
});

describe('a failed version re-read after TDH.SYS.UPDATE (B12)', () => {
  it.each([
    ['v2', undefined, 'v1'],
    ['upstream', UPSTREAM, 'v2'],
  ] as const)('%s: the update stands, the TDs run, and `version` may show the old module', (_name, rev, format) => {
    const r = run(scenario(hostData(2), [...finalizedTd(), rdFault('RD_UPDATE_VERSION', format), readVersion, tdRun()]), { rev });
    expect(r.violation).toBeNull();
    expect(failedReads(r)).toHaveLength(1);
    expect(linResults(r.host, 'update')).toEqual([0]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.06']);
    expect(linResults(r.host, 'td_run')).toEqual([true]);
  });

  it.each(['RD_MINOR_VERSION', 'RD_MAJOR_VERSION'] as const)('%s: any version field may fail; the run stays within the contract', (leaf) => {
    for (const [rev, format] of [
      [undefined, 'v1'],
      [UPSTREAM, 'v2'],
    ] as const) {
      const r = run(scenario(hostData(2), [rdFault(leaf, format), readVersion]), { rev });
      expect(r.violation).toBeNull();
      expect(failedReads(r)).toHaveLength(1);
      expect(linResults(r.host, 'read_version')).toEqual(['1.5.06']);
    }
  });

  it("the operator's tool reports the version it reads, which may be the stale one", () => {
    const r = run(scenario(hostData(1, { slots: 1 }), [rdFault('RD_MINOR_VERSION'), { kind: 'tool_update' }]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'tool_update')).toMatchObject([{ outcome: 'failed', running: '1.5.06', after: '1.5.06' }]);
  });

  it('the next update re-reads it: the version is current again', () => {
    const r = run(scenario(hostData(2, { slots: 3 }), [rdFault('RD_UPDATE_VERSION'), upload(imageRef('1.5.08')), readVersion]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([0, 0]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.08']);
  });
});

describe('a failed SEAMLDR.INFO', () => {
  const workerInfo = (r: ReturnType<typeof run>) => callsOf(r.host.trace, P_SEAMLDR_INFO).filter((e) => e.task === 'fw_upload_worker');
  const info = (cpu: number, format: 'v1' | 'v2' = 'v1') => upload(imageRef('1.5.08', { format }), { kind: 'seamldr_info', cpu });

  it('v2: the slots precheck fails the update with -EIO before anything happens', () => {
    const r = run(scenario(hostData(2), [...finalizedTd(), info(0), readVersion, tdRun()]));
    expect(r.violation).toBeNull();
    expect(workerInfo(r).map((e) => [e.cpu, e.status])).toEqual([[0, SEAMLDR_EUNSPECERR]]);
    expect(linResults(r.host, 'update')).toEqual([-5]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.06']);
  });

  it('a P-SEAMLDR read on the armed CPU gets -EIO once; the update, on another CPU, goes on', () => {
    const slotsOn1: Command = { kind: 'read_seamldr', attr: 'num_remaining_updates', cpu: 1 };
    // The schedule runs the first read before the worker's precheck.
    const r = run(scenario(hostData(2), [info(1), slotsOn1, slotsOn1], [1]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'read_seamldr')).toEqual([-5, '1']);
    expect(linResults(r.host, 'update')).toEqual([0]);
  });

  it('merged: the update issues no SEAMLDR.INFO, so it goes on', () => {
    const r = run(scenario(hostData(2), [info(0, 'v2'), readVersion]), { rev: UPSTREAM });
    expect(r.violation).toBeNull();
    expect(workerInfo(r)).toEqual([]);
    expect(linResults(r.host, 'update')).toEqual([0]);
  });
});
