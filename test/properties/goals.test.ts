// Tests for properties/goals.ts on runs of the emulated kernel. The verdict search
// (test/harness/verdicts.test.ts) finds each goal's violation; these pin what fires it.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../harness/run.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { KERNEL_GOALS } from '../../properties/goals.ts';
import { V2 } from '../../properties/revisions/index.ts';
import { boot, hostData, linResults, scenario, upload } from '../impl/kernel/helpers.ts';

describe('upload-not-wedged', () => {
  const goal = KERNEL_GOALS.find((g) => g.id === 'upload-not-wedged')!;

  it('fires in exactly the runs where the second upload is refused busy as the first finishes', () => {
    // The second upload issued at each decision in turn, round-robin otherwise.
    const runs = Array.from({ length: 20 }, (_, k) =>
      runScenario(scenario(hostData(1), [upload(), upload()], [...Array<number>(k).fill(0), 1]), { revision: V2, bugs: NO_BUGS, goals: [goal] }),
    );
    const refused = runs.map((r) => linResults(r.host, 'upload').includes('busy'));
    expect(refused.filter(Boolean).length).toBeGreaterThan(0);
    expect(runs.map((r) => r.violation?.id === goal.id)).toEqual(refused);
    for (const r of runs.filter((x) => x.violation))
      expect(r.violation!.message).toBe('no upload is in flight but the loading state is done: every later load is ignored');
  });

  it('holds on a host with no fw_upload node (v2 with no update slot at probe)', () => {
    const h = boot(1, { host: { slots: 0 } });
    expect(h.tdxHost.fw).toBeNull();
    expect(goal.create(V2.checks)(h, [])).toBeNull();
  });
});
