// Sharding is a pure function of (properties, seed, runs, n); JUnit XML is escaped and one
// testcase per property.
import { describe, expect, it } from 'vitest';
import { PROPERTIES } from '../../properties/catalog.ts';
import { junitXml, type Summary } from '../../harness/reports.ts';
import { parseShard, plan } from '../../harness/shard.ts';
import { BUDGETS, exploreShare } from '../../harness/verify.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { V2 } from '../../properties/revisions/index.ts';

describe('plan', () => {
  it.each([1, 2, 3, 5, 8, 13])('%i shards cover every property exactly once per chunk, all runs, each shard every property', (n) => {
    const units = Array.from({ length: n }, (_, i) => plan(PROPERTIES, 42, 100, { index: i + 1, count: n }));
    for (const p of PROPERTIES) {
      const mine = units.flat().filter((u) => u.property === p);
      expect(mine.reduce((s, u) => s + u.runs, 0)).toBe(100);
      expect(new Set(mine.map((u) => u.chunk)).size).toBe(mine.length);
      expect(mine.map((u) => u.seed).sort((a, b) => a - b)).toEqual(mine.map((u) => 42 + u.chunk).sort((a, b) => a - b));
    }
    for (const u of units) expect(u.map((x) => x.property.id)).toEqual(PROPERTIES.map((p) => p.id));
  });

  it('one shard of one is the plain run; more shards than runs leave empty chunks out', () => {
    expect(plan(PROPERTIES, 7, 100, { index: 1, count: 1 })).toEqual(plan(PROPERTIES, 7, 100, null));
    const tiny = Array.from({ length: 4 }, (_, i) => plan(PROPERTIES.slice(0, 1), 7, 2, { index: i + 1, count: 4 })).flat();
    expect(tiny.map((u) => u.runs)).toEqual([1, 1]);
  });

  it.each([1, 2, 3, 7])("exploring, each of %i shards gets every property on the run's seed; their shares of the scenarios add up to all", (n) => {
    for (let i = 1; i <= n; i++) {
      const units = plan(PROPERTIES, 42, 100, { index: i, count: n }, true);
      expect(units.map((u) => [u.property.id, u.seed, u.chunk])).toEqual(PROPERTIES.map((p) => [p.id, 42, i - 1]));
    }
  });

  it.each([2, 3, 7])("exploring, the %i shards' shares of each property's scenarios add up to all of them, and none is empty", (n) => {
    const o = { seed: 42, budget: BUDGETS.quick, revision: V2, bugs: NO_BUGS, cpus: 2, scheduler: 'exhaustive' as const };
    for (const p of PROPERTIES) {
      const shares = Array.from({ length: n }, (_, i) => exploreShare(p, o, 2, { index: i + 1, count: n }));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(exploreShare(p, o, 2, null));
      expect(Math.min(...shares)).toBeGreaterThan(0);
    }
  });

  it('parses I/N', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '1', '-1/2', '1/2/3']) expect(parseShard(bad)).toBeNull();
  });
});

describe('junitXml', () => {
  it('one testcase per property; failures carry the violation and the replay line, escaped', () => {
    const s = {
      tool: 'tdx-update-verify',
      version: '0.1.0',
      kernel: 'v2',
      budget: 'quick',
      seed: 1,
      fault: null,
      cpus: null,
      shard: null,
      replay: null,
      merged: null,
      status: 'fails',
      exit: 1,
      coverage: {},
      counterexamples: [],
      properties: [
        { id: 'a', status: 'holds', runs: 10, requested: 10, commands: 50, ms: 1200, seed: 1, firstFailure: null, counterexample: null },
        {
          id: 'b',
          status: 'fails',
          runs: 3,
          requested: 10,
          commands: 9,
          ms: 10,
          seed: 1,
          firstFailure: { runs: 3, commands: 9 },
          counterexample: {
            name: 'b-1',
            length: 1,
            violation: { id: 'result', message: 'fw_prepare returned "user-abort" <&>' },
            seed: 1,
            path: '2',
            shrinks: 0,
            file: 'f.json',
            replay: 'npm run verify -- --replay f.json',
            scenario: {},
          },
        },
        { id: 'c', status: 'exhausted', runs: 3, requested: 10, commands: 9, ms: 10, seed: 1, firstFailure: null, counterexample: null },
      ],
    } as unknown as Summary;
    const x = junitXml(s);
    expect(x.match(/<testcase /g)).toHaveLength(3);
    expect(x).toContain('failures="1"');
    expect(x).toContain(
      '<failure message="result: fw_prepare returned &quot;user-abort&quot; &lt;&amp;&gt; | replay: npm run verify -- --replay f.json" type="result">',
    );
    expect(x).toContain('<skipped message="time budget ran out after 3 of 10 runs; no counterexample"/>');
    expect(x).toContain('time="1.200"');
  });
});
