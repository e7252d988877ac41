// The timeline names the errnos the kernel returns, and grows with what happened, not with the
// CPUs it happened on: the stoppers of one stop_machine doing the same thing are one row.
import { describe, expect, it } from 'vitest';
import { makeEntry } from '../../harness/corpus.ts';
import { counterexampleHtml } from '../../harness/html.ts';
import { runScenario } from '../../harness/run.ts';
import { stateObserver } from '../../harness/state_view.ts';
import { errnoName, foldAlike, formatCounterexample, type TimelineRow } from '../../harness/timeline.ts';
import { EIO, ENODEV } from '../../impl/kernel/errno.ts';
import { V2 } from '../../properties/revisions/index.ts';
import type { Scenario } from '../../properties/scenario.ts';

const upload = {
  kind: 'upload',
  image: { release: '1.5.01', svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false, corruption: null },
  fault: null,
} as const;

/** Two uploads with one update slot and the slot check gone: the second fails, on any number of CPUs. */
function report(nrCpus: number): { text: string[]; html: string; step: number } {
  const s: Scenario = {
    host: { nrCpus, boot: { release: '1.5.01', moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots: 1, debugUnlocked: false },
    commands: [upload, upload],
    schedule: [],
  };
  const { observe, states } = stateObserver(V2.checks);
  const run = runScenario(s, { revision: V2, bugs: new Set(['no-slots-check']), record: true, observe });
  expect(run.violation?.id).toBe('result');
  const entry = makeEntry('update-contract', V2, 'no-slots-check', run.violation!, s);
  const html = counterexampleHtml({ name: 'x', entry, run, states, file: 'x.json', replay: 'npm run verify -- --replay x.json' });
  return { text: formatCounterexample(s, run, 'counterexample'), html, step: run.violation!.step };
}

const row = (step: number, task: string, text: string): TimelineRow => ({ step, task, events: [{ cpu: 0, text }], mismatch: false });

describe('timeline', () => {
  it('names errnos, and shows a number it has no name for', () => {
    expect([0, -EIO, -ENODEV, -6, -22, -28, -125, -99].map(errnoName)).toEqual(['0', '-EIO', '-ENODEV', '-ENXIO', '-EINVAL', '-ENOSPC', '-ECANCELED', '-99']);
  });

  it('a counterexample on 256 CPUs reads as long as on 16 (it was 9,530 lines, and its HTML 77 MB)', () => {
    const small = report(16),
      big = report(256);
    expect(big.text.length).toBeLessThanOrEqual(small.text.length + 4);
    expect(big.html.length).toBeLessThan(small.html.length * 1.1);
    expect(big.text.join('\n')).toContain('stopper/1..255 ×255');
    // The failing step is a row of its own, in the text and in the page.
    expect(big.text.some((l) => l.trimStart().startsWith(`${big.step} `))).toBe(true);
    expect(big.html).toContain(`id="step-${big.step}"`);
    expect(big.html).toContain('<th class="lane" data-cpu="15">cpu 15-255</th>');
  });

  it('folds blocks of alike steps by other tasks of one kind, never a kept row or a task without a number', () => {
    const stoppers = [1, 2, 3, 4].flatMap((k) => [row(2 * k, `stopper/${k}`, '… lock'), row(2 * k + 1, `stopper/${k}`, 'ack')]);
    const folded = foldAlike(stoppers, () => false);
    expect(folded.map((r) => [r.step, r.alike])).toEqual([
      [2, { last: 8, task: 'stopper/4', count: 4 }],
      [3, { last: 9, task: 'stopper/4', count: 4 }],
    ]);
    expect(foldAlike(stoppers, (r) => r.step === 6)).toHaveLength(stoppers.length);
    const workers = [1, 2, 3].map((k) => row(k, 'fw_upload_worker', '… preparing'));
    expect(foldAlike(workers, () => false)).toEqual(workers);
    const same = [1, 2, 3].map((k) => row(k, 'stopper/1', '… lock'));
    expect(foldAlike(same, () => false)).toEqual(same);
  });
});
