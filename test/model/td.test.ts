// Tests for model/td.ts: every TD SEAMCALL succeeds only with the module running, the TD alive
// and in the phase the call needs; any failure is KVM_BUG_ON and the TD is dead for good.
import { describe, expect, it } from 'vitest';
import type { ModelState, TdPhase } from '../../model/state.ts';
import { tdCreate, tdExtend, tdFinalize, tdInit, tdKeyConfig, tdPageAdd, tdRun, tdTeardown } from '../../model/td.ts';
import { attempt, img, NEXT, state, take } from './fixtures.ts';

/** A fresh state with TD #1 in `phase`; building and finalized TDs own page 0 (measured). */
function tdIn(phase: TdPhase): ModelState {
  const s = state();
  tdCreate(s, 1);
  if (phase === 'created') return s;
  tdKeyConfig(s, 1);
  if (phase === 'keyed') return s;
  tdInit(s, 1);
  tdPageAdd(s, 1, 0, 1);
  tdExtend(s, 1, 0);
  if (phase === 'building') return s;
  tdFinalize(s, 1);
  return s;
}

const PHASES: readonly TdPhase[] = ['created', 'keyed', 'building', 'finalized'];

const OPS: Record<string, { allowed: TdPhase; call: (s: ModelState) => boolean; next: TdPhase }> = {
  'TDH.MNG.KEY.CONFIG': { allowed: 'created', call: (s) => tdKeyConfig(s, 1), next: 'keyed' },
  'TDH.MNG.INIT': { allowed: 'keyed', call: (s) => tdInit(s, 1), next: 'building' },
  'TDH.MEM.PAGE.ADD': { allowed: 'building', call: (s) => tdPageAdd(s, 1, 1, 2), next: 'building' },
  'TDH.MR.EXTEND': { allowed: 'building', call: (s) => tdExtend(s, 1, 0), next: 'building' },
  'TDH.MR.FINALIZE': { allowed: 'building', call: (s) => tdFinalize(s, 1), next: 'finalized' },
  'TDH.VP.ENTER': { allowed: 'finalized', call: (s) => tdRun(s, 1, [{ gpa: 0, offset: 0, value: 1 }]), next: 'finalized' },
};

describe('phase guards', () => {
  const grid = Object.entries(OPS).flatMap(([name, op]) => PHASES.map((phase) => [name, phase, op] as const));
  it.each(grid)('%s in phase %s', (_name, phase, op) => {
    const s = tdIn(phase);
    const ok = op.call(s);
    const td = s.tds.get(1)!;
    expect(ok).toBe(phase === op.allowed);
    expect(td.alive).toBe(ok);
    expect(td.phase).toBe(ok ? op.next : phase);
  });
  it('a dead TD stays dead: even the call its phase allows fails', () => {
    const s = tdIn('keyed');
    expect(tdFinalize(s, 1)).toBe(false);
    expect(tdInit(s, 1)).toBe(false);
    expect(s.tds.get(1)!.phase).toBe('keyed');
  });
  it('calls for a TD that does not exist fail and create nothing', () => {
    const s = state();
    expect([tdKeyConfig(s, 9), tdInit(s, 9), tdPageAdd(s, 9, 0, 1), tdExtend(s, 9, 0), tdFinalize(s, 9), tdRun(s, 9, [])]).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(s.tds.size).toBe(0);
  });
});

describe('TD build', () => {
  it('TDH.MNG.CREATE records the launch TCB of the running module', () => {
    const s = state();
    expect(tdCreate(s, 1)).toBe(true);
    expect(s.tds.get(1)).toEqual({
      phase: 'created',
      alive: true,
      created: true,
      buildBroken: false,
      pages: new Map(),
      mrtd: null,
      launch: { version: { major: 1, minor: 5, update: 6 }, seamsvn: 0x106 },
    });
  });
  it('logs PAGE.ADD and EXTEND into the measurement, from a fresh one at TDH.MNG.INIT', () => {
    const s = tdIn('keyed');
    s.tds.get(1)!.mrtd = { op: 'page_add', gpa: 9, prev: null };
    tdInit(s, 1);
    expect(s.tds.get(1)!.mrtd).toBeNull();
    tdPageAdd(s, 1, 4, 5);
    tdExtend(s, 1, 4);
    expect(s.tds.get(1)!.mrtd).toEqual({ op: 'extend', gpa: 4, fill: 5, prev: { op: 'page_add', gpa: 4, prev: null } });
  });
  it('PAGE.ADD gives the TD the page KVM was handed, with no stores yet', () => {
    const s = tdIn('building');
    tdPageAdd(s, 1, 2, 3);
    expect(s.tds.get(1)!.pages.get(2)).toEqual({ fill: 3, stores: new Map() });
  });
  it('PAGE.ADD of a page the TD already owns fails and kills the TD', () => {
    const s = tdIn('building');
    expect(tdPageAdd(s, 1, 0, 9)).toBe(false);
    expect(s.tds.get(1)!.alive).toBe(false);
    expect(s.tds.get(1)!.pages.get(0)).toEqual({ fill: 1, stores: new Map() });
  });
  it('MR.EXTEND of a page the TD does not own fails and kills the TD', () => {
    const s = tdIn('building');
    expect(tdExtend(s, 1, 5)).toBe(false);
    expect(s.tds.get(1)!.alive).toBe(false);
  });
});

describe('a build context the running module refuses (buildBroken)', () => {
  it.each(['TDH.MEM.PAGE.ADD', 'TDH.MR.EXTEND', 'TDH.MR.FINALIZE'] as const)('%s fails and kills the TD', (name) => {
    const s = tdIn('building');
    s.tds.get(1)!.buildBroken = true;
    expect(OPS[name]!.call(s)).toBe(false);
    expect(s.tds.get(1)).toMatchObject({ alive: false, phase: 'building' });
  });
});

describe('TD run', () => {
  it('the guest stores into its own pages', () => {
    const s = tdIn('finalized');
    expect(
      tdRun(s, 1, [
        { gpa: 0, offset: 10, value: 0xab },
        { gpa: 0, offset: 4095, value: 1 },
      ]),
    ).toBe(true);
    const p = s.tds.get(1)!.pages.get(0)!;
    expect([p.fill, p.stores.get(10), p.stores.get(4095)]).toEqual([1, 0xab, 1]);
  });
  it('a store outside its pages fails the entry, writes nothing, and kills the TD', () => {
    const s = tdIn('finalized');
    expect(
      tdRun(s, 1, [
        { gpa: 0, offset: 10, value: 0xab },
        { gpa: 3, offset: 0, value: 1 },
      ]),
    ).toBe(false);
    expect(s.tds.get(1)!.pages.get(0)).toEqual({ fill: 1, stores: new Map() });
    expect(s.tds.get(1)!.alive).toBe(false);
  });
  it('an entry without stores succeeds', () => {
    expect(tdRun(tdIn('finalized'), 1, [])).toBe(true);
  });
  // The implementation (tdhVpEnter) rejects an offset outside the page with OPERAND_INVALID;
  // the model calls Uint8Array.set with it and throws RangeError. Reported as a discrepancy.
  it('a store at an offset outside the page fails the entry (as TDH.VP.ENTER does) and kills the TD', () => {
    for (const offset of [4096, -1, 1.5]) {
      const s = tdIn('finalized');
      expect(tdRun(s, 1, [{ gpa: 0, offset, value: 1 }])).toBe(false);
      expect(s.tds.get(1)!.alive).toBe(false);
    }
  });
});

describe('the module', () => {
  it('once lost, every TD call fails and a new TD is born dead', () => {
    const s = tdIn('building');
    take(s, attempt(s, img(NEXT, 'hash')), -5);
    expect(tdPageAdd(s, 1, 1, 2)).toBe(false);
    expect(tdCreate(s, 2)).toBe(false);
    expect(s.tds.get(2)).toMatchObject({ alive: false, phase: 'created', launch: { version: { major: 0, minor: 0, update: 0 }, seamsvn: 0 } });
  });
  it('teardown forgets the TD; the module reclaims it (true) if it holds it and still runs', () => {
    const s = tdIn('finalized');
    tdCreate(s, 2);
    tdFinalize(s, 2);
    expect(s.tds.get(2)!.alive).toBe(false);
    expect(tdTeardown(s, 1)).toBe(true);
    expect(tdTeardown(s, 2)).toBe(true); // dead for KVM, but the module still holds its TDR
    expect(tdTeardown(s, 3)).toBe(false);
    expect(s.tds.size).toBe(0);
    const lost = tdIn('finalized');
    take(lost, attempt(lost, img(NEXT, 'signature')), -5);
    expect(tdTeardown(lost, 1)).toBe(false);
    expect(lost.tds.size).toBe(0);
  });
});
