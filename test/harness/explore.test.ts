// Distinct-state coverage (issue 13): a model state has one key however it was built, runs
// report the states they reached and the (state, action) pairs they took, and the count over
// runs is of distinct ones.
import { describe, expect, it } from 'vitest';
import { boundReport, DistinctStates, exhaustive, KEY_LENGTH, REACHED_MAX, ReachedUnion, reachedKeys, stateKey, UNION_MAX } from '../../harness/explore.ts';
import { runScenario } from '../../harness/run.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { clone, init, setOnline, type ModelState } from '../../model/state.ts';
import { V2 } from '../../properties/revisions/index.ts';
import { hostSpec } from '../../properties/scenario.ts';
import { corrupt, hostData, readVersion, scenario, upload } from '../impl/kernel/helpers.ts';

const fresh = (): ModelState => init(V2.contract, hostSpec(hostData(2)));
const td = (phase: 'created' | 'finalized') => ({
  phase,
  alive: true,
  created: true,
  buildBroken: false,
  pages: new Map(),
  mrtd: null,
  launch: { version: { major: 1, minor: 5, update: 8 }, seamsvn: 0 },
});
const reached = (commands: Parameters<typeof scenario>[1]) => runScenario(scenario(hostData(2), commands), { revision: V2, bugs: NO_BUGS }).reached;

describe('stateKey', () => {
  it('is the same for equal states, whatever order their maps were filled in', () => {
    const a = fresh(),
      b = fresh();
    a.tds.set(1, td('created')).set(2, td('finalized'));
    b.tds.set(2, td('finalized')).set(1, td('created'));
    expect(stateKey(a)).toBe(stateKey(b));
    expect(stateKey(clone(a))).toBe(stateKey(a));
  });

  it('differs when anything the model holds differs', () => {
    const a = fresh();
    for (const change of [(s: ModelState) => s.slots--, (s: ModelState) => setOnline(s, 1, false), (s: ModelState) => (s.upload.busy = true)]) {
      const b = clone(a);
      change(b);
      expect(stateKey(b)).not.toBe(stateKey(a));
    }
  });

  it('names a state the same after the names kept so far were let go (more states than it keeps)', () => {
    const a = fresh();
    a.tds.set(1, td('created'));
    const first = stateKey(a);
    const other = fresh();
    for (let i = 0; i < 70_000; i++) {
      other.seamsvn = i;
      stateKey(other);
    }
    expect(stateKey(clone(a))).toBe(first);
  });

  it('differs on two hosts for states alike in all an action changes', () => {
    const spec = hostSpec(hostData(2));
    const a = init(V2.contract, spec),
      b = init(V2.contract, { ...spec, debugUnlocked: !spec.debugUnlocked });
    expect(stateKey(a)).toBe(stateKey(init(V2.contract, spec)));
    expect(stateKey(b)).not.toBe(stateKey(a));
  });
});

describe('what a run reached', () => {
  it('no command: the initial state only, no pair', () => {
    const r = reached([]);
    expect(r.states.size).toBe(1);
    expect(r.pairs.size).toBe(0);
  });

  it('an upload that applies: new states and a pair per state change, named by the action', () => {
    const r = reached([upload(), readVersion]);
    expect(r.states.size).toBeGreaterThan(2);
    expect([...r.pairs].some((p) => / update applied/.test(p))).toBe(true);
  });

  it('a refused upload reaches other pairs than an applied one', () => {
    const ok = reached([upload()]),
      bad = reached([upload(corrupt({ kind: 'bad_magic' }))]);
    expect([...bad.pairs].filter((p) => ok.pairs.has(p)).length).toBeLessThan(bad.pairs.size);
  });
});

describe('DistinctStates', () => {
  it('counts each state and pair once over runs, and how the count grew', () => {
    const d = new DistinctStates();
    const r = reached([upload()]);
    d.add(r);
    d.add(r);
    d.add(reached([]));
    expect(d.states.size).toBe(r.states.size);
    expect(d.pairs.size).toBe(r.pairs.size);
    expect(d.growth.map((g) => g.runs)).toEqual([1, 2, 3]);
    expect(d.growth.map((g) => g.states)).toEqual([r.states.size, r.states.size, r.states.size]);
  });
});

describe('reachedKeys and ReachedUnion (what shards write, what --merge counts)', () => {
  const key = (i: number) => String(i).padStart(KEY_LENGTH, 'A');
  const reached = (states: number[], pairs: string[]) => ({ states: new Set(states.map(key)), pairs: new Set(pairs) });
  const counted = (states: number, pairs: number) => ({ distinctStates: states, distinctPairs: pairs });

  it('a state or pair two shards reached counts once', () => {
    const a = reachedKeys(reached([1, 2, 3], ['1 upload', '2 fw_done']))!;
    const b = reachedKeys(reached([3, 4], ['2 fw_done', '3 cpu_offline']))!;
    expect(a.states).toHaveLength(3 * KEY_LENGTH);
    expect(a.pairs).toMatch(/^[A-Za-z0-9+/]{32}$/);
    const u = new ReachedUnion();
    u.add(a, counted(3, 2));
    u.add(b, counted(2, 2));
    expect(u.counts()).toEqual({ states: 4, pairs: 3, exact: true });
  });

  it('a shard that wrote no names makes the counts at least the larger of the union and the most one shard counted', () => {
    const u = new ReachedUnion();
    u.add(reachedKeys(reached([1, 2, 3], ['x']))!, counted(3, 1));
    u.add(null, counted(2, 5));
    expect(u.counts()).toEqual({ states: 3, pairs: 5, exact: false });
  });

  it('stops collecting past UNION_MAX names, and counts at least as many', () => {
    // shards of REACHED_MAX names each, none another's: the union would grow with every one
    const shard = (k: number) => ({ states: Array.from({ length: REACHED_MAX }, (_, i) => key(k * REACHED_MAX + i)).join(''), pairs: '' });
    const u = new ReachedUnion();
    const shards = UNION_MAX / REACHED_MAX + 2;
    for (let k = 0; k < shards; k++) u.add(shard(k), counted(REACHED_MAX, 0));
    expect(u.counts()).toEqual({ states: UNION_MAX, pairs: 0, exact: false });
  });

  it('writes no names past REACHED_MAX, so a shard summary stays within its limit', () => {
    const many = Array.from({ length: REACHED_MAX }, (_, i) => i);
    expect(reachedKeys(reached(many, []))).not.toBeNull();
    expect(reachedKeys(reached(many, ['one more']))).toBeNull();
  });
});

describe('what an exhaustive run may claim', () => {
  const run = (complete: boolean, capped: number, reused = 0, inert = 0) => ({ runs: 10, executions: 500, complete, capped, reused, inert });
  const d = new DistinctStates();

  it('a proof only when every enumerated scenario ran every schedule within the bound', () => {
    const proved = exhaustive({ preemptions: 2, exploreCommands: 1, cpus: 2 }, [run(true, 0), run(true, 0)], d);
    expect(proved).toMatchObject({ complete: true, scenarios: 20, executions: 1000, bound: { cpus: 2, commands: 1, preemptions: 2 } });
    expect(boundReport(proved)).toMatch(/^proved within the bound: every scenario of 1 to 1 commands .* on 2 CPUs, every schedule within 2 preemptions/);
    const short = exhaustive({ preemptions: 2, exploreCommands: 1, cpus: 2 }, [run(true, 0), run(false, 1)], d);
    expect(short).toMatchObject({ complete: false, capped: 1 });
    expect(boundReport(short)).toMatch(/, except 1 stopped at the cap on executions or the time limit: 1000 executions; not a proof/);
  });

  it('says how many scenarios one property took from another', () => {
    const shared = exhaustive({ preemptions: 2, exploreCommands: 1, cpus: 2 }, [run(true, 0), run(true, 0, 4)], d);
    expect(shared.reused).toBe(4);
    expect(boundReport(shared)).toMatch(/: 20 scenarios, 1000 executions \(4 of the scenarios were another property's too, explored once\)$/);
  });

  it('says how many scenarios it did not run, and why', () => {
    const skipped = exhaustive({ preemptions: 2, exploreCommands: 2, cpus: 2 }, [run(true, 0, 0, 3), run(true, 0, 0, 2)], d);
    expect(skipped.inert).toBe(5);
    expect(boundReport(skipped)).toMatch(
      /: 20 scenarios \(5 not run: each has a TD command before any td_create, which finds no TD and does nothing, so it is the scenario without that command\), 1000 executions$/,
    );
  });

  it('never a proof on drawn scenarios', () => {
    const drawn = exhaustive({ preemptions: 1, cpus: 2 }, [run(false, 0)], d);
    expect(drawn.complete).toBe(false);
    expect(boundReport(drawn)).toBe(
      'every schedule within 1 preemption (departures from round-robin) of each of 10 scenarios: 500 executions; not a proof (the scenarios were drawn, not enumerated)',
    );
  });
});
