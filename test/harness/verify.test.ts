import { describe, expect, it } from 'vitest';
import { NO_BUGS, SEEDED_BUGS, type BugName } from '../../impl/faults.ts';
import { SEED } from '../../impl/kernel/revision.ts';
import { PROPERTIES } from '../../properties/catalog.ts';
import { REQUIRED_LABELS } from '../../harness/coverage.ts';
import { BUDGETS, checkProperty, type Budget } from '../../harness/verify.ts';

const small: Budget = { ...BUDGETS.quick, numRuns: 40 };

describe('the property catalog on the seed kernel', () => {
  for (const p of PROPERTIES) {
    it(`${p.id} holds`, () => {
      const r = checkProperty(p, { seed: 7, budget: small, rev: SEED, bugs: NO_BUGS });
      expect(r.counterexample?.run.violation ?? null).toBeNull();
      expect(r.status).toBe('holds');
      expect(r.runs).toBe(40);
    });
  }

  it('the quick budget reaches every command, fault, image corruption and outcome the properties name', () => {
    const reached = new Set<string>();
    for (const p of PROPERTIES) {
      for (const l of checkProperty(p, { seed: 42, budget: BUDGETS.quick, rev: SEED, bugs: NO_BUGS }).coverage.keys()) reached.add(l);
    }
    expect(REQUIRED_LABELS.filter((l) => !reached.has(l))).toEqual([]);
  });
});

/** Seeded bugs the seed revision can show; B4 needs a kernel without the CPU-online precheck. */
const DETECTABLE: { bug: BugName; invariant: string; maxCommands: number }[] = [
  { bug: 'ack-before-fail', invariant: 'I-5', maxCommands: 1 },
  { bug: 'no-early-abort', invariant: 'I-5', maxCommands: 1 },
  { bug: 'stale-handoff-hv', invariant: 'refinement', maxCommands: 1 },
  { bug: 'header-before-size', invariant: 'I-15', maxCommands: 1 },
  { bug: 'sticky-cancel', invariant: 'result', maxCommands: 2 },
  { bug: 'run-update-int-truncation', invariant: 'I-9', maxCommands: 1 },
];

describe('seeded bugs are caught with a short counterexample', () => {
  for (const d of DETECTABLE) {
    it(`${d.bug} (${SEEDED_BUGS.find((b) => b.name === d.bug)!.catalogId})`, () => {
      const found = PROPERTIES.map((p) => checkProperty(p, { seed: 42, budget: BUDGETS.quick, rev: SEED, bugs: new Set([d.bug]) }))
        .find((r) => r.counterexample);
      const cx = found?.counterexample;
      expect(cx?.run.violation?.id).toBe(d.invariant);
      expect(cx!.scenario.commands.length).toBeLessThanOrEqual(d.maxCommands);
    });
  }
});
