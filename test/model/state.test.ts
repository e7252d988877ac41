// Tests for model/state.ts: the initial state, the type invariant (each clause can fail), and
// that typeOk and the contract's promises hold on every state reachable through the actions of
// model/, explored by a seeded, deterministic random walk.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpuOffline, cpuOnline, readVersion } from '../../model/host.ts';
import { clone, init, setOnline, typeOk, type ModelState } from '../../model/state.ts';
import { tdCreate, tdExtend, tdFinalize, tdInit, tdKeyConfig, tdPageAdd, tdRun, tdTeardown } from '../../model/td.ts';
import type { ContractParams, FaultPlan, ModelImage } from '../../model/types.ts';
import { cancel, fwDone, fwLoad, fwPrepare, fwWrite, readError, update } from '../../model/update.ts';
import { BOOT, COMPAT_PARAMS, hostSpec, img, NEXT, NO_PRECHECKS, spec, state, take, UPSTREAM_PARAMS, V2_PARAMS, withoutUpload, withTds } from './fixtures.ts';

describe('init', () => {
  it('every CPU online, the boot module ready, P-SEAMLDR as configured, no TD, an idle upload node', () => {
    const s = init(V2_PARAMS, hostSpec({ nrCpus: 3, boot: spec(6, { moduleHv: 2, minUpdateHv: 1 }), numRemainingUpdates: 5 }));
    expect(s.online).toEqual([true, true, true]);
    expect(s.module).toEqual({ status: 'ready', spec: spec(6, { moduleHv: 2, minUpdateHv: 1 }) });
    expect(s.handoffHv).toBe(2);
    expect(s.slots).toBe(5);
    expect(s.seamsvn).toBe(BOOT.seamsvn);
    expect(s.tds.size).toBe(0);
    expect(s.upload).toEqual({
      busy: false,
      error: '',
      remainingSize: 0,
      cancelRequested: false,
      cancelledAtWrite: false,
      pending: null,
      ended: null,
      wedged: false,
    });
    expect(typeOk(s)).toBe(true);
  });
});

describe('typeOk', () => {
  const broken: readonly (readonly [string, (s: ModelState) => void])[] = [
    [
      'the boot CPU offline',
      (s) => {
        setOnline(s, 0, false);
      },
    ],
    [
      'negative slots',
      (s) => {
        s.slots = -1;
      },
    ],
    [
      'a live TD on a lost module',
      (s) => {
        s.module = { status: 'lost', lpInitWorks: false };
      },
    ],
    [
      'an idle upload node with a pending image',
      (s) => {
        s.upload.pending = { image: img(), fault: null };
      },
    ],
    [
      'an idle upload node with an ended update',
      (s) => {
        s.upload.ended = { applied: true, errno: 0 };
      },
    ],
    [
      'a measurement in a TD that was never initialized',
      (s) => {
        s.tds.get(2)!.mrtd = { op: 'page_add', gpa: 0, prev: null };
      },
    ],
    [
      'more slots than P-SEAMLDR had',
      (s) => {
        s.slots = s.host.numRemainingUpdates + 1;
      },
    ],
    [
      'a broken build outside the build phase',
      (s) => {
        s.tds.get(4)!.buildBroken = true;
      },
    ],
    [
      'an error readable while an upload is in flight',
      (s) => {
        s.upload.busy = true;
        s.upload.error = 'transferring:firmware-invalid';
      },
    ],
  ];
  it.each(broken)('fails on %s', (_name, breakIt) => {
    const s = withTds(state());
    expect(typeOk(s)).toBe(true);
    breakIt(s);
    expect(typeOk(s)).toBe(false);
  });
  it('accepts a lost module whose TDs are all dead', () => {
    const s = withTds(state());
    s.module = { status: 'lost', lpInitWorks: true };
    for (const td of s.tds.values()) td.alive = false;
    expect(typeOk(s)).toBe(true);
  });
});

// ---- reachable states ----

const IMAGES: readonly ModelImage[] = [
  img(NEXT),
  img(spec(9)),
  img(NEXT, 'header'),
  img(NEXT, 'signature'),
  img(NEXT, 'hash'),
  img(spec(8, { debug: true })),
  img(spec(8, { seamsvn: 1 })),
  img(spec(8, { cpuids: [0xa06d0] })),
  img(spec(8, { moduleHv: 1, minUpdateHv: 1 })),
  img(spec(8, { moduleHv: 2, noDowngrade: true })),
  img(NEXT, 'none', 0),
  img(spec(8, { updateCompat: true })),
  img(spec(9, { updateCompat: true })),
];
const FAULTS: readonly (FaultPlan | null)[] = [
  null,
  null,
  null,
  { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null },
  { kind: 'leaf', leaf: 'SYS_INIT', cpu: null },
  { kind: 'leaf', leaf: 'LP_INIT', cpu: 1 },
  { kind: 'leaf', leaf: 'UPDATE', cpu: null },
  { kind: 'install', cpu: 0 },
  { kind: 'no_entropy', count: 1 },
  { kind: 'no_entropy', count: 2 },
];

type Act =
  | { k: 'offline' | 'online'; cpu: number }
  | { k: 'create' | 'key' | 'init' | 'finalize' | 'teardown'; td: number }
  | { k: 'add' | 'extend'; td: number; gpa: number }
  | { k: 'run'; td: number; gpa: number; offset: number; value: number }
  | { k: 'load'; image: number; fault: number; pick: number }
  | { k: 'advance'; pick: number }
  | { k: 'cancel' | 'read' };

const td = fc.nat({ max: 3 }),
  gpa = fc.nat({ max: 2 });
const act: fc.Arbitrary<Act> = fc.oneof(
  fc.record({ k: fc.constantFrom('offline' as const, 'online' as const), cpu: fc.nat({ max: 3 }) }),
  fc.record({ k: fc.constantFrom('create' as const, 'key' as const, 'init' as const, 'finalize' as const, 'teardown' as const), td }),
  fc.record({ k: fc.constantFrom('add' as const, 'extend' as const), td, gpa }),
  fc.record({ k: fc.constant('run' as const), td, gpa, offset: fc.nat({ max: 4095 }), value: fc.nat({ max: 255 }) }),
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('load' as const),
      image: fc.nat({ max: IMAGES.length - 1 }),
      fault: fc.nat({ max: FAULTS.length - 1 }),
      pick: fc.nat({ max: 1 }),
    }),
  },
  { weight: 8, arbitrary: fc.record({ k: fc.constant('advance' as const), pick: fc.nat({ max: 3 }) }) },
  fc.constant({ k: 'cancel' as const }),
  fc.constant({ k: 'read' as const }),
);

const walk = fc.record({
  params: fc.constantFrom<ContractParams>(V2_PARAMS, NO_PRECHECKS, COMPAT_PARAMS, UPSTREAM_PARAMS, { ...V2_PARAMS, currentHandoffHv: false }),
  updateCompat: fc.boolean(),
  nrCpus: fc.integer({ min: 1, max: 4 }),
  slots: fc.nat({ max: 3 }),
  debugUnlocked: fc.boolean(),
  acts: fc.array(act, { maxLength: 60, size: 'max' }),
});

interface Walk {
  params: ContractParams;
  updateCompat: boolean;
  nrCpus: number;
  slots: number;
  debugUnlocked: boolean;
  acts: Act[];
}

/** Runs one walk, checking after every action; throws on the first breach; notes what it saw. */
function runWalk(w: Walk, seen: Set<string>): void {
  const s = init(
    w.params,
    hostSpec({ nrCpus: w.nrCpus, numRemainingUpdates: w.slots, debugUnlocked: w.debugUnlocked, boot: spec(6, { updateCompat: w.updateCompat }) }),
  );
  let stage = 0; // 0 idle, 1 loaded, 2 prepared, 3 written, 4 updated
  let nextTd = 0;
  for (const a of w.acts) {
    const slotsBefore = s.slots;
    switch (a.k) {
      case 'offline':
        cpuOffline(s, a.cpu % w.nrCpus);
        break;
      case 'online': {
        const c = cpuOnline(s, a.cpu % w.nrCpus)[0]!;
        c.next?.(s, c.result);
        break;
      }
      case 'create':
        tdCreate(s, nextTd++);
        break;
      case 'key':
        tdKeyConfig(s, a.td);
        break;
      case 'init':
        tdInit(s, a.td);
        break;
      case 'finalize':
        tdFinalize(s, a.td);
        break;
      case 'teardown':
        tdTeardown(s, a.td);
        break;
      case 'add':
        tdPageAdd(s, a.td, a.gpa, a.gpa + 1);
        break;
      case 'extend':
        tdExtend(s, a.td, a.gpa);
        break;
      case 'run':
        tdRun(s, a.td, [{ gpa: a.gpa, offset: a.offset, value: a.value }]);
        break;
      case 'cancel':
        expect(cancel(s)).toBe(s.upload.busy ? 0 : -19);
        break;
      case 'read':
        expect(readError(s).map((x) => x.result)).toEqual([s.upload.busy ? -16 : s.upload.error]);
        break;
      case 'load': {
        const choices = fwLoad(s, IMAGES[a.image]!, FAULTS[a.fault]!);
        const { result } = take(s, choices, undefined, (x) => x === choices[a.pick % choices.length]);
        if (result === 'started') stage = 1;
        break;
      }
      case 'advance': {
        const act = a;
        if (stage === 1) fwPrepare(s);
        if (stage === 2) fwWrite(s);
        if (stage === 3) {
          const before = withoutUpload(s);
          const ready = s.module.status === 'ready';
          const choices = update(s);
          // Every allowed successor is a state the contract can reach: check one, chosen by the walk.
          const a = choices[act.pick % choices.length]!;
          const { outcome, errno } = a.result;
          a.next?.(s, errno === 'nonzero' ? -5 : errno);
          seen.add(outcome === 'lost' ? `lost, lpInitWorks ${String((s.module as { lpInitWorks: boolean }).lpInitWorks)}` : `${outcome} ${errno}`);
          // The contract: refused changes nothing; lost kills every TD; applied keeps the live ones.
          if (outcome === 'refused') expect(withoutUpload(s)).toEqual(before);
          if (outcome === 'lost') {
            expect(ready).toBe(true);
            expect(s.module.status).toBe('lost');
            expect(readVersion(s).map((x) => x.result)).toEqual([-6]);
            expect([...s.tds.values()].some((t) => t.alive)).toBe(false);
          }
          if (outcome === 'applied') {
            expect(s.slots).toBe(before.slots - 1);
            expect([...s.tds.values()].map((t) => t.alive)).toEqual([...before.tds.values()].map((t) => t.alive));
          }
          expect(errno === 0).toBe(outcome === 'applied');
        }
        if (stage === 4) fwDone(s);
        if (stage > 0) stage = (stage + 1) % 5;
        break;
      }
    }
    expect(s.slots).toBeLessThanOrEqual(slotsBefore);
    for (const t of s.tds.values()) if (t.buildBroken) expect(t.phase).toBe('building');
    if (!typeOk(s)) throw new Error(`typeOk fails after ${JSON.stringify(a)}`);
  }
}

describe('reachable states', () => {
  it('typeOk and the update contract hold after every action of 400 seeded random walks, which reach every outcome', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(walk, (w) => {
        runWalk(w, seen);
      }),
      { seed: 20261126, numRuns: 400 },
    );
    for (const outcome of [
      'applied 0',
      'refused -16',
      'refused -22',
      'refused -28',
      'refused -125',
      'refused nonzero',
      'lost, lpInitWorks false',
      'lost, lpInitWorks true',
    ]) {
      expect([...seen].sort().join(' / '), outcome).toContain(outcome);
    }
  });
});

describe('clone', () => {
  it('a successor tried on a clone leaves the state it came from as it was', () => {
    const s = withTds(state());
    const before = structuredClone(withoutUpload(s));
    const c = clone(s);
    setOnline(c, 1, false);
    c.tds.get(4)!.pages.set(9, { fill: 1, stores: new Map() });
    c.tds.get(3)!.alive = false;
    c.upload.busy = true;
    expect(withoutUpload(s)).toEqual(before);
    expect(s.upload.busy).toBe(false);
  });
});
