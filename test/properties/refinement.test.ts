// Tests for properties/refinement.ts: abstract(impl) agrees with the model right after boot,
// every hand-made divergence is reported under the field it concerns (and only there), and
// the command bridge compares observable results the way the contract states them.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../harness/run.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import type { Host } from '../../impl/host.ts';
import { init, setOnline, type ModelState } from '../../model/state.ts';
import { COMMANDS, LIN_ACTIONS, type Command } from '../../properties/commands/index.ts';
import { sysfsMatches } from '../../properties/commands/sysfs.ts';
import { modelImage, type ImageRef } from '../../properties/images.ts';
import { refinementDiff as diffWith } from '../../properties/refinement.ts';
import { REVISIONS, UPSTREAM, V2, type RevisionRecord } from '../../properties/revisions/index.ts';
import { hostSpec, type HostData } from '../../properties/scenario.ts';
import { fwLoad, fwPrepare, fwWrite } from '../../model/update.ts';
import { boot, HOST, hostData, image, upload } from './helpers.ts';

const BOOTS: readonly (readonly [string, HostData])[] = [
  ['4 CPUs, 1.5.06, 2 slots', HOST],
  ['1 CPU, 1.5.01, 1 slot', hostData({ nrCpus: 1, boot: { release: '1.5.01', moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots: 1 })],
  [
    '8 CPUs, 2.0.08, handoff 1..2, debug unlocked',
    hostData({ nrCpus: 8, boot: { release: '2.0.08', moduleHv: 2, minUpdateHv: 1, noDowngrade: false }, slots: 3, debugUnlocked: true }),
  ],
  ['2 CPUs, 1.5.16, no_downgrade at hv 2', hostData({ nrCpus: 2, boot: { release: '1.5.16', moduleHv: 2, minUpdateHv: 2, noDowngrade: true } })],
  ['no update slots (the seed driver exposes no fw node)', hostData({ slots: 0 })],
];

function booted(data: HostData = HOST, revision: RevisionRecord = V2): { h: Host; m: ModelState } {
  return { h: boot(data, revision.kernel), m: init(revision.contract, hostSpec(data)) };
}

const refinementDiff = (h: Host, m: ModelState, revision: RevisionRecord = V2) => diffWith(h, m, revision.checks);
const fields = (h: Host, m: ModelState): string[] => refinementDiff(h, m).map((d) => d.field);

/** Host and model after a real run of `commands` (they agree, or the run would have failed). */
function after(commands: Command[], data: HostData = HOST): { h: Host; m: ModelState } {
  const r = runScenario({ host: data, commands, schedule: [] }, { revision: V2, bugs: NO_BUGS });
  expect(r.violation).toBeNull();
  return { h: r.host, m: r.model };
}

const TD_BUILD: Command[] = [
  { kind: 'td_create', cpu: 1 },
  { kind: 'td_add_page', td: 0, fill: 1, cpu: 2 },
  { kind: 'td_add_page', td: 0, fill: 2, cpu: 3 },
  { kind: 'td_finalize', td: 0, cpu: 0 },
];

describe('refinementDiff right after boot', () => {
  it.each(REVISIONS.flatMap((rev) => BOOTS.map(([name, data]) => [rev.name, name, data, rev] as const)))('is empty: %s kernel, %s', (_r, _name, data, rev) => {
    const { h, m } = booted(data, rev);
    expect(refinementDiff(h, m, rev)).toEqual([]);
  });
  it('is empty on a platform with the VMCS erratum, where the merged driver exposes no update interface', () => {
    for (const rev of REVISIONS) {
      const { h, m } = booted(hostData({ erratum: true }), rev);
      expect(refinementDiff(h, m, rev)).toEqual([]);
    }
  });
  it('the seed driver has no fw node when no slots are left at probe time, and nothing else differs', () => {
    const { h } = booted(hostData({ slots: 0 }));
    expect(h.tdxHost.fw).toBeNull();
  });
});

describe('refinementDiff names the field of a hand-made divergence', () => {
  it('module lost in the implementation, ready in the model', () => {
    const { h, m } = booted();
    h.tdx.state.initialized = false;
    const d = refinementDiff(h, m);
    expect(d.map((x) => x.field)).toEqual(['module']);
    // Every CPU kept its LP flag, so one brought online comes up; a shutdown clears them.
    expect(d[0]!.impl).toBe('lost:lpInitWorks=true');
    expect(d[0]!.model).toMatch(/^ready:1\.5\.6 /);
    h.tdx.lpInitialized.fill(false);
    expect(refinementDiff(h, m)[0]!.impl).toBe('lost:lpInitWorks=false');
  });
  it('module lost in the model, ready in the implementation', () => {
    const { h, m } = booted();
    m.module = { status: 'lost', lpInitWorks: false };
    expect(fields(h, m)).toEqual(['module']);
  });
  it('lost on both sides but only the implementation can still bring up a CPU', () => {
    const { h, m } = after([upload(image('1.5.08'), { kind: 'leaf', leaf: 'UPDATE', cpu: null })]);
    expect(m.module).toEqual({ status: 'lost', lpInitWorks: true });
    m.module = { status: 'lost', lpInitWorks: false };
    expect(refinementDiff(h, m)).toEqual([{ field: 'module', impl: 'lost:lpInitWorks=true', model: 'lost:lpInitWorks=false' }]);
  });
  it('a TD page byte changed', () => {
    const { h, m } = after(TD_BUILD);
    expect(refinementDiff(h, m)).toEqual([]);
    const tdr = h.seam.module!.tds.get(h.kvm.tds.get(1)!.tdrPa)!;
    h.mem.page(tdr.pages.get(1)!)![4095]! ^= 0x80;
    expect(fields(h, m)).toEqual(['td #1 page 1']);
  });
  it('a guest store the model has and the implementation lost', () => {
    const { h, m } = after(TD_BUILD);
    const p = m.tds.get(1)!.pages.get(0)!;
    m.tds.get(1)!.pages.set(0, { fill: p.fill, stores: new Map([[7, 0x55]]) });
    expect(fields(h, m)).toEqual(['td #1 page 0']);
  });
  it('a page the model has and the implementation does not', () => {
    const { h, m } = after(TD_BUILD);
    m.tds.get(1)!.pages.set(5, { fill: 1, stores: new Map() });
    expect(fields(h, m)).toEqual(['td #1 pages']);
  });
  it('a TD measurement differs', () => {
    const { h, m } = after(TD_BUILD);
    h.seam.module!.tds.get(h.kvm.tds.get(1)!.tdrPa)!.mrtd[0]! ^= 1;
    expect(fields(h, m)).toEqual(['td #1 mrtd']);
  });
  it('a TD is dead in the implementation only', () => {
    const { h, m } = after(TD_BUILD);
    h.kvm.tds.get(1)!.bugged = true;
    expect(refinementDiff(h, m)).toEqual([{ field: 'td #1 alive', impl: 'false', model: 'true' }]);
  });
  it('a TD the model does not know', () => {
    const { h, m } = after(TD_BUILD);
    m.tds.delete(1);
    expect(fields(h, m)).toEqual(['tds']);
  });
  it('num_remaining_updates', () => {
    const { h, m } = booted();
    h.seam.pseamldr.numRemainingUpdates--;
    expect(refinementDiff(h, m)).toEqual([{ field: 'num_remaining_updates', impl: '1', model: '2' }]);
  });
  it('upload busy', () => {
    const { h, m } = booted();
    h.tdxHost.fw!.progress = 'transferring';
    expect(refinementDiff(h, m)).toEqual([{ field: 'upload busy', impl: 'true', model: 'false' }]);
  });
  it('upload error once idle', () => {
    const { h, m } = booted();
    h.tdxHost.fw!.errCode = 'firmware-invalid';
    h.tdxHost.fw!.errProgress = 'transferring';
    expect(refinementDiff(h, m)).toEqual([{ field: 'upload error', impl: '"transferring:firmware-invalid"', model: '""' }]);
  });
  it('remaining_size once idle', () => {
    const { h, m } = booted();
    h.tdxHost.fw!.remainingSize = 4096;
    expect(fields(h, m)).toEqual(['remaining_size']);
  });
  it('the online set', () => {
    const { h, m } = booted();
    h.platform.cpus[2]!.online = false;
    expect(refinementDiff(h, m)).toEqual([{ field: 'online', impl: '1101', model: '1111' }]);
  });
  it('SEAMSVN and the handoff version while the module runs', () => {
    const { h, m } = booted();
    h.seam.pseamldr.currentSeamSvn++;
    h.tdx.sysinfo.moduleHv = 3;
    expect(fields(h, m)).toEqual(['handoff hv', 'seamsvn']);
  });
  it('reports every differing field at once', () => {
    const { h, m } = booted();
    h.tdx.state.initialized = false;
    h.seam.pseamldr.numRemainingUpdates = 0;
    h.tdxHost.fw!.progress = 'preparing';
    expect(fields(h, m)).toEqual(['module', 'num_remaining_updates', 'upload busy']);
  });
});

describe('refinementDiff after real runs', () => {
  it('is empty after a successful update with live TDs (one of them mid-build)', () => {
    const { h, m } = after([...TD_BUILD, { kind: 'td_create', cpu: 2 }, { kind: 'td_add_page', td: 1, fill: 7, cpu: 1 }, upload(image('1.5.08'))]);
    expect(m.module.status).toBe('ready');
    expect(refinementDiff(h, m)).toEqual([]);
  });
  it('is empty after a merged-kernel update (v2 image, handoff version read fresh)', () => {
    const r = runScenario(
      {
        host: HOST,
        commands: [...TD_BUILD, upload(image('1.5.08', { format: 'v2', moduleHv: 1 })), upload(image('1.5.09', { format: 'v2', moduleHv: 1, minUpdateHv: 1 }))],
        schedule: [],
      },
      { revision: UPSTREAM, bugs: NO_BUGS },
    );
    expect(r.violation).toBeNull();
    expect(r.model.module).toMatchObject({ status: 'ready', spec: { version: { update: 9 } } });
    expect(refinementDiff(r.host, r.model, UPSTREAM)).toEqual([]);
  });
  it('is empty after a lost update', () => {
    const { h, m } = after([...TD_BUILD, upload(image('1.5.08', { corruption: { kind: 'rogue_key' } }))]);
    expect(m.module).toEqual({ status: 'lost', lpInitWorks: false });
    expect(refinementDiff(h, m)).toEqual([]);
  });
});

describe('the command bridge compares results as the contract states them', () => {
  const img = (ref: ImageRef): ReturnType<typeof modelImage> => modelImage(ref, 16384, 'v1');
  const matches = (c: { choices: readonly { result: unknown }[]; matches: (a: unknown, b: unknown) => boolean }, actual: unknown) =>
    c.choices.some((a) => c.matches(a.result, actual));

  /** The model with an upload of `ref` in flight, as far as the driver's write op. */
  function writing(ref: ImageRef, fault: Parameters<typeof upload>[1] = null): ModelState {
    const { m } = booted();
    const [started] = fwLoad(m, img(ref), fault);
    expect(started!.result).toBe('started');
    started!.next!(m, 'started');
    fwPrepare(m);
    fwWrite(m);
    return m;
  }
  const update = (m: ModelState) => LIN_ACTIONS.update(m, { name: 'update', args: {} });

  it('sysfs versions are compared as "%u.%u.%02u" text, counts and errnos as values', () => {
    const v = { major: 1, minor: 5, update: 6 };
    expect([sysfsMatches(v, '1.5.06'), sysfsMatches(v, '1.5.6'), sysfsMatches(v, '1.5.07'), sysfsMatches(v, -6)]).toEqual([true, false, false, false]);
    expect([sysfsMatches(2, '2'), sysfsMatches(2, 2), sysfsMatches(-6, -6), sysfsMatches(-6, '1.5.06')]).toEqual([true, true, true, false]);
    const { m } = booted();
    expect(matches(COMMANDS.read_version.response!.model(m, { kind: 'read_version' }, null as never), '1.5.06')).toBe(true);
  });
  it('an applied update must return exactly 0', () => {
    expect(matches(update(writing(image('1.5.08'))), 0)).toBe(true);
    expect(matches(update(writing(image('1.5.08'))), -5)).toBe(false);
  });
  it('a refusal with a documented errno must return exactly it', () => {
    const bad = image('1.5.08', { corruption: { kind: 'bad_magic' } });
    expect([-22, -5, 0].map((e) => matches(update(writing(bad)), e))).toEqual([true, false, false]);
  });
  it('a non-zero errno the contract does not pin matches any non-zero result and not 0', () => {
    const shutdownFails = { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null } as const;
    expect([-5, -19, -16, -125, 0].map((e) => matches(update(writing(image('1.5.08'), shutdownFails)), e))).toEqual([true, true, true, true, false]);
  });
  it('CPU online after a loss where no module can bring it up matches any non-zero result', () => {
    const { m } = booted();
    m.module = { status: 'lost', lpInitWorks: false };
    setOnline(m, 2, false);
    const c = LIN_ACTIONS.cpu_online(m, { name: 'cpu_online', args: { cpu: 2 } });
    expect([matches(c, -19), matches(c, -5), matches(c, 0)]).toEqual([true, true, false]);
  });
  it('every linearization point the emulator reports has a model action', () => {
    const names = [
      'fw_prepare',
      'fw_write',
      'update',
      'fw_done',
      'cpu_offline',
      'cpu_online',
      'td_create',
      'td_key_config',
      'td_init',
      'td_page_add',
      'td_extend',
      'td_finalize',
      'td_run',
      'td_teardown',
    ];
    expect(Object.keys(LIN_ACTIONS).sort()).toEqual(names.sort());
  });
});
