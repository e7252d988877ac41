// The seed's SEAMLDR.INSTALL no-entropy retry (v2 p04, NAKed later): retrying on the same CPU
// opens a new P-SEAMLDR session that again needs every LP, so it helps only on one CPU.
import { describe, expect, it } from 'vitest';
import { P_SEAMLDR_INSTALL, SEAMLDR_ENOENTROPY } from '../../impl/firmware/abi.ts';
import { V2_KERNEL as V2 } from '../../properties/revisions/index.ts';
import { callsOf, finalizedTd, hostData, lastUpdate, linResults, readVersion, run, scenario, tdRun, upload, imageRef, work } from '../impl/kernel/helpers.ts';

const noEntropy = (count: number) => upload(imageRef(), { kind: 'no_entropy', count });

describe('entropy retry', () => {
  it('entropy retry recovers only on a one-CPU platform', () => {
    const one = run(scenario(hostData(1), [...finalizedTd(), noEntropy(1), readVersion, tdRun()]));
    expect(one.violation).toBeNull();
    expect(linResults(one.host, 'update')).toEqual([0]);
    expect(linResults(one.host, 'read_version')).toEqual(['1.5.08']);
    expect(linResults(one.host, 'td_run')).toEqual([true]);
    expect(callsOf(one.host.trace, P_SEAMLDR_INSTALL).map((e) => e.status)).toEqual([SEAMLDR_ENOENTROPY, 0n]);

    const two = run(scenario(hostData(2), [...finalizedTd(), noEntropy(1), readVersion, tdRun()]));
    expect(two.violation).toBeNull();
    expect(linResults(two.host, 'update')).toEqual([-19]);
    expect(linResults(two.host, 'read_version')).toEqual([-6]);
    expect(linResults(two.host, 'td_run')).toEqual([false]);
    // CPU 1 was last: ENOENTROPY, then its retry joins a fresh session alone and "succeeds".
    expect(callsOf(lastUpdate(two.host.trace), P_SEAMLDR_INSTALL).map((e) => [e.cpu, e.status])).toEqual([
      [0, 0n],
      [1, SEAMLDR_ENOENTROPY],
      [1, 0n],
    ]);
    // TDH.SYS.INIT finds no module; every CPU in CPU_INIT gets that cached -ENODEV.
    expect(work(lastUpdate(two.host.trace)).filter((w) => w.startsWith('CPU_INIT'))).toEqual(['CPU_INIT@0=-19', 'CPU_INIT@1=-19']);
  });

  it('two entropy failures in a row defeat the single retry even on one CPU', () => {
    const r = run(scenario(hostData(1), [noEntropy(2), readVersion]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([-5]);
    expect(linResults(r.host, 'read_version')).toEqual([-6]);
  });

  it('without the retry (v4+) one entropy failure loses the TDs on one CPU too', () => {
    const r = run(scenario(hostData(1), [...finalizedTd(), noEntropy(1), tdRun()]), { rev: { ...V2, seamldrEntropyRetry: false } });
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([-5]);
    expect(linResults(r.host, 'td_run')).toEqual([false]);
  });
});
