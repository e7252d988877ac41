// The injected-fault vocabulary: every fault the generator draws is listed, reaches the firmware
// as the leaf (and TDH.SYS.RD field) it names, and is a required coverage label. A TD command's
// fault strikes its own call only, and the model and the emulation agree on what follows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MD_MAJOR_VERSION, MD_MINOR_VERSION, MD_MODULE_HV, MD_UPDATE_VERSION, TDH, TDX_OPERAND_BUSY, TDX_SYS_BUSY } from '../../impl/firmware/abi.ts';
import type { TraceEvent } from '../../impl/host.ts';
import { spawn, type Yield } from '../../impl/kernel/sched.ts';
import { kvmTdAddPage, kvmTdInitVm } from '../../impl/kvm/tdx.ts';
import { REQUIRED_LABELS } from '../../harness/coverage.ts';
import { BOOT_FAULT_LEAVES, FAULT_LEAVES, TD_FAULT_LEAVES, type FaultPlan, type TdFaultLeaf } from '../../model/types.ts';
import { COMMANDS, faultName, pageContent, type Command } from '../../properties/commands/index.ts';
import { UPLOAD } from '../../properties/commands/upload.ts';
import { INJECTED_FAULTS, infoFaultAtUploadStart, injectedFaults, withTdFault } from '../../properties/faults.ts';
import { scenario as scenarios, type GenConfig } from '../../properties/generators.ts';
import { boot, finalizedTd, hostData, run, runTasks, scenario, tdAddPage, tdCreate, tdFinalize, tdRun, tdTeardown, upload } from '../impl/kernel/helpers.ts';

const cfg = {
  cpus: [1, 4],
  maxCommands: 1,
  maxSchedule: 0,
  faultRate: 1,
  tdFaultRate: 1,
  bootFaultRate: 0.5,
  corruptRate: 0,
  weights: { upload: 1 },
} as unknown as GenConfig;

const TD_COMMANDS = ['td_create', 'td_add_page', 'td_finalize', 'td_run', 'td_teardown'] as const;

describe('injected faults', () => {
  it('the generators draw every fault of the vocabulary, and each is listed and required in the coverage table', () => {
    const commands = [UPLOAD, ...TD_COMMANDS.map((k) => COMMANDS[k])].flatMap((spec) =>
      fc.sample(spec.arbitrary(cfg) as fc.Arbitrary<Command>, { numRuns: 2000, seed: 1 }),
    );
    const hosts = fc.sample(scenarios(cfg), { numRuns: 200, seed: 1 }).map((s) => s.host.bootFault ?? null);
    const drawn = new Set([...commands.map(faultName), ...hosts].filter((f) => f !== null));
    const listed = INJECTED_FAULTS.map((f) => f.name);
    expect([...drawn].sort()).toEqual([...listed].sort());
    expect([...FAULT_LEAVES, 'seamldr_info', 'install', 'no_entropy', 'tdx_no_entropy', ...BOOT_FAULT_LEAVES, ...TD_FAULT_LEAVES].sort()).toEqual(
      [...listed].sort(),
    );
    for (const n of listed) expect(REQUIRED_LABELS).toContain(`fault ${n}`);
  });

  it('a property without a TD or boot fault rate draws none', () => {
    const none = { ...cfg, tdFaultRate: undefined, bootFaultRate: undefined } as GenConfig;
    expect(fc.sample(scenarios(none), { numRuns: 50, seed: 1 }).filter((s) => 'bootFault' in s.host)).toEqual([]);
    for (const k of TD_COMMANDS)
      expect(fc.sample(COMMANDS[k].arbitrary(none) as fc.Arbitrary<Command>, { numRuns: 50, seed: 1 }).map(faultName)).toEqual(Array(50).fill(null));
  });

  it('the reads fail TDH.SYS.RD of their own field only; the other leaves on any CPU but LP.INIT', () => {
    const leaf = (l: (typeof FAULT_LEAVES)[number], cpu: number | null = 5): FaultPlan => ({ kind: 'leaf', leaf: l, cpu });
    expect(injectedFaults(leaf('RD_MODULE_HV'), 4).leafFail).toMatchObject({ leaf: TDH.SYS_RD, field: MD_MODULE_HV, cpu: null });
    expect(injectedFaults(leaf('RD_UPDATE_VERSION'), 4).leafFail).toMatchObject({ leaf: TDH.SYS_RD, field: MD_UPDATE_VERSION, cpu: null });
    expect(injectedFaults(leaf('RD_MINOR_VERSION'), 4).leafFail).toMatchObject({ leaf: TDH.SYS_RD, field: MD_MINOR_VERSION });
    expect(injectedFaults(leaf('RD_MAJOR_VERSION'), 4).leafFail).toMatchObject({ leaf: TDH.SYS_RD, field: MD_MAJOR_VERSION });
    expect(injectedFaults(leaf('LP_INIT'), 4).leafFail).toMatchObject({ leaf: TDH.SYS_LP_INIT, cpu: 1 });
    expect(injectedFaults(leaf('SHUTDOWN'), 4).leafFail?.field).toBeUndefined();
  });

  it('a SEAMLDR.INFO failure is armed when the upload starts, and the update beginning disarms it', () => {
    const info: FaultPlan = { kind: 'seamldr_info', cpu: 5 };
    expect(infoFaultAtUploadStart(info, 4)).toMatchObject({ cpu: 1 });
    expect(infoFaultAtUploadStart({ kind: 'install', cpu: 0 }, 4)).toBeNull();
    expect(injectedFaults(info, 4)).toEqual(injectedFaults(null, 4));
  });
});

/** The linearization points of a trace: [op, result, injected]. */
const lins = (trace: readonly TraceEvent[]) => trace.flatMap((e) => (e.kind === 'lin' ? [[e.op.name, e.result, 'injected' in e.op.args] as const] : []));

describe('a TD command fault (withTdFault)', () => {
  it("strikes the first call of its leaf in its own task only, marks that call injected, and sets an update's fault aside meanwhile", () => {
    const h = boot(2);
    const updateFault = { leaf: TDH.SYS_SHUTDOWN, cpu: null, status: TDX_SYS_BUSY };
    h.seam.faults.leafFail = updateFault;
    const seen: Yield[] = [];
    const collect = function* (body: Generator<Yield, unknown, void>) {
      for (let r = body.next(); !r.done; r = body.next()) {
        seen.push(r.value);
        yield r.value;
      }
    };
    spawn(h.sched, 'other', 1, collect(kvmTdInitVm(h, 1, 2)));
    spawn(h.sched, 'faulty', 1, collect(withTdFault(h, 'MNG_KEY_CONFIG', kvmTdInitVm(h, 1, 1))));
    runTasks(h);
    const of = (td: number) =>
      seen.flatMap((y) => (y.kind === 'lin' && 'td' in y.op.args && y.op.args.td === td ? [[y.op.name, y.result, 'injected' in y.op.args]] : []));
    expect(of(2)).toEqual([
      ['td_create', true, false],
      ['td_key_config', true, false],
      ['td_init', true, false],
    ]);
    expect(of(1)).toEqual([
      ['td_create', true, false],
      ['td_key_config', false, true],
    ]);
    expect(h.seam.faults.leafFail).toBe(updateFault);
  });

  it('a fault on a leaf the command never reaches strikes nothing', () => {
    const h = boot(2);
    const td = { id: 1, tdrPa: h.mem.allocPages(1)[0]!, hkid: 99, bugged: true }; // KVM_BUG_ON: no SEAMCALL at all
    const body = withTdFault(h, 'MR_EXTEND', kvmTdAddPage(h, 1, td, 0, pageContent(1)) as Generator<Yield, unknown, void>);
    const ys = [...(body as Iterable<Yield>)];
    expect(ys.filter((y) => y.kind === 'lin').map((y) => 'injected' in (y as { op: { args: object } }).op.args)).toEqual([false]);
    expect(h.seam.faults.leafFail).toBeNull();
  });

  const withFault = (c: Command, fault: TdFaultLeaf): Command => ({ ...c, fault }) as Command;
  const CASES: [TdFaultLeaf, Command[]][] = [
    ['MNG_CREATE', [withFault(tdCreate(), 'MNG_CREATE'), tdAddPage(0, 1)]],
    ['MNG_KEY_CONFIG', [withFault(tdCreate(), 'MNG_KEY_CONFIG'), tdCreate(), tdAddPage(1, 1)]],
    ['MNG_INIT', [withFault(tdCreate(), 'MNG_INIT'), tdFinalize(0)]],
    ['MEM_PAGE_ADD', [tdCreate(), withFault(tdAddPage(0, 1), 'MEM_PAGE_ADD'), tdAddPage(0, 2), tdFinalize(0), tdRun(0), upload()]],
    ['MR_EXTEND', [tdCreate(), withFault(tdAddPage(0, 1), 'MR_EXTEND'), tdCreate(), tdAddPage(1, 3)]],
    ['MR_FINALIZE', [tdCreate(), tdAddPage(0, 1), withFault(tdFinalize(0), 'MR_FINALIZE'), tdRun(0)]],
    ['VP_ENTER', [...finalizedTd(0, 1), withFault(tdRun(0), 'VP_ENTER'), upload()]],
    ['MNG_KEY_FREEID', [...finalizedTd(0, 1), withFault(tdTeardown(0), 'MNG_KEY_FREEID'), tdCreate(), upload()]],
  ];
  it.each(CASES)('%s: the fault strikes, and the model allows what follows (no violation)', (leaf, commands) => {
    const r = run(scenario(hostData(2), commands));
    expect(r.violation).toBeNull();
    expect(lins(r.host.trace).filter(([, , injected]) => injected)).toHaveLength(1);
    expect(TD_FAULT_LEAVES).toContain(leaf);
  });

  it('after a busy TDH.MEM.PAGE.ADD the TD builds, runs and survives an update; with seeded bug S6 the harness reports it', () => {
    const commands = [tdCreate(), withFault(tdAddPage(0, 1), 'MEM_PAGE_ADD'), tdAddPage(0, 1), tdFinalize(0), tdRun(0)];
    const ok = run(scenario(hostData(2), commands));
    expect(ok.violation).toBeNull();
    expect(lins(ok.host.trace).map(([op, result]) => `${op}=${result}`)).toEqual([
      'td_create=true',
      'td_key_config=true',
      'td_init=true',
      'td_page_add=false',
      'td_page_add=true',
      'td_extend=true',
      'td_finalize=true',
      'td_run=true',
    ]);
    const bug = run(scenario(hostData(2), commands), { bugs: ['page-add-busy-bug-on'] });
    expect(bug.violation?.id).toBe('refinement');
  });

  it('the busy status is TDX_OPERAND_BUSY with an operand id', () => {
    const h = boot(2);
    const body = withTdFault(h, 'MNG_CREATE', kvmTdInitVm(h, 1, 1) as Generator<Yield, unknown, void>);
    [...(body as Iterable<Yield>)];
    const status = h.trace.flatMap((e) => (e.kind === 'seamcall' ? [e.status] : [])).at(-1)!;
    expect(status & 0xffffffff00000000n).toBe(TDX_OPERAND_BUSY);
  });
});

describe('a boot fault (TDH.SYS.CONFIG or TDH.SYS.KEY.CONFIG fails in tdx_enable)', () => {
  it.each(BOOT_FAULT_LEAVES)('%s: TDX stays off and every command gets what the model allows', (bootFault) => {
    const commands: Command[] = [
      { kind: 'read_version' },
      { kind: 'read_seamldr', attr: 'version' },
      { kind: 'cpu_offline', cpu: 1 },
      { kind: 'cpu_online', cpu: 1 },
      ...finalizedTd(0, 1),
      tdRun(0),
      tdTeardown(0),
      upload(),
      { kind: 'tool_update' },
    ];
    const r = run(scenario(hostData(2, { bootFault }), commands));
    expect(r.violation).toBeNull();
    expect(r.host.tdx.state.initialized).toBe(false);
    expect(r.host.tdxHost.fw).toBeNull();
    expect(
      lins(r.host.trace)
        .filter(([op]) => op.startsWith('td_'))
        .every(([, result]) => result === false),
    ).toBe(true);
  });
});
