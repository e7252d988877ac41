// Meta-test of properties/invariants.ts: the project's standard is that every invariant can
// fail. For each record of INVARIANTS, and for the termination check I-6 that harness/run.ts
// reports, each case builds one state or trace twice from the same setup: healthy (the check
// must return null) and with exactly one thing broken (the check must return a message that
// names the problem). A final test fails when an invariant has no case here, so adding an
// invariant without a failing test breaks the build.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../harness/run.ts';
import { NO_BUGS, type BugName } from '../../impl/faults.ts';
import { P_SEAMLDR_INFO, TDH, TDX_RND_NO_ENTROPY, TDX_SEAMCALL_VMFAILINVALID, TDX_SYS_BUSY } from '../../impl/firmware/abi.ts';
import { buildBlobV1, corruptBlobV1 } from '../../impl/firmware/image.ts';
import { buildImageV2, corruptImageV2 } from '../../impl/firmware/image_v2.ts';
import type { Host, TraceEvent } from '../../impl/host.ts';
import { type Revision } from '../../impl/kernel/revision.ts';
import { COMPAT_KERNEL as COMPAT, V2_KERNEL as V2, UPSTREAM_KERNEL as UPSTREAM } from '../../properties/revisions/index.ts';
import { parseBlobV1, parseImageV2, populateSeamldrParams } from '../../impl/kernel/seamldr.ts';
import type { Command } from '../../properties/commands/index.ts';
import { identityOf } from '../../properties/images.ts';
import { INVARIANTS, TERMINATION } from '../../properties/invariants.ts';
import type { HostData } from '../../properties/scenario.ts';
import { recordWith } from '../revision_fixture.ts';
import { boot, checkOf, drive, feed, HOST, hostData, image, protocolTrace, stageImage, upload } from './helpers.ts';

/** One broken/healthy pair: `run(false)` is the healthy variant, `run(true)` the broken one. */
interface Pair {
  readonly name: string;
  readonly expect: RegExp;
  readonly run: (broken: boolean) => string | null;
}
/** A state or trace that is fine and must stay so (no broken twin). */
interface Fine {
  readonly name: string;
  readonly run: () => string | null;
}
interface Case {
  readonly pairs: readonly Pair[];
  readonly fine?: readonly Fine[];
}

const CPUS = [0, 1, 2, 3];

/** A copy of `ev` with `extra` inserted before index `at` (negative: from the end). */
function insertAt(ev: readonly TraceEvent[], at: number, ...extra: TraceEvent[]): TraceEvent[] {
  const out = [...ev];
  out.splice(at < 0 ? out.length + at : at, 0, ...extra);
  return out;
}

function indexOf(ev: readonly TraceEvent[], pred: (e: TraceEvent) => boolean): number {
  const i = ev.findIndex(pred);
  if (i < 0) throw new Error('event not found in the trace');
  return i;
}

const isAck = (cpu: number, state: string) => (e: TraceEvent) => e.kind === 'ack' && e.cpu === cpu && e.state === state;
const isWork = (cpu: number, state: string) => (e: TraceEvent) => e.kind === 'update_work' && e.cpu === cpu && e.state === state;
const isEnd = (e: TraceEvent) => e.kind === 'update_end';

/** A host whose fw buffer holds a valid image and a SEAMLDR_PARAMS page the kernel built for it. */
function hostWithParams(rev: Revision = V2): { h: Host; paramsPa: number; params: DataView; pas: number[]; nrModulePages: number } {
  const h = boot(HOST, rev);
  const id = identityOf(image('1.5.08'));
  const buf = stageImage(h, rev.imageFormat === 'v1' ? buildBlobV1(id) : buildImageV2(id));
  h.tdxHost.fw!.buffer = buf;
  const { ret, layout } = rev.imageFormat === 'v1' ? parseBlobV1(h, buf) : parseImageV2(h, buf);
  if (ret || !layout) throw new Error('the valid blob did not parse');
  const paramsPa = h.mem.allocPages(1)[0]!;
  populateSeamldrParams(h, paramsPa, buf, layout);
  const p = h.mem.page(paramsPa)!;
  return { h, paramsPa, params: new DataView(p.buffer, p.byteOffset, p.byteLength), pas: buf.pas, nrModulePages: layout.nrModulePages };
}

function withParams(broken: boolean, mutate: (x: ReturnType<typeof hostWithParams>) => void, rev: Revision = V2): string | null {
  const x = hostWithParams(rev);
  if (broken) mutate(x);
  return feed(checkOf('I-16', recordWith(rev)), x.h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: x.paramsPa }]);
}

// ---- I-6: the runner's termination check, exercised through real runs ----

/** Upstream's missing CPU-online precheck: the only setting in which B4 can hang (spec §8 B4). */
const NO_PRECHECK: Revision = { ...V2, cpuOnlinePrecheck: false };
const B4 = new Set<BugName>(['hotplug-before-lock']);

/** The all-zero schedule and each schedule with a single 1: where the offline can slip in. */
const SCHEDULES: number[][] = [[], ...Array.from({ length: 16 }, (_, k) => [...Array<number>(k).fill(0), 1])];

/** The message of the first run, over SCHEDULES, that the harness fails with violation `id`. */
function violationOver(id: string, host: HostData, commands: Command[], rev: Revision, bugs: ReadonlySet<BugName>): string | null {
  for (const schedule of SCHEDULES) {
    const r = runScenario({ host, commands, schedule }, { revision: recordWith(rev), bugs });
    if (r.violation?.id === id) return r.violation.message;
  }
  return null;
}

function terminationMessage(rev: Revision, bugs: ReadonlySet<BugName>): string | null {
  return violationOver(TERMINATION.id, hostData({ nrCpus: 2 }), [upload(image('1.5.08')), { kind: 'cpu_offline', cpu: 1 }], rev, bugs);
}

/** A SEAMCALL trace event of a stopper (for I-25). */
const sc = (leaf: bigint, cpu: number, status: bigint): TraceEvent => ({ kind: 'seamcall', cpu, task: `stopper/${cpu}`, leaf, rcx: 0n, status });

const CASES: Record<string, Case> = {
  'I-1': {
    pairs: [
      {
        name: 'a KVM SEAMCALL runs inside the update window',
        expect: /cmd3:td_run made a SEAMCALL on cpu 2 during the update/,
        run: (broken) => {
          const intruder: TraceEvent = { kind: 'seamcall', cpu: 2, task: 'cmd3:td_run', leaf: TDH.VP_ENTER, rcx: 0n, status: 0n };
          const stopper: TraceEvent = { kind: 'seamcall', cpu: 0, task: 'stopper/0', leaf: TDH.SYS_SHUTDOWN, rcx: 0n, status: 0n };
          const ev = insertAt(protocolTrace(CPUS), 1, stopper);
          return feed(checkOf('I-1'), boot(), broken ? insertAt(ev, 3, intruder) : [...ev, intruder]);
        },
      },
      {
        name: 'a sysfs read completes inside the update window',
        expect: /cmd2:read_version completed read_version during the update/,
        run: (broken) => {
          const read: TraceEvent = { kind: 'response', task: 'cmd2:read_version', command: { kind: 'read_version' }, result: '1.5.06' };
          const ev = protocolTrace(CPUS);
          return feed(checkOf('I-1'), boot(), broken ? insertAt(ev, -1, read) : [...ev, read]);
        },
      },
    ],
    fine: [
      {
        // stop_machine waits for preempt-disabled sections (a SEAMLDR.INFO under seamldr_lock)
        // before any CPU runs the state machine; spec §7 I-1 starts at the first SHUTDOWN.
        name: 'a P-SEAMLDR query that finishes after update_begin but before the first step',
        run: () =>
          feed(
            checkOf('I-1'),
            boot(),
            insertAt(
              protocolTrace(CPUS),
              1,
              { kind: 'seamcall', cpu: 1, task: 'cmd2:read_seamldr', leaf: P_SEAMLDR_INFO, rcx: 0n, status: 0n },
              { kind: 'response', task: 'cmd2:read_seamldr', command: { kind: 'read_seamldr' }, result: '1.5.00' },
            ),
          ),
      },
      {
        name: 'the same in a real run (the counterexample I-1 used to report)',
        run: () =>
          runScenario(
            {
              host: hostData({ nrCpus: 2, boot: { release: '1.5.01', moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots: 1 }),
              commands: [upload(image('1.5.01')), { kind: 'read_seamldr', attr: 'version', cpu: 1 }],
              schedule: [0, 0, 0, 0, 0, 0, 0, 1],
            },
            { revision: recordWith(V2), bugs: NO_BUGS },
          ).violation?.message ?? null,
      },
    ],
  },
  'I-2': {
    pairs: [
      {
        name: 'stop_machine runs on a CPU set other than the online one',
        expect: /stop_machine on cpus 0-3 but online are 0-2/,
        run: (broken) => {
          const h = boot();
          if (broken) h.platform.cpus[3]!.online = false;
          return feed(checkOf('I-2'), h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
        },
      },
      {
        name: 'a CPU goes offline inside the update window',
        expect: /cpu 3 went offline during the update/,
        run: (broken) => {
          const hp: TraceEvent = { kind: 'hotplug', cpu: 3, online: false, ret: 0 };
          const ev = protocolTrace(CPUS);
          return feed(checkOf('I-2'), boot(), broken ? insertAt(ev, 5, hp) : [...ev, hp]);
        },
      },
      {
        name: 'a hotplug request inside the window succeeds instead of failing',
        expect: /cpu 2 went online during the update/,
        run: (broken) => feed(checkOf('I-2'), boot(), insertAt(protocolTrace(CPUS), 5, { kind: 'hotplug', cpu: 2, online: true, ret: broken ? 0 : -16 })),
      },
    ],
  },
  'I-3': {
    pairs: [
      {
        name: 'CPU_INSTALL work before every CPU acked SHUTDOWN',
        expect: /cpu 0 did CPU_INSTALL after 1 of 2 CPUs acked SHUTDOWN/,
        run: (broken) => {
          const ev = protocolTrace([0, 1]);
          const early = insertAt(ev, indexOf(ev, isAck(1, 'SHUTDOWN')), { kind: 'update_work', cpu: 0, state: 'CPU_INSTALL', ret: 0 });
          return feed(checkOf('I-3'), boot(), broken ? early : ev);
        },
      },
      {
        name: 'SHUTDOWN runs on a CPU that is not the lead',
        expect: /SHUTDOWN ran on cpu 1, not the lead cpu 0/,
        run: (broken) => {
          const ev = protocolTrace([0, 1]).map((e) => (broken && e.kind === 'update_work' && e.state === 'SHUTDOWN' ? { ...e, cpu: 1 } : e));
          return feed(checkOf('I-3'), boot(), ev);
        },
      },
      {
        name: 'CPU_INSTALL runs twice on one CPU',
        expect: /CPU_INSTALL ran twice on cpu 1/,
        run: (broken) => {
          const ev = protocolTrace([0, 1]);
          const i = indexOf(ev, isWork(1, 'CPU_INSTALL'));
          return feed(checkOf('I-3'), boot(), broken ? insertAt(ev, i + 1, ev[i]!) : ev);
        },
      },
      {
        name: 'RUN_UPDATE runs twice on the lead',
        expect: /RUN_UPDATE ran twice/,
        run: (broken) => {
          const ev = protocolTrace([0, 1]);
          const i = indexOf(ev, isWork(0, 'RUN_UPDATE'));
          return feed(checkOf('I-3'), boot(), broken ? insertAt(ev, i + 1, ev[i]!) : ev);
        },
      },
    ],
    fine: [
      {
        name: 'a four-CPU update that fails in CPU_INIT',
        run: () => feed(checkOf('I-3'), boot(), protocolTrace(CPUS, { state: 'CPU_INIT', cpu: 2, ret: -5 })),
      },
    ],
  },
  'I-4': {
    pairs: [
      {
        name: 'a CPU does CPU_INSTALL although SHUTDOWN failed (B5)',
        expect: /cpu 1 did CPU_INSTALL although SHUTDOWN failed/,
        run: (broken) => {
          const ev = protocolTrace([0, 1], { state: 'SHUTDOWN', cpu: 0, ret: -5 });
          return feed(checkOf('I-4'), boot(), broken ? insertAt(ev, indexOf(ev, isEnd), { kind: 'update_work', cpu: 1, state: 'CPU_INSTALL', ret: 0 }) : ev);
        },
      },
      {
        name: 'a step failed but the update returns 0',
        expect: /a step failed but the update returned 0/,
        run: (broken) => {
          const ev = protocolTrace([0, 1], { state: 'CPU_INIT', cpu: 1, ret: -19 }).map((e) => (broken && e.kind === 'update_end' ? { ...e, ret: 0 } : e));
          return feed(checkOf('I-4'), boot(), ev);
        },
      },
      {
        name: 'no step failed but the update returns an error',
        expect: /no step failed but the update returned -5/,
        run: (broken) => {
          const ev = protocolTrace([0, 1]).map((e) => (broken && e.kind === 'update_end' ? { ...e, ret: -5 } : e));
          return feed(checkOf('I-4'), boot(), ev);
        },
      },
    ],
  },
  'I-5': {
    pairs: [
      {
        name: 'the state advances before every CPU acked',
        expect: /state moved to CPU_INSTALL after 2 of 3 acks of SHUTDOWN/,
        run: (broken) => {
          const ev = protocolTrace([0, 1, 2]);
          const st = indexOf(ev, (e) => e.kind === 'state' && e.state === 'CPU_INSTALL');
          const moved = insertAt(
            ev.filter((_, i) => i !== st),
            indexOf(ev, isAck(2, 'SHUTDOWN')),
            ev[st]!,
          );
          return feed(checkOf('I-5'), boot(), broken ? moved : ev);
        },
      },
      {
        name: 'the state advances although an acker failed (B2)',
        expect: /state moved to CPU_INIT although a CPU failed CPU_INSTALL/,
        run: (broken) => {
          const ev = protocolTrace([0, 1], { state: 'CPU_INSTALL', cpu: 1, ret: -5 });
          return feed(checkOf('I-5'), boot(), broken ? insertAt(ev, indexOf(ev, isEnd), { kind: 'state', state: 'CPU_INIT' }) : ev);
        },
      },
    ],
  },
  'I-7': {
    pairs: [
      {
        name: 'the update returns 0 but the module is unreachable',
        expect: /returned 0 but the new module is not running/,
        run: (broken) => {
          const h = boot(),
            c = checkOf('I-7');
          c(h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
          if (broken) h.seam.seamReady = false;
          return c(h, [{ kind: 'update_end', ret: 0, state: 'DONE' }]);
        },
      },
      {
        name: 'the update returns 0 but version shows another module',
        expect: /returned 0 but version shows another module/,
        run: (broken) => {
          const h = boot(),
            c = checkOf('I-7');
          c(h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
          if (broken) h.tdx.sysinfo.version = { ...h.tdx.sysinfo.version, update: 99 };
          return c(h, [{ kind: 'update_end', ret: 0, state: 'DONE' }]);
        },
      },
      {
        name: 'the update fails, the kernel still says initialized, but another module instance runs',
        expect: /not the old module running untouched/,
        run: (broken) => {
          const h = boot(),
            c = checkOf('I-7');
          c(h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
          if (broken) h.seam.module = { ...h.seam.module!, lpInit: new Set(h.seam.module!.lpInit), tds: new Map() };
          return c(h, [{ kind: 'update_end', ret: -5, state: 'SHUTDOWN' }]);
        },
      },
      {
        name: 'the update fails, the kernel still says initialized, but an LP flag changed',
        expect: /not the old module running untouched/,
        run: (broken) => {
          const h = boot(),
            c = checkOf('I-7');
          c(h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
          if (broken) h.tdx.lpInitialized[2] = false;
          return c(h, [{ kind: 'update_end', ret: -5, state: 'SHUTDOWN' }]);
        },
      },
    ],
    fine: [
      {
        name: 'a failed update that leaves the kernel uninitialized (lost) is one of the allowed outcomes',
        run: () => {
          const h = boot(),
            c = checkOf('I-7');
          c(h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
          h.tdx.state = { initialized: false, sysinitDone: false, sysinitRet: 0 };
          h.seam.seamReady = false;
          return c(h, [{ kind: 'update_end', ret: -19, state: 'CPU_INIT' }]);
        },
      },
    ],
  },
  'I-8': {
    pairs: [
      {
        name: 'SHUTDOWN succeeded but the module state was not cleared',
        expect: /shutdown succeeded but the module state was not cleared/,
        run: (broken) => {
          const h = boot(),
            c = checkOf('I-8');
          c(h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
          h.tdx.state = { initialized: broken, sysinitDone: false, sysinitRet: 0 };
          h.tdx.lpInitialized.fill(false);
          return c(h, [{ kind: 'update_work', cpu: 0, state: 'SHUTDOWN', ret: 0 }]);
        },
      },
      {
        name: 'SHUTDOWN succeeded but a CPU is still marked LP-initialized',
        expect: /shutdown succeeded but cpu 2 is still marked LP-initialized/,
        run: (broken) => {
          const h = boot(),
            c = checkOf('I-8');
          c(h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
          h.tdx.state = { initialized: false, sysinitDone: false, sysinitRet: 0 };
          h.tdx.lpInitialized.fill(false);
          if (broken) h.tdx.lpInitialized[2] = true;
          return c(h, [{ kind: 'update_work', cpu: 0, state: 'SHUTDOWN', ret: 0 }]);
        },
      },
      {
        name: 'SHUTDOWN failed but the kernel cleared its module state',
        expect: /shutdown failed/,
        run: (broken) => {
          const h = boot(),
            c = checkOf('I-8');
          c(h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
          if (broken) h.tdx.state.initialized = false;
          return c(h, [{ kind: 'update_work', cpu: 0, state: 'SHUTDOWN', ret: -5 }]);
        },
      },
    ],
  },
  'I-9': {
    pairs: [
      {
        name: 'initialized while SEAM_READY is clear',
        expect: /initialized but .*SEAM_READY is clear/,
        run: (broken) => {
          const h = boot();
          if (broken) h.seam.seamReady = false;
          return checkOf('I-9')(h, []);
        },
      },
      {
        name: 'initialized while the module is in SYS_SHUTDOWN',
        expect: /initialized but the module is SYS_SHUTDOWN/,
        run: (broken) => {
          const h = boot();
          if (broken) h.seam.module!.sysState = 'SYS_SHUTDOWN';
          return checkOf('I-9')(h, []);
        },
      },
      {
        name: 'initialized with no module in the SEAM range',
        expect: /initialized but the module is gone/,
        run: (broken) => {
          const h = boot();
          if (broken) h.seam.module = null;
          return checkOf('I-9')(h, []);
        },
      },
    ],
    fine: [
      {
        name: 'not initialized and no module (a lost update)',
        run: () => {
          const h = boot();
          h.tdx.state.initialized = false;
          h.seam.module = null;
          return checkOf('I-9')(h, []);
        },
      },
    ],
  },
  'I-10': {
    pairs: [
      {
        name: "the kernel reports a version other than the running module's",
        expect: /version reads 1\.5\.99 but 1\.5\.6 runs/,
        run: (broken) => {
          const h = boot();
          if (broken) h.tdx.sysinfo.version = { major: 1, minor: 5, update: 99 };
          return checkOf('I-10')(h, []);
        },
      },
    ],
    fine: [
      {
        name: 'a mismatch inside the update window (the refresh has not happened yet)',
        run: () => {
          const h = boot();
          h.tdx.sysinfo.version = { major: 1, minor: 5, update: 99 };
          return checkOf('I-10')(h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
        },
      },
    ],
  },
  'I-13': {
    pairs: [
      {
        name: 'a P-SEAMLDR call was turned away because another CPU was inside',
        expect: /1 P-SEAMLDR call\(s\) got VMfailInvalid because another CPU was inside/,
        run: (broken) => {
          const h = boot();
          if (broken) h.seam.pseamldr.rejectedEntries = 1;
          return checkOf('I-13')(h, []);
        },
      },
      {
        name: 'B21: two SEAMLDR.INFO readers on two CPUs collide (seeded bug seamldr-info-unlocked)',
        expect: /P-SEAMLDR call\(s\) got VMfailInvalid/,
        run: (broken) =>
          violationOver(
            'I-13',
            HOST,
            [
              { kind: 'read_seamldr', attr: 'version', cpu: 1 },
              { kind: 'read_seamldr', attr: 'num_remaining_updates', cpu: 2 },
            ],
            V2,
            broken ? new Set<BugName>(['seamldr-info-unlocked']) : NO_BUGS,
          ),
      },
    ],
  },
  'I-15': {
    pairs: [
      {
        name: 'the kernel reads past the end of the image (B13)',
        expect: /read image byte 4096 of a 100-byte image/,
        run: (broken) => {
          const h = boot();
          h.tdxHost.fw!.buffer = stageImage(h, buildBlobV1(identityOf(image('1.5.08'))));
          const begin: TraceEvent = { kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 };
          return feed(checkOf('I-15'), h, broken ? [{ kind: 'oob_read', offset: 4096, len: 100 }, begin] : [begin]);
        },
      },
      {
        name: 'merged kernel: a v2 image with a bad magic reaches P-SEAMLDR',
        expect: /an image that fails the v2 checks reached P-SEAMLDR/,
        run: (broken) => {
          const h = boot(HOST, UPSTREAM);
          const img = buildImageV2(identityOf(image('1.5.08')));
          h.tdxHost.fw!.buffer = stageImage(h, broken ? corruptImageV2(img, { kind: 'bad_magic' }) : img);
          return feed(checkOf('I-15', recordWith(UPSTREAM)), h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
        },
      },
      {
        name: 'an image with a bad checksum reaches P-SEAMLDR',
        expect: /an image that fails the v1 checks reached P-SEAMLDR/,
        run: (broken) => {
          const h = boot();
          const blob = buildBlobV1(identityOf(image('1.5.08')));
          h.tdxHost.fw!.buffer = stageImage(h, broken ? corruptBlobV1(blob, { kind: 'bad_checksum' }) : blob);
          return feed(checkOf('I-15'), h, [{ kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 }]);
        },
      },
    ],
  },
  'I-16': {
    pairs: [
      {
        name: 'a wrong entry in module_pages_pa_list',
        expect: /module_pages_pa_list\[1\] is wrong/,
        run: (broken) => withParams(broken, (x) => x.params.setBigUint64(128 + 8, BigInt(x.pas[0]!), true)),
      },
      {
        name: 'an entry written past the module page list',
        expect: /module_pages_pa_list\[2\] is wrong/,
        run: (broken) => withParams(broken, (x) => x.params.setBigUint64(128 + 8 * x.nrModulePages, 0x1000n, true)),
      },
      {
        name: 'scenario LOAD instead of UPDATE',
        expect: /params version\/scenario wrong/,
        run: (broken) => withParams(broken, (x) => x.params.setUint32(4, 0, true)),
      },
      {
        name: 'sigstruct_pa points at the header page',
        expect: /sigstruct_pa is not image page 1/,
        run: (broken) => withParams(broken, (x) => x.params.setBigUint64(8, BigInt(x.pas[0]!), true)),
      },
      {
        name: 'num_module_pages one too many',
        expect: /num_module_pages 3 != 2/,
        run: (broken) => withParams(broken, (x) => x.params.setBigUint64(120, BigInt(x.nrModulePages + 1), true)),
      },
      {
        name: 'merged kernel, v2 image: a module page entry points at the sigstruct page',
        expect: /module_pages_pa_list\[0\] is wrong/,
        run: (broken) => withParams(broken, (x) => x.params.setBigUint64(128, BigInt(x.pas[1]!), true), UPSTREAM),
      },
    ],
  },
  'I-25': {
    pairs: [
      {
        name: 'a CPU issues TDH.SYS.LP.INIT after TDH.SYS.INIT failed',
        expect: /cpu 1 issued TDH.SYS.LP.INIT although TDH.SYS.INIT failed/,
        run: (broken) =>
          feed(checkOf('I-25'), boot(), [
            { kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 },
            sc(TDH.SYS_INIT, 0, broken ? TDX_SYS_BUSY : 0n),
            sc(TDH.SYS_LP_INIT, 1, 0n),
          ]),
      },
      {
        name: 'a CPU reports CPU_INIT success after TDH.SYS.INIT failed (a stale cached result)',
        expect: /cpu 2 reports CPU_INIT success although TDH.SYS.INIT failed/,
        run: (broken) =>
          feed(checkOf('I-25'), boot(), [
            { kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 },
            sc(TDH.SYS_INIT, 0, TDX_SYS_BUSY),
            { kind: 'update_work', cpu: 0, state: 'CPU_INIT', ret: -5 },
            { kind: 'update_work', cpu: 2, state: 'CPU_INIT', ret: broken ? 0 : -5 },
          ]),
      },
      {
        name: 'two CPUs both issue TDH.SYS.INIT (the result was not cached under sysinit_lock)',
        expect: /TDH.SYS.INIT ran 2 times in one update \(the last on cpu 3\)/,
        run: (broken) =>
          feed(checkOf('I-25'), boot(), [
            { kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 },
            sc(TDH.SYS_INIT, 0, 0n),
            ...(broken ? [sc(TDH.SYS_INIT, 3, 0n)] : []),
          ]),
      },
    ],
    fine: [
      {
        name: 'a no-entropy retry of TDH.SYS.INIT in the SEAMCALL wrapper is the same call',
        run: () =>
          feed(checkOf('I-25'), boot(), [
            { kind: 'update_begin', cpus: CPUS, lead: 0, paramsPa: 0 },
            sc(TDH.SYS_INIT, 0, TDX_RND_NO_ENTROPY),
            sc(TDH.SYS_INIT, 0, 0n),
            sc(TDH.SYS_LP_INIT, 0, 0n),
          ]),
      },
      {
        name: 'a real update whose TDH.SYS.INIT fails on 4 CPUs: every CPU gets the cached failure',
        run: () =>
          runScenario(
            { host: { ...HOST, nrCpus: 4 }, commands: [upload(image('1.5.08'), { kind: 'leaf', leaf: 'SYS_INIT', cpu: null })], schedule: [] },
            { revision: recordWith(V2), bugs: NO_BUGS },
          ).violation?.message ?? null,
      },
    ],
  },
  'I-26': {
    pairs: [
      {
        name: 'a failed TDH.SYS.LP.INIT leaves no line in the kernel log',
        expect: /a SEAMCALL failed and the log does not say "SEAMCALL \(0x23\) failed: 0x8000020200000000"/,
        run: (broken) => {
          const h = boot();
          if (!broken) h.log.push('SEAMCALL (0x23) failed: 0x8000020200000000');
          return feed(checkOf('I-26'), h, [sc(TDH.SYS_LP_INIT, 1, TDX_SYS_BUSY)]);
        },
      },
      {
        name: 'the log reports a failure of a SEAMCALL that succeeded',
        expect: /the log says "SEAMCALL \(0x34\) failed: 0x8000020200000000", but no SEAMCALL failed so/,
        run: (broken) => {
          const h = boot();
          h.log.push('SEAMCALL (0x34) failed: 0x8000020200000000');
          return feed(checkOf('I-26'), h, [sc(TDH.SYS_SHUTDOWN, 0, broken ? 0n : TDX_SYS_BUSY)]);
        },
      },
      {
        name: 'TDH.SYS.INIT finds no module and the log does not say "module not loaded"',
        expect: /the log does not say "virt\/tdx: module not loaded"/,
        run: (broken) => {
          const h = boot();
          if (!broken) h.log.push('virt/tdx: module not loaded');
          return feed(checkOf('I-26'), h, [sc(TDH.SYS_INIT, 0, TDX_SEAMCALL_VMFAILINVALID)]);
        },
      },
    ],
  },
  [TERMINATION.id]: {
    pairs: [
      {
        name: 'B4: the participant count is taken before cpus_read_lock and a CPU goes offline in between',
        expect: /livelock|deadlock/,
        run: (broken) => terminationMessage(NO_PRECHECK, broken ? B4 : NO_BUGS),
      },
    ],
    fine: [{ name: "with the seed's CPU-online precheck the same race is refused, not hung", run: () => terminationMessage(V2, B4) }],
  },
};

describe.each(Object.entries(CASES))('%s', (_id, c) => {
  it.each(c.pairs.map((p) => [p.name, p] as const))('%s: null when healthy, a message when broken', (_name, p) => {
    expect(p.run(false)).toBeNull();
    const msg = p.run(true);
    expect(msg).not.toBeNull();
    expect(msg).toMatch(p.expect);
  });
  if (c.fine?.length) {
    it.each(c.fine.map((f) => [f.name, f] as const))('fine: %s', (_name, f) => {
      expect(f.run()).toBeNull();
    });
  }
});

/** Healthy real runs: each check alone, fed every step of a scenario, never says anything. */
const HEALTHY_RUNS: { name: string; host: HostData; commands: Command[]; rev?: Revision }[] = [
  {
    name: 'TD builds around a successful update, then TD activity and reads',
    host: HOST,
    commands: [
      { kind: 'td_create', cpu: 1 },
      { kind: 'td_add_page', td: 0, fill: 3, cpu: 2 },
      { kind: 'td_finalize', td: 0, cpu: 0 },
      { kind: 'td_create', cpu: 3 },
      { kind: 'td_add_page', td: 1, fill: 4, cpu: 1 },
      upload(image('1.5.08')),
      { kind: 'read_version' },
      { kind: 'read_error' },
      { kind: 'td_run', td: 0, stores: [{ page: 0, offset: 5, value: 7 }], cpu: 3 },
      { kind: 'td_add_page', td: 1, fill: 5, cpu: 2 },
      { kind: 'td_finalize', td: 1, cpu: 0 },
      { kind: 'read_seamldr', attr: 'num_remaining_updates' },
      { kind: 'td_teardown', td: 0, cpu: 1 },
    ],
  },
  {
    name: 'refusals: a bad header, a failing SHUTDOWN, an offline CPU, an idle cancel',
    host: HOST,
    commands: [
      { kind: 'cancel' },
      upload(image('1.5.08', { corruption: { kind: 'bad_checksum' } })),
      { kind: 'read_error' },
      upload(image('1.5.08'), { kind: 'leaf', leaf: 'SHUTDOWN', cpu: null }),
      { kind: 'read_version' },
      { kind: 'cpu_offline', cpu: 2 },
      upload(image('1.5.08')),
      { kind: 'cpu_online', cpu: 2 },
    ],
  },
  {
    name: 'lost at RUN_UPDATE, then hotplug and a retry',
    host: HOST,
    commands: [
      { kind: 'td_create', cpu: 1 },
      upload(image('1.5.08'), { kind: 'leaf', leaf: 'UPDATE', cpu: null }),
      { kind: 'read_version' },
      { kind: 'cpu_offline', cpu: 2 },
      { kind: 'cpu_online', cpu: 2 },
      upload(image('1.5.09')),
      { kind: 'td_run', td: 0, stores: [], cpu: 0 },
    ],
  },
  {
    name: 'lost at CPU_INSTALL (bad hash), then hotplug, reads and a retry',
    host: hostData({ nrCpus: 3 }),
    commands: [
      upload(image('1.5.08', { corruption: { kind: 'module_bitflip', byte: 5, bit: 1 } })),
      { kind: 'cpu_offline', cpu: 2 },
      { kind: 'cpu_online', cpu: 2 },
      { kind: 'read_seamldr', attr: 'version' },
      upload(image('1.5.09')),
    ],
  },
  {
    name: 'one CPU: the no-entropy retry recovers, two updates use up the slots, the third is refused',
    host: hostData({ nrCpus: 1 }),
    commands: [upload(image('1.5.08'), { kind: 'no_entropy', count: 1 }), upload(image('1.5.09')), upload(image('1.5.13')), { kind: 'read_error' }],
  },
  {
    name: 'merged kernel: v2 images, an offline CPU loses the module, the retry is refused',
    host: hostData({ nrCpus: 3 }),
    rev: UPSTREAM,
    commands: [
      { kind: 'td_create', cpu: 1 },
      { kind: 'td_add_page', td: 0, fill: 3, cpu: 2 },
      upload(image('1.5.08', { format: 'v2', moduleHv: 1 })),
      { kind: 'read_seamldr', attr: 'version', cpu: 2 },
      upload(image('1.5.09', { format: 'v2', moduleHv: 1, minUpdateHv: 1 })),
      { kind: 'cpu_offline', cpu: 2 },
      upload(image('1.5.13', { format: 'v2', moduleHv: 1 })),
      { kind: 'read_version' },
      upload(image('1.5.16', { format: 'v2' })),
    ],
  },
  {
    name: 'v3-v10 compat handling: refused with device-busy during a TD build, applied after it',
    host: hostData({ boot: { release: '1.5.24', moduleHv: 0, minUpdateHv: 0, noDowngrade: false } }),
    rev: COMPAT,
    commands: [
      { kind: 'td_create', cpu: 1 },
      { kind: 'td_add_page', td: 0, fill: 3, cpu: 2 },
      upload(image('1.5.25')),
      { kind: 'read_error' },
      { kind: 'td_finalize', td: 0, cpu: 0 },
      upload(image('1.5.25')),
      { kind: 'read_version' },
    ],
  },
  {
    name: '2.0 family with handoff versions and no_downgrade',
    host: hostData({ nrCpus: 2, boot: { release: '2.0.04', moduleHv: 1, minUpdateHv: 1, noDowngrade: true } }),
    commands: [
      upload(image('2.0.05', { moduleHv: 2, minUpdateHv: 1 })),
      upload(image('2.0.08', { moduleHv: 2, minUpdateHv: 2, noDowngrade: true })),
      { kind: 'read_version' },
    ],
  },
];

describe('every check stays silent on healthy real runs', () => {
  const ids = INVARIANTS.map((i) => i.id);
  it.each(HEALTHY_RUNS.map((r) => [r.name, r] as const))('%s', (_name, r) => {
    for (const id of ids) {
      const d = drive(r.host, r.commands, checkOf(id, recordWith(r.rev ?? V2)), { rev: r.rev ?? V2 });
      expect({ id, messages: d.messages }).toEqual({ id, messages: [] });
    }
    // And the whole harness agrees: no result, refinement or invariant violation.
    expect(runScenario({ host: r.host, commands: r.commands, schedule: [] }, { revision: recordWith(r.rev ?? V2), bugs: NO_BUGS }).violation).toBeNull();
  });
});

describe('coverage of this file', () => {
  it('has a failing case for every invariant in INVARIANTS and for termination', () => {
    const missing = [...INVARIANTS.map((i) => i.id), TERMINATION.id].filter((id) => !(id in CASES) || CASES[id]!.pairs.length === 0);
    expect(missing, `invariants without a broken/healthy case in test/properties/invariants.test.ts: ${missing.join(', ')}`).toEqual([]);
  });
  it('has no case for an invariant that does not exist', () => {
    const known = new Set([...INVARIANTS.map((i) => i.id), TERMINATION.id]);
    expect(Object.keys(CASES).filter((id) => !known.has(id))).toEqual([]);
  });
  it('invariant ids are unique', () => {
    const ids = INVARIANTS.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
