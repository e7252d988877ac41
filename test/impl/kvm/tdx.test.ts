// Tests for impl/kvm/tdx.ts: the SEAMCALLs KVM issues to build, run and destroy a TD, KVM_BUG_ON
// (after a failed SEAMCALL KVM leaves the TD alone; a busy TDH.MEM.PAGE.ADD is retryable), and TD activity across an update: a build
// interrupted by an update restarts its measurement (spec §3.7, B29 "old modules"), a finalized
// TD keeps its memory and MRTD (I-19), and the model agrees in both cases.
import { describe, expect, it } from 'vitest';
import { OPERAND_ID_RCX, TDH, TDX_OPERAND_BUSY, TDX_SEAMCALL_VMFAILINVALID, TDX_TD_FINALIZED } from '../../../impl/firmware/abi.ts';
import type { Host } from '../../../impl/host.ts';
import type { Yield } from '../../../impl/kernel/sched.ts';
import { kvmTdAddPage, kvmTdFinalize, kvmTdInitVm, kvmTdRun, kvmTdTeardown, type KvmTd } from '../../../impl/kvm/tdx.ts';
import { mrtdExtend as measureExtend, mrtdPageAdd as measurePageAdd } from '../../../impl/firmware/tdx_module.ts';
import { mrtdOf } from '../../../properties/refinement.ts';
import { pageContent } from '../../../properties/commands/index.ts';
import {
  boot,
  callsOf,
  events,
  finalizedTd,
  hostData,
  imageRef,
  installRef,
  lastUpdate,
  linResults,
  run,
  runBody,
  scenario,
  tdAddPage,
  tdCreate,
  tdFinalize,
  tdRun,
  upload,
} from '../kernel/helpers.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const MRTD_INIT = new Uint8Array(48);

/** Runs a KVM ioctl as a task and returns its linearization points as [op, result]. */
function ioctl(h: Host, body: Generator<Yield, void, void>, cpu = 1): [string, unknown][] {
  const lins: [string, unknown][] = [];
  runBody(
    h,
    (function* () {
      for (let r = body.next(); !r.done; r = body.next()) {
        if (r.value.kind === 'lin') lins.push([r.value.op.name, r.value.result]);
        yield r.value;
      }
    })(),
    { cpu, name: 'kvm' },
  );
  return lins;
}

function seamcallsSince(h: Host, n: number): string[] {
  return events(h.trace.slice(n), 'seamcall').map((e) => `${e.leaf}@${e.cpu}=${e.status === 0n ? 'ok' : '0x' + e.status.toString(16)}`);
}

function buildTd(h: Host, id = 1, cpu = 1): KvmTd {
  ioctl(h, kvmTdInitVm(h, cpu, id), cpu);
  return h.kvm.tds.get(id)!;
}

describe('TD build: the SEAMCALL sequence', () => {
  it('KVM_TDX_INIT_VM: TDH.MNG.CREATE(tdr, hkid), TDH.MNG.KEY.CONFIG, TDH.MNG.INIT on the calling CPU', () => {
    const h = boot(2);
    const n = h.trace.length;
    expect(ioctl(h, kvmTdInitVm(h, 1, 7))).toEqual([
      ['td_create', true],
      ['td_key_config', true],
      ['td_init', true],
    ]);
    const td = h.kvm.tds.get(7)!;
    expect(td).toMatchObject({ id: 7, hkid: 16, bugged: false });
    expect(h.kvm.nextHkid).toBe(17);
    expect(seamcallsSince(h, n)).toEqual(['9@1=ok', '8@1=ok', '21@1=ok']);
    expect(events(h.trace.slice(n), 'seamcall').map((e) => e.rcx)).toEqual([BigInt(td.tdrPa), BigInt(td.tdrPa), BigInt(td.tdrPa)]);
    expect(h.seam.module!.tds.get(td.tdrPa)).toMatchObject({ hkid: 16, keyConfigured: true, initialized: true, finalized: false });
    expect(buildTd(h, 8).hkid).toBe(17);
  });

  it("KVM_TDX_INIT_MEM_REGION: TDH.MEM.PAGE.ADD then TDH.MR.EXTEND; the page is the TD's, the source freed", () => {
    const h = boot(2);
    const td = buildTd(h);
    const pages = h.mem.size;
    const n = h.trace.length;
    expect(ioctl(h, kvmTdAddPage(h, 1, td, 0, pageContent(3)))).toEqual([
      ['td_page_add', true],
      ['td_extend', true],
    ]);
    expect(seamcallsSince(h, n)).toEqual(['2@1=ok', '16@1=ok']);
    expect(callsOf(h.trace.slice(n), TDH.MEM_PAGE_ADD)[0]!.rcx).toBe(0n); // gpa
    const tdr = h.seam.module!.tds.get(td.tdrPa)!;
    expect(hex(h.mem.page(tdr.pages.get(0)!)!)).toBe(hex(pageContent(3)));
    expect(h.mem.size).toBe(pages + 1);
    expect(hex(tdr.mrtd)).toBe(hex(measureExtend(measurePageAdd(MRTD_INIT, 0), 0, pageContent(3))));
  });

  it('finalize, run (guest stores land in private memory), teardown', () => {
    const h = boot(2);
    const td = buildTd(h);
    ioctl(h, kvmTdAddPage(h, 1, td, 0, pageContent(3)));
    const n = h.trace.length;
    expect(ioctl(h, kvmTdFinalize(h, 1, td))).toEqual([['td_finalize', true]]);
    expect(ioctl(h, kvmTdRun(h, 0, td, [{ gpa: 0, offset: 9, value: 0xab }]), 0)).toEqual([['td_run', true]]);
    expect(ioctl(h, kvmTdTeardown(h, 1, td))).toEqual([['td_teardown', true]]);
    expect(seamcallsSince(h, n)).toEqual(['17@1=ok', '0@0=ok', '20@1=ok']);
    expect(h.kvm.tds.has(1)).toBe(false);
    expect(h.seam.module!.tds.has(td.tdrPa)).toBe(false);
  });

  it('an ioctl whose CPU went offline between SEAMCALLs continues on CPU 0', () => {
    const h = boot(3);
    const td = buildTd(h);
    h.platform.cpus[2]!.online = false;
    const n = h.trace.length;
    ioctl(h, kvmTdAddPage(h, 2, td, 0, pageContent(1)), 2);
    expect(seamcallsSince(h, n)).toEqual(['2@0=ok', '16@0=ok']);
  });
});

describe('KVM_BUG_ON: after a failed SEAMCALL, no more SEAMCALLs for that TD', () => {
  it('a page added after finalize fails; the target page is freed; run and finalize make no SEAMCALL', () => {
    const h = boot(2);
    const td = buildTd(h);
    ioctl(h, kvmTdAddPage(h, 1, td, 0, pageContent(1)));
    ioctl(h, kvmTdFinalize(h, 1, td));
    const pages = h.mem.size;
    let n = h.trace.length;
    expect(ioctl(h, kvmTdAddPage(h, 1, td, 1, pageContent(2)))).toEqual([['td_page_add', false]]);
    expect(seamcallsSince(h, n)).toEqual([`2@1=0x${TDX_TD_FINALIZED.toString(16)}`]);
    expect(td.bugged).toBe(true);
    expect(h.mem.size).toBe(pages);
    n = h.trace.length;
    expect(ioctl(h, kvmTdRun(h, 1, td, []))).toEqual([['td_run', false]]);
    expect(ioctl(h, kvmTdFinalize(h, 1, td))).toEqual([['td_finalize', false]]);
    expect(seamcallsSince(h, n)).toEqual([]);
    // Teardown still frees the HKID: TDH.MNG.KEY.FREEID is issued even for a bugged TD.
    expect(ioctl(h, kvmTdTeardown(h, 1, td))).toEqual([['td_teardown', true]]);
    expect(seamcallsSince(h, n)).toEqual(['20@1=ok']);
    expect(h.kvm.tds.has(1)).toBe(false);
    expect(h.seam.module!.tds.has(td.tdrPa)).toBe(false);
  });

  it('a create that fails stops the build: no KEY.CONFIG, no MNG.INIT', () => {
    const h = boot(2);
    h.seam.seamReady = false;
    const n = h.trace.length;
    expect(ioctl(h, kvmTdInitVm(h, 1, 1))).toEqual([['td_create', false]]);
    expect(seamcallsSince(h, n)).toEqual([`9@1=0x${TDX_SEAMCALL_VMFAILINVALID.toString(16)}`]);
    expect(h.kvm.tds.get(1)!.bugged).toBe(true);
  });

  it("a TD of other VMs is unaffected by one TD's KVM_BUG_ON", () => {
    const h = boot(2);
    const a = buildTd(h, 1);
    const b = buildTd(h, 2);
    ioctl(h, kvmTdFinalize(h, 1, a)); // finalize with no pages is allowed
    expect(ioctl(h, kvmTdFinalize(h, 1, a))).toEqual([['td_finalize', false]]);
    expect(ioctl(h, kvmTdAddPage(h, 1, b, 0, pageContent(4)))).toEqual([
      ['td_page_add', true],
      ['td_extend', true],
    ]);
    expect([a.bugged, b.bugged]).toEqual([true, false]);
  });

  it('after a lost update every TD SEAMCALL fails once, then KVM stops issuing them', () => {
    const h = boot(2);
    const td = buildTd(h);
    ioctl(h, kvmTdFinalize(h, 1, td));
    expect(installRef(h, imageRef(), { faults: { installFail: { cpu: 1, status: 0x8000000000010003n } } })).toBe(-5);
    const n = h.trace.length;
    expect(ioctl(h, kvmTdRun(h, 1, td, []))).toEqual([['td_run', false]]);
    expect(ioctl(h, kvmTdRun(h, 1, td, []))).toEqual([['td_run', false]]);
    expect(seamcallsSince(h, n)).toEqual([`0@1=0x${TDX_SEAMCALL_VMFAILINVALID.toString(16)}`]);
  });
});

describe('a busy TD leaf (TDX_OPERAND_BUSY, spec §5.3)', () => {
  const busy = (leaf: bigint) => ({ leaf, cpu: null, status: TDX_OPERAND_BUSY | OPERAND_ID_RCX });

  it('TDH.MEM.PAGE.ADD busy is -EBUSY, not KVM_BUG_ON: no EXTEND, both pages freed, the TD unchanged, and the retry succeeds', () => {
    const h = boot(2);
    const td = buildTd(h);
    const pages = h.mem.size;
    h.seam.faults.leafFail = busy(TDH.MEM_PAGE_ADD);
    const n = h.trace.length;
    expect(ioctl(h, kvmTdAddPage(h, 1, td, 0, pageContent(3)))).toEqual([['td_page_add', false]]);
    expect(seamcallsSince(h, n)).toEqual([`2@1=0x${(TDX_OPERAND_BUSY | OPERAND_ID_RCX).toString(16)}`]);
    expect(td.bugged).toBe(false);
    expect(h.mem.size).toBe(pages);
    expect(h.seam.module!.tds.get(td.tdrPa)).toMatchObject({ pages: new Map(), mrtd: MRTD_INIT });
    expect(ioctl(h, kvmTdAddPage(h, 1, td, 0, pageContent(3)))).toEqual([
      ['td_page_add', true],
      ['td_extend', true],
    ]);
  });

  it('seeded bug S6: a busy TDH.MEM.PAGE.ADD is KVM_BUG_ON', () => {
    const h = boot(2, { bugs: ['page-add-busy-bug-on'] });
    const td = buildTd(h);
    h.seam.faults.leafFail = busy(TDH.MEM_PAGE_ADD);
    expect(ioctl(h, kvmTdAddPage(h, 1, td, 0, pageContent(3)))).toEqual([['td_page_add', false]]);
    expect(td.bugged).toBe(true);
  });

  it.each([
    ['TDH.MNG.KEY.CONFIG', TDH.MNG_KEY_CONFIG],
    ['TDH.MNG.INIT', TDH.MNG_INIT],
  ])('%s busy: KVM_BUG_ON, the build stops there', (_name, leaf) => {
    const h = boot(2);
    h.seam.faults.leafFail = busy(leaf);
    const lins = ioctl(h, kvmTdInitVm(h, 1, 1));
    expect(lins.at(-1)).toEqual([leaf === TDH.MNG_INIT ? 'td_init' : 'td_key_config', false]);
    expect(h.kvm.tds.get(1)!.bugged).toBe(true);
  });

  it('TDH.MR.EXTEND, TDH.MR.FINALIZE and TDH.VP.ENTER busy: KVM_BUG_ON; no guest store lands; another TD goes on', () => {
    const h = boot(2);
    const [a, b, c] = [buildTd(h, 1), buildTd(h, 2), buildTd(h, 3)];
    h.seam.faults.leafFail = busy(TDH.MR_EXTEND);
    expect(ioctl(h, kvmTdAddPage(h, 1, a, 0, pageContent(3)))).toEqual([
      ['td_page_add', true],
      ['td_extend', false],
    ]);
    h.seam.faults.leafFail = busy(TDH.MR_FINALIZE);
    expect(ioctl(h, kvmTdFinalize(h, 1, b))).toEqual([['td_finalize', false]]);
    ioctl(h, kvmTdAddPage(h, 1, c, 0, pageContent(4)));
    ioctl(h, kvmTdFinalize(h, 1, c));
    const page = h.mem.page(h.seam.module!.tds.get(c.tdrPa)!.pages.get(0)!)!;
    h.seam.faults.leafFail = busy(TDH.VP_ENTER);
    expect(ioctl(h, kvmTdRun(h, 1, c, [{ gpa: 0, offset: 9, value: 0xab }]))).toEqual([['td_run', false]]);
    expect(page[9]).toBe(pageContent(4)[9]);
    expect([a.bugged, b.bugged, c.bugged]).toEqual([true, true, true]);
    const d = buildTd(h, 4);
    expect(ioctl(h, kvmTdAddPage(h, 1, d, 0, pageContent(5)))).toEqual([
      ['td_page_add', true],
      ['td_extend', true],
    ]);
  });

  it('TDH.MNG.KEY.FREEID busy: KVM forgets the TD, the module keeps it (the HKID leaks)', () => {
    const h = boot(2);
    const td = buildTd(h);
    h.seam.faults.leafFail = busy(TDH.MNG_KEY_FREEID);
    expect(ioctl(h, kvmTdTeardown(h, 1, td))).toEqual([['td_teardown', false]]);
    expect(h.kvm.tds.has(1)).toBe(false);
    expect(h.seam.module!.tds.get(td.tdrPa)).toMatchObject({ initialized: true, finalized: false });
  });
});

describe('TDs across an update (through the harness: model and implementation agree)', () => {
  it('a finalized TD keeps its memory, its MRTD and its launch-time SEAMDB entry', () => {
    const stores = [{ page: 0, offset: 17, value: 0x42 }];
    const r = run(scenario(hostData(2), [...finalizedTd(0, 5), tdRun(0, stores), upload(), tdRun(0, [{ page: 0, offset: 18, value: 0x43 }])]));
    expect(r.violation).toBeNull();
    expect(linResults(r.host, 'td_run')).toEqual([true, true]);
    const td = r.host.kvm.tds.get(1)!;
    const tdr = r.host.seam.module!.tds.get(td.tdrPa)!;
    const want = pageContent(5);
    want[17] = 0x42;
    want[18] = 0x43;
    expect(hex(r.host.mem.page(tdr.pages.get(0)!)!)).toBe(hex(want));
    expect(hex(tdr.mrtd)).toBe(hex(measureExtend(measurePageAdd(MRTD_INIT, 0), 0, pageContent(5))));
    expect(hex(mrtdOf(r.model.tds.get(1)!.mrtd))).toBe(hex(tdr.mrtd));
    expect([tdr.launchSeamdbIndex, r.host.seam.module!.seamdbIndex, tdr.hkid]).toEqual([0, 1, 16]);
  });

  it('an update between two page adds restarts the measurement: MRTD covers only the second page', () => {
    const r = run(scenario(hostData(2), [tdCreate(), tdAddPage(0, 1), upload(), tdAddPage(0, 2), tdFinalize(0)]));
    expect(r.violation).toBeNull();
    const td = r.host.kvm.tds.get(1)!;
    const tdr = r.host.seam.module!.tds.get(td.tdrPa)!;
    const restarted = measureExtend(measurePageAdd(MRTD_INIT, 1), 1, pageContent(2));
    expect(hex(tdr.mrtd)).toBe(hex(restarted));
    expect(hex(mrtdOf(r.model.tds.get(1)!.mrtd))).toBe(hex(restarted));
    expect(tdr.finalized).toBe(true);
    // Both pages survived; only the measurement of the first was lost.
    expect([...tdr.pages.keys()]).toEqual([0, 1]);
    expect(hex(r.host.mem.page(tdr.pages.get(0)!)!)).toBe(hex(pageContent(1)));
  });

  it('an update between TDH.MEM.PAGE.ADD and TDH.MR.EXTEND of one page: the extend starts a new MRTD', () => {
    // Issue the upload, let td_add_page do its PAGE.ADD, then keep choosing the worker (choice 1
    // is the most recently run of two) until stop_machine; the EXTEND comes after the update.
    const schedule = [...Array<number>(7).fill(0), 1, 0, 0, ...Array<number>(20).fill(1)];
    const r = run(scenario(hostData(2), [tdCreate(), upload(), tdAddPage(0, 1)], schedule));
    expect(r.violation).toBeNull();
    const kinds: string[] = r.host.trace.map((e) => (e.kind === 'lin' ? e.op.name : e.kind));
    const at = (k: string) => kinds.indexOf(k);
    expect(at('td_page_add')).toBeLessThan(at('update_begin'));
    expect(at('td_extend')).toBeGreaterThan(at('update_end'));
    expect(linResults(r.host, 'update')).toEqual([0]);
    const tdr = r.host.seam.module!.tds.get(r.host.kvm.tds.get(1)!.tdrPa)!;
    const want = measureExtend(MRTD_INIT, 0, pageContent(1));
    expect(hex(tdr.mrtd)).toBe(hex(want));
    expect(hex(mrtdOf(r.model.tds.get(1)!.mrtd))).toBe(hex(want));
  });

  it('no SEAMCALL of a TD build runs inside the update window (stop_machine, I-1)', () => {
    const r = run(scenario(hostData(2), [tdCreate(), upload(), tdAddPage(0, 1)], [...Array<number>(7).fill(0), 1, 0, 0, ...Array<number>(20).fill(1)]));
    expect(events(lastUpdate(r.host.trace), 'seamcall').every((e) => e.task.startsWith('stopper/'))).toBe(true);
  });
});
