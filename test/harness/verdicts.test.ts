import { describe, expect, it } from 'vitest';
import { REVISIONS } from '../../properties/revisions/index.ts';
import { GOALS } from '../../properties/stack_goals.ts';
import { checkGoal, expectedVerdict } from '../../harness/verdicts.ts';

describe('the revision x goal verdicts match each revision record', () => {
  for (const rev of REVISIONS) {
    for (const goal of GOALS) {
      const expected = expectedVerdict(rev, goal.id);
      it(`${rev.name} / ${goal.id}: ${expected}`, () => {
        const v = checkGoal(rev, goal, 42, 200);
        expect(v.violation?.id ?? null).toBe(expected === 'holds' ? null : goal.id);
        expect(v.verdict).toBe(expected);
        if (v.counterexampleLength !== null) expect(v.counterexampleLength).toBeLessThanOrEqual(8);
      });
    }
  }
});
