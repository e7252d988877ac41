// The canonicalizing pass: from different failing starting points of one bug it ends in one
// scenario; every step it takes is strictly smaller in its order; it is deterministic and
// bounded; normalizing never changes what a scenario does.
import { describe, expect, it } from 'vitest';
import { NO_BUGS, type BugName } from '../../impl/faults.ts';
import { V2 } from '../../properties/revisions/index.ts';
import type { Command } from '../../properties/commands/index.ts';
import { useRealBlobs, type ImageRef } from '../../properties/images.ts';
import type { HostData, Scenario } from '../../properties/scenario.ts';
import { compareKeys, minimize, normalize, scenarioKey } from '../../harness/minimize.ts';
import { runScenario } from '../../harness/run.ts';

const host = (over: Partial<HostData> = {}): HostData => ({
  nrCpus: 1,
  boot: { release: '1.5.01', moduleHv: 0, minUpdateHv: 0, noDowngrade: false },
  slots: 1,
  debugUnlocked: false,
  ...over,
});
const image = (over: Partial<ImageRef> = {}): ImageRef => ({
  release: '1.5.01',
  svnDelta: 0,
  moduleHv: 0,
  minUpdateHv: 0,
  noDowngrade: false,
  debug: false,
  corruption: null,
  ...over,
});
const upload = (over: Partial<ImageRef> = {}, fault: Extract<Command, { kind: 'upload' }>['fault'] = null): Command => ({
  kind: 'upload',
  image: image(over),
  fault,
});

/** Fails with the bug on and `id`, passes with it off: what verify keeps for a seeded bug. */
function showsBug(bug: BugName, id: string) {
  return (s: Scenario) =>
    runScenario(s, { revision: V2, bugs: new Set([bug]) }).violation?.id === id && runScenario(s, { revision: V2, bugs: NO_BUGS }).violation === null;
}

describe('minimize', () => {
  const fails = showsBug('ack-before-fail', 'I-5');
  const starts: Scenario[] = [
    {
      host: host({ nrCpus: 1, slots: 3 }),
      commands: [{ kind: 'read_version' }, upload({}, { kind: 'install', cpu: 4 }), { kind: 'cancel' }],
      schedule: [3, 0, 2, 1, 0],
    },
    { host: host({ nrCpus: 2, slots: 2 }), commands: [upload({ debug: true })], schedule: [1, 1] },
    { host: host({ boot: { release: '1.5.01', moduleHv: 1, minUpdateHv: 0, noDowngrade: false } }), commands: [upload()], schedule: [] },
    { host: host({ nrCpus: 3 }), commands: [upload({ corruption: { kind: 'rogue_key' } }), { kind: 'read_error' }], schedule: [0, 0, 0] },
    { host: host(), commands: [upload({}, { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null })], schedule: [] },
  ];

  it('ends in one scenario from different starting points of the same bug', () => {
    const ends = starts.map((s) => {
      expect(fails(s)).toBe(true);
      const m = minimize(s, fails, { revision: V2 });
      expect(m.complete).toBe(true);
      expect(fails(m.scenario)).toBe(true);
      return JSON.stringify(m.scenario);
    });
    expect(new Set(ends).size).toBe(1);
    expect(JSON.parse(ends[0]!)).toEqual({ host: host(), commands: [upload({}, { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null })], schedule: [] });
  });

  it('is deterministic and never ends above where it started', () => {
    const a = minimize(starts[0]!, fails, { revision: V2 }),
      b = minimize(starts[0]!, fails, { revision: V2 });
    expect(b).toEqual(a);
    expect(compareKeys(scenarioKey(a.scenario), scenarioKey(normalize(starts[0]!)))).toBeLessThan(0);
  });

  it('stays within its run budget and stops when asked, keeping the best so far', () => {
    const few = minimize(starts[0]!, fails, { revision: V2, maxRuns: 5 });
    expect(few.runs).toBeLessThanOrEqual(5);
    expect(few.complete).toBe(false);
    expect(fails(few.scenario)).toBe(true);
    const stopped = minimize(starts[0]!, fails, { revision: V2, stop: () => true });
    expect(stopped.runs).toBe(0);
    expect(stopped.scenario).toEqual(normalize(starts[0]!));
  });

  it('normalize only rewrites defaults: same run, and it is idempotent', () => {
    const s: Scenario = {
      host: { ...host({ nrCpus: 2 }), erratum: false },
      commands: [
        { kind: 'read_seamldr', attr: 'version' },
        { kind: 'upload', image: { ...image(), format: 'v1' }, fault: null },
      ],
      schedule: [1, 0],
    };
    const n = normalize(s);
    expect(n.host).not.toHaveProperty('erratum');
    expect(n.commands[0]).toEqual({ kind: 'read_seamldr', attr: 'version', cpu: 0 });
    expect(normalize(n)).toEqual(n);
    const a = runScenario(s, { revision: V2, bugs: NO_BUGS }),
      b = runScenario(n, { revision: V2, bugs: NO_BUGS });
    expect([b.steps, b.violation]).toEqual([a.steps, a.violation]);
  });

  it('orders fewer commands before anything else, then fewer CPUs', () => {
    const one = { host: host({ nrCpus: 8 }), commands: [upload({ debug: true })], schedule: [9, 9, 9] };
    const two = { host: host(), commands: [{ kind: 'read_version' as const }, { kind: 'read_version' as const }], schedule: [] };
    expect(compareKeys(scenarioKey(one), scenarioKey(two))).toBeLessThan(0);
    expect(compareKeys(scenarioKey({ ...one, host: host({ nrCpus: 2 }) }), scenarioKey(one))).toBeLessThan(0);
  });
});

describe('minimize with Intel blobs (--blobs DIR)', () => {
  it('never tries a real ref of a release whose blob is not loaded: moving a release keeps the ref real', () => {
    useRealBlobs(new Map([['1.5.08', new Uint8Array(0)]]));
    try {
      const tried: Scenario[] = [];
      const s: Scenario = {
        host: host({ boot: { release: '1.5.08', moduleHv: 0, minUpdateHv: 0, noDowngrade: false } }),
        commands: [upload({ release: '1.5.08', real: true })],
        schedule: [],
      };
      minimize(s, (x) => tried.push(x) > 0);
      const real = tried.flatMap((x) => x.commands.flatMap((c) => (c.kind === 'upload' && c.image.real ? [c.image.release] : [])));
      expect(real.length).toBeGreaterThan(0);
      expect(new Set(real)).toEqual(new Set(['1.5.08']));
    } finally {
      useRealBlobs(new Map());
    }
  });
});
