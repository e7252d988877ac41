import { describe, expect, it } from 'vitest';
import { NO_BUGS, SEEDED_BUGS, type BugName } from '../../impl/faults.ts';
import { V2 } from '../../properties/revisions/index.ts';
import { PROPERTIES } from '../../properties/catalog.ts';
import { REQUIRED_LABELS } from '../../harness/coverage.ts';
import { BUDGETS, checkProperty, type Budget } from '../../harness/verify.ts';

const small: Budget = { ...BUDGETS.quick, numRuns: 40 };

describe('the property catalog on the seed kernel', () => {
  for (const p of PROPERTIES) {
    it(`${p.id} holds`, async () => {
      const r = await checkProperty(p, { seed: 7, budget: small, revision: V2, bugs: NO_BUGS });
      expect(r.counterexample?.run.violation ?? null).toBeNull();
      expect(r.status).toBe('holds');
      expect(r.runs).toBe(40);
    });
  }

  it('the quick budget reaches every command, fault, image corruption and outcome the properties name', async () => {
    const reached = new Set<string>();
    for (const p of PROPERTIES) {
      for (const l of (await checkProperty(p, { seed: 42, budget: BUDGETS.quick, revision: V2, bugs: NO_BUGS })).coverage.keys()) reached.add(l);
    }
    expect(REQUIRED_LABELS.filter((l) => !reached.has(l))).toEqual([]);
  });
});

/** Seeded bugs the seed revision shows, with the check that catches each and the shortest counterexample. */
const KNOWN: Record<string, { invariant: string; maxCommands: number }> = {
  'ack-before-fail': { invariant: 'I-5', maxCommands: 1 },
  'no-early-abort': { invariant: 'I-5', maxCommands: 1 },
  'stale-handoff-hv': { invariant: 'refinement', maxCommands: 1 },
  'header-before-size': { invariant: 'I-15', maxCommands: 1 },
  'sticky-cancel': { invariant: 'result', maxCommands: 2 },
  'run-update-int-truncation': { invariant: 'I-9', maxCommands: 1 },
  'seamldr-info-unlocked': { invariant: 'I-13', maxCommands: 2 },
};
/** Those, and any other bug whose catalog record says the seed kernel shows it. */
const DETECTABLE = SEEDED_BUGS.filter((b) => b.name in KNOWN || (b as { kernel?: string }).kernel === 'v2').map((b) => ({
  bug: b.name as BugName,
  invariant: KNOWN[b.name]?.invariant ?? null,
  maxCommands: KNOWN[b.name]?.maxCommands ?? (b as { minimalLength?: number }).minimalLength ?? 3,
}));

async function firstCounterexample(bug: BugName, seed: number) {
  for (const p of PROPERTIES) {
    const r = await checkProperty(p, { seed, budget: BUDGETS.quick, revision: V2, bugs: new Set([bug]) });
    if (r.counterexample) return r.counterexample;
  }
  return null;
}

describe('seeded bugs are caught with a short counterexample that needs the bug', () => {
  for (const d of DETECTABLE) {
    it(`${d.bug} (${SEEDED_BUGS.find((b) => b.name === d.bug)!.catalogId})`, async () => {
      const cx = await firstCounterexample(d.bug, 42);
      expect(cx).not.toBeNull();
      if (d.invariant) expect(cx!.run.violation?.id).toBe(d.invariant);
      expect(cx!.scenario.commands.length).toBeLessThanOrEqual(d.maxCommands);
      expect(cx!.bug).toBe(d.bug);
      expect(cx!.minimize.complete).toBe(true);
    });
  }
});

describe('checkProperty', () => {
  const contract = PROPERTIES.find((p) => p.id === 'update-contract')!;

  it('is deterministic: the same seed gives the same runs and the same counterexample', async () => {
    const o = { seed: 3, budget: BUDGETS.quick, revision: V2, bugs: new Set(['no-early-abort'] as const) };
    const [a, b] = [await checkProperty(contract, o), await checkProperty(contract, o)];
    expect(a.runs).toBe(b.runs);
    expect(a.counterexample?.path).toBe(b.counterexample?.path);
    expect(JSON.stringify(a.counterexample?.scenario)).toBe(JSON.stringify(b.counterexample?.scenario));
  });

  it('two seeds that find the same bug end in the same canonical counterexample', async () => {
    const a = await firstCounterexample('ack-before-fail', 1),
      b = await firstCounterexample('ack-before-fail', 2);
    expect(JSON.stringify(a?.scenario)).toBe(JSON.stringify(b?.scenario));
  });

  it('a stop signal ends the search at once: interrupted, nothing claimed', async () => {
    const r = await checkProperty(contract, { seed: 1, budget: BUDGETS.quick, revision: V2, bugs: NO_BUGS, signal: { stopped: true } });
    expect(r.status).toBe('interrupted');
    expect(r.runs).toBe(0);
  });

  it('a stop while shrinking keeps the counterexample found so far', async () => {
    const signal = { stopped: false };
    const r = await checkProperty(contract, {
      seed: 1,
      budget: BUDGETS.quick,
      revision: V2,
      bugs: new Set(['ack-before-fail'] as const),
      signal,
      onRun: (_r, _c, failed) => {
        if (failed) signal.stopped = true;
      },
    });
    expect(r.status).toBe('fails');
    expect(r.counterexample?.run.violation?.id).toBe('I-5');
  });

  it('an exhausted time budget is reported as such, not as a pass or a failure', async () => {
    const r = await checkProperty(contract, { seed: 1, budget: { ...BUDGETS.deep, timeLimitMs: 1 }, revision: V2, bugs: NO_BUGS });
    expect(r.status).toBe('exhausted');
    expect(r.runs).toBeLessThan(r.requested);
    expect(r.counterexample).toBeNull();
  });
});
