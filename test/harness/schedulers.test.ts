// The PCT scheduler (issue 13): the highest-priority runnable task runs, change points lower the
// task about to run; its data lives in the scenario, so a PCT run replays, survives the corpus
// schema and the minimizer's normal form, and ends like any other.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inSchemaOrder, scenarioSchema } from '../../harness/corpus.ts';
import { normalize } from '../../harness/minimize.ts';
import { runScenario } from '../../harness/run.ts';
import { PctScheduler, pctData, type ScheduledScenario } from '../../harness/schedulers.ts';
import { BUDGETS, scenarios, type CheckOptions } from '../../harness/verify.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { PROPERTIES } from '../../properties/catalog.ts';
import { V2 } from '../../properties/revisions/index.ts';
import { hostData, readVersion, scenario, upload } from '../impl/kernel/helpers.ts';

const ROOT = join(import.meta.dirname, '../..');
const pct = (priorities: number[], changePoints: number[] = []) => new PctScheduler({ priorities, changePoints });
const order = (s: ScheduledScenario) =>
  runScenario(s, { revision: V2, bugs: NO_BUGS, record: true })
    .records.map((r) => r.task)
    .join(' ');

describe('PctScheduler', () => {
  it('runs the entity of highest priority; ties go to the runner’s order', () => {
    expect(pct([0, 5, 9, 1]).pick([1, 2, 3], 0)).toBe(1);
    expect(pct([4, 4, 4]).pick([2, 1], 0)).toBe(0);
  });

  it('at a change point the entity about to run drops below every other', () => {
    const p = pct([0, 5, 9, 1], [3]);
    expect(p.pick([1, 2, 3], 2)).toBe(1);
    expect(p.pick([1, 2, 3], 3)).toBe(0);
    expect(p.priority(2)).toBeLessThan(0);
  });

  it('priorities are strict: the top entity runs at every decision until a change point', () => {
    const p = pct([0, 1, 2, 3], [50]);
    for (let d = 0; d < 50; d++) expect(p.pick([1, 2, 3], d)).toBe(2);
    expect(p.pick([1, 2, 3], 50)).toBe(1);
  });
});

describe('a PCT run', () => {
  const s: ScheduledScenario = { ...scenario(hostData(4), [upload(), readVersion]), pct: { priorities: [1, 7, 3, 9, 2, 8, 4, 6], changePoints: [12, 30] } };

  it('is decided by its PCT data, not by the schedule, and replays the same', () => {
    expect(order(s)).toBe(order({ ...s, schedule: [3, 1, 4, 1, 5] }));
    expect(order(s)).not.toBe(order({ ...s, pct: { priorities: [9, 1, 8, 2, 7, 3, 6, 4], changePoints: [5, 40] } }));
    expect(order(s)).not.toBe(order({ ...s, pct: undefined }));
  });

  it('keeps its PCT data through the corpus schema and the minimizer’s normal form', () => {
    expect(scenarioSchema.parse(JSON.parse(JSON.stringify(s)))).toMatchObject({ pct: s.pct });
    expect(inSchemaOrder(s)).toMatchObject({ pct: s.pct });
    expect(normalize(s)).toMatchObject({ pct: s.pct });
  });

  it('of a correct kernel ends without a violation, whatever the priorities (strict ones starve no update: waiting tasks are not runnable)', () => {
    fc.assert(
      fc.property(pctData(3, 300), fc.integer({ min: 2, max: 6 }), (data, cpus) => {
        const r = runScenario({ ...scenario(hostData(cpus), [upload(), readVersion]), pct: data }, { revision: V2, bugs: NO_BUGS });
        expect(r.violation).toBeNull();
      }),
      { numRuns: 40, seed: 13 },
    );
  });
});

describe('--scheduler pct', () => {
  const o = (scheduler: 'random' | 'pct'): CheckOptions => ({ seed: 1, budget: BUDGETS.quick, revision: V2, bugs: NO_BUGS, scheduler, pctDepth: 4 });

  it('draws PCT data with depth-1 change points beside each scenario; random draws none', () => {
    for (const s of fc.sample(scenarios(PROPERTIES[0]!, o('pct')), { seed: 2, numRuns: 20 })) {
      expect(s.pct?.changePoints).toHaveLength(3);
      expect(s.schedule).toEqual([]);
    }
    for (const s of fc.sample(scenarios(PROPERTIES[0]!, o('random')), { seed: 2, numRuns: 20 })) expect(s.pct).toBeUndefined();
  });

  it('runs, and summary.json says which scheduler ran and how many distinct states it reached', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-pct-'));
    const args = ['--property', 'corrupt-images', '--scheduler', 'pct', '--pct-depth', '2', '--reports', dir, '--no-corpus', '--progress', '0'];
    const r = spawnSync(process.execPath, ['harness/cli.mjs', ...args], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/distinct model states: \d+, distinct \(state, action\) pairs: \d+, over 100 runs/);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.exploration).toMatchObject({ scheduler: 'pct', pctDepth: 2, scenarios: 100, executions: 100, complete: false });
    expect(summary.exploration.distinctStates).toBeGreaterThan(1);
  });

  it.each([
    [['--scheduler', 'dfs'], /^verify: --scheduler must be random or pct or exhaustive, not "dfs" \(/],
    [['--pct-depth', '3'], /^verify: --pct-depth needs --scheduler pct \(/],
    [['--scheduler', 'pct', '--pct-depth', '0'], /^verify: --pct-depth must be a whole number from 1 to 10, not "0" \(/],
    [['--faults', 'all', '--scheduler', 'pct'], /^verify: --faults all runs every seeded bug on its own revision; --scheduler does not apply/],
  ])('%j is refused with one line and exit 2', (args, line) => {
    const r = spawnSync(process.execPath, ['harness/cli.mjs', ...args], { encoding: 'utf8', cwd: ROOT });
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(line)]);
  });
});
