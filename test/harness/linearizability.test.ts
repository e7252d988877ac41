// Reads are checked over their whole window (harness/run.ts): a `version` read that overlaps a
// successful update may return either version, since the contract lets it take effect at any
// point between its invocation and its response (spec §4.2); one that returns a version no
// model state in its window allows fails, named `linearizability` when the window saw the
// state change.
import { describe, expect, it } from 'vitest';
import { runScenario, type RunResult } from '../../harness/run.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import type { Host } from '../../impl/host.ts';
import { UPSTREAM } from '../../properties/revisions/index.ts';
import type { Scenario } from '../../properties/scenario.ts';
import { hostData, imageRef, linResults, readVersion, scenario, upload } from '../impl/kernel/helpers.ts';

/** cmd2, the read, is issued after k steps of the upload; it then runs one step at a time. */
const at = (k: number): Scenario => scenario(hostData(2), [upload(imageRef('1.5.08', { format: 'v2' })), readVersion], [...Array<number>(k).fill(0), 1]);

/** Steps of the run at which the read was issued, the update returned, and the read returned. */
function window(r: RunResult): { issued: number; update: number; response: number } {
  const step = (pred: (x: RunResult['records'][number]) => boolean) => r.records.find(pred)?.step ?? -1;
  return {
    issued: step((x) => x.command === 'read(version)'),
    update: step((x) => x.lin?.op === 'update'),
    response: step((x) => x.lin?.op === 'read_version'),
  };
}

describe('a version read over its window', () => {
  const runs = Array.from({ length: 40 }, (_, k) => runScenario(at(k), { revision: UPSTREAM, bugs: NO_BUGS, record: true }));

  it('spanning a successful update, it may return the old or the new version; both pass', () => {
    const spanning = runs.filter((r) => {
      const w = window(r);
      return w.issued >= 0 && w.issued < w.update && w.update < w.response;
    });
    expect(spanning.length).toBeGreaterThan(0);
    expect(spanning.map((r) => r.violation)).toEqual(spanning.map(() => null));
    const results = new Set(runs.flatMap((r) => linResults(r.host, 'read_version')));
    expect([...results].sort()).toEqual(['1.5.06', '1.5.08']);
    expect(new Set(spanning.flatMap((r) => linResults(r.host, 'read_version'))).size).toBeGreaterThan(0);
  });

  it('returning a version that never ran fails, named linearizability where its window saw the update', () => {
    // The cache is rewritten while the read is between its fields, so it prints a version no
    // module had (I-10 sees the cache too; allChecks runs on to the read's response).
    const forge = (_step: number, h: Host) => {
      const marks = h.trace.filter((e) => e.kind === 'version_read');
      const last = marks.at(-1);
      if (last?.kind === 'version_read' && last.phase === 'begin') h.tdx.sysinfo.version = { major: 1, minor: 9, update: 99 };
    };
    const fired = Array.from({ length: 40 }, (_, k) => runScenario(at(k), { revision: UPSTREAM, bugs: NO_BUGS, observe: forge, allChecks: true }).fired);
    expect(fired.every((f) => f.includes('result') || f.includes('linearizability'))).toBe(true);
    expect(fired.some((f) => f.includes('linearizability'))).toBe(true);
  });
});
