// Chained updates (issue 14 part 5): two and three successful updates in one run on every
// revision, across a change of features (1.5.24 is the first 1.5 release with UPDATE_COMPAT),
// and an update right after a TD build began on the module the previous update installed. The
// runner checks every step against the model; the labels are what the coverage table shows.
import { describe, expect, it } from 'vitest';
import { type Revision } from '../../impl/kernel/revision.ts';
import { COMPAT_KERNEL as COMPAT, UPSTREAM_KERNEL as UPSTREAM } from '../../properties/revisions/index.ts';
import type { Command } from '../../properties/commands/index.ts';
import { finalizedTd, hostData, imageRef, linResults, readVersion, run, scenario, tdAddPage, tdCreate, tdRun, upload } from '../impl/kernel/helpers.ts';

const KERNELS: [string, Revision | undefined, 'v1' | 'v2'][] = [
  ['v2', undefined, 'v1'],
  ['upstream', UPSTREAM, 'v2'],
];
const up = (release: string, format: 'v1' | 'v2') => upload(imageRef(release, { format }));
const chainLabels = (labels: ReadonlySet<string>) => [...labels].filter((l) => l.startsWith('update applied: ') && !l.endsWith('the new module runs')).sort();

describe('chained updates', () => {
  it.each(KERNELS)('%s: three in a row, the last to a module with other features, right after a TD build began', (_n, rev, format) => {
    const commands: Command[] = [
      ...finalizedTd(),
      up('1.5.08', format),
      up('1.5.16', format),
      tdCreate(),
      tdAddPage(1),
      up('1.5.24', format),
      readVersion,
      tdRun(),
    ];
    const r = run(scenario(hostData(2, { slots: 3 }), commands), { rev });
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([0, 0, 0]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.24']);
    expect(linResults(r.host, 'td_run')).toEqual([true]);
    expect(chainLabels(r.labels)).toEqual([
      'update applied: after one applied update',
      'update applied: after two or more applied updates',
      'update applied: right after a TD build began on a module an update installed',
      'update applied: to a module whose features differ, after an applied update',
    ]);
  });

  it('compat: three in a row from 1.5.24; a TD build begun on the installed module refuses the next (-EBUSY, B29 fix)', () => {
    const host = hostData(2, { slots: 3, boot: { release: '1.5.24', moduleHv: 0, minUpdateHv: 0, noDowngrade: false } });
    const commands: Command[] = [up('1.5.24', 'v1'), up('1.5.25', 'v1'), up('1.5.25', 'v1'), readVersion];
    const r = run(scenario(host, commands), { rev: COMPAT });
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'update')).toEqual([0, 0, 0]);
    expect(linResults(r.host, 'read_version')).toEqual(['1.5.25']);
    const busy = run(scenario(host, [up('1.5.25', 'v1'), tdCreate(), tdAddPage(0), up('1.5.25', 'v1')]), { rev: COMPAT });
    expect(busy.violation).toBeNull();
    expect(linResults(busy.host, 'update')).toEqual([0, -16]);
    expect(busy.labels).toContain('update refused: right after a TD build began on a module an update installed');
  });
});
