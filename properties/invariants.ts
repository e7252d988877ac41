// The invariants of spec §7 as records: what each claims, where it comes from, and a check
// evaluated on the implementation after every step. A check sees the host and the trace
// events of that step; `create` gives it its own memory for one run (update windows,
// snapshots), so the records stay plain data.
import { TDH, PAGE_SIZE, TDX_RND_NO_ENTROPY, TDX_SEAMCALL_VMFAILINVALID, TDX_STATUS_MASK } from '../impl/firmware/abi.ts';
import type { TdxModule } from '../impl/firmware/tdx_module.ts';
import type { Host, TraceEvent } from '../impl/host.ts';
import { UPDATE_STATES, type UpdateState } from '../impl/kernel/seamldr.ts';
import { acceptableBlobV1, acceptableImageV2 } from './image_spec.ts';
import { cpulist } from './cpulist.ts';
import type { RevisionRecord } from './revisions/record.ts';

export type Check = (h: Host, events: readonly TraceEvent[]) => string | null;

/** What a check may take from the kernel revision's record (properties/revisions/). */
export type Checks = RevisionRecord['checks'];

export interface Invariant {
  readonly id: string;
  readonly claim: string;
  readonly source: string;
  readonly create: (checks: Checks) => Check;
}

/** Per-run bookkeeping of the update window: from update_begin to update_end. */
interface Window {
  cpus: number[];
  lead: number;
  acks: Map<UpdateState, { n: number; failed: boolean }>;
  work: Map<string, number>;
}

function windowTracker(): { w: Window | null; see(e: TraceEvent): void } {
  const t = {
    w: null as Window | null,
    see(e: TraceEvent) {
      if (e.kind === 'update_begin') t.w = { cpus: e.cpus, lead: e.lead, acks: new Map(), work: new Map() };
      if (e.kind === 'update_end') t.w = null;
      if (e.kind === 'ack' && t.w) {
        const a = t.w.acks.get(e.state) ?? { n: 0, failed: false };
        t.w.acks.set(e.state, { n: a.n + 1, failed: a.failed || e.ret !== 0 });
      }
    },
  };
  return t;
}

/**
 * Whether a TDH.SYS.RD failed after the last successful TDH.SYS.UPDATE: the kernel then only
 * warns, and the version it reports may be the old module's (spec §8 B12, accepted behaviour).
 */
function refreshTracker(): { stale: boolean; see(e: TraceEvent): void } {
  let afterUpdate = false;
  const t = {
    stale: false,
    see(e: TraceEvent) {
      if (e.kind === 'update_begin') afterUpdate = false;
      if (e.kind !== 'seamcall') return;
      if (e.leaf === TDH.SYS_UPDATE && e.status === 0n) [afterUpdate, t.stale] = [true, false];
      if (e.leaf === TDH.SYS_RD && e.status !== 0n && afterUpdate) t.stale = true;
    },
  };
  return t;
}

const prev = (s: UpdateState): UpdateState => UPDATE_STATES[UPDATE_STATES.indexOf(s) - 1]!;

function moduleReady(h: Host): boolean {
  return h.seam.module !== null && h.seam.seamReady && h.seam.module.sysState === 'SYS_READY';
}

const sameVersion = (a: { major: number; minor: number; update: number }, b: typeof a) => a.major === b.major && a.minor === b.minor && a.update === b.update;

const I1: Invariant = {
  id: 'I-1',
  claim: 'from SHUTDOWN until every CPU left the state machine, no other SEAMCALL or sysfs/KVM operation runs, and no `version` read is half done',
  source: 'stop_machine; seamldr_lock_module_update() in version_show; spec §7 I-1 [LX-seamldr; LX-host; T-v10 p14]; bug B23',
  create() {
    // The window opens with the first step of the state machine: stop_machine itself waits for
    // callers that hold preemption off (a P-SEAMLDR query under seamldr_lock, a version read
    // under the lock-out) before it starts.
    let open = false;
    const reading = new Set<string>();
    return (_h, events) => {
      for (const e of events) {
        if (e.kind === 'version_read') e.phase === 'begin' ? reading.add(e.task) : reading.delete(e.task);
        if (e.kind === 'update_end') open = false;
        const starts = !open && ((e.kind === 'seamcall' && e.task.startsWith('stopper/')) || e.kind === 'ack');
        if (starts) open = true;
        if (starts && reading.size)
          return `${[...reading][0]} was between the fields of a version read when the update started: they can come from two modules`;
        if (!open) continue;
        if (e.kind === 'seamcall' && !e.task.startsWith('stopper/')) return `${e.task} made a SEAMCALL on cpu ${e.cpu} during the update`;
        if (e.kind === 'lin') return `${e.task} completed ${e.op.name} during the update`;
        if (e.kind === 'response') return `${e.task} completed ${e.command.kind} during the update`;
      }
      return null;
    };
  },
};

const I2: Invariant = {
  id: 'I-2',
  claim: 'every online CPU runs the state machine and the online set does not change during the update',
  source: 'cpus_read_lock + stop_machine on cpu_online_mask; spec §7 I-2 [LX-seamldr; T-v7 p09]',
  create() {
    const t = windowTracker();
    return (h, events) => {
      for (const e of events) {
        t.see(e);
        if (e.kind === 'update_begin') {
          const online = cpulist(h.platform.cpus.filter((c) => c.online).map((c) => c.id));
          if (cpulist(e.cpus) !== online) return `stop_machine on cpus ${cpulist(e.cpus)} but online are ${online}`;
        }
        if (t.w && e.kind === 'hotplug' && e.ret === 0) return `cpu ${e.cpu} went ${e.online ? 'online' : 'offline'} during the update`;
      }
      return null;
    };
  },
};

const I3: Invariant = {
  id: 'I-3',
  claim: 'step k+1 work starts only after every CPU acked step k; SHUTDOWN and RUN_UPDATE once on the lead, INSTALL and INIT once per CPU',
  source: 'do_seamldr_install_module / ack_state; spec §7 I-3 [LX-seamldr]',
  create() {
    const t = windowTracker();
    return (_h, events) => {
      for (const e of events) {
        t.see(e);
        if (e.kind !== 'update_work' || !t.w) continue;
        const w = t.w;
        const leadOnly = e.state === 'SHUTDOWN' || e.state === 'RUN_UPDATE';
        if (leadOnly && e.cpu !== w.lead) return `${e.state} ran on cpu ${e.cpu}, not the lead cpu ${w.lead}`;
        const key = leadOnly ? e.state : `${e.state}/${e.cpu}`;
        if (w.work.has(key)) return `${e.state} ran twice${leadOnly ? '' : ` on cpu ${e.cpu}`}`;
        w.work.set(key, 1);
        if (e.state !== 'SHUTDOWN') {
          const a = w.acks.get(prev(e.state));
          if (!a || a.n < w.cpus.length) return `cpu ${e.cpu} did ${e.state} after ${a?.n ?? 0} of ${w.cpus.length} CPUs acked ${prev(e.state)}`;
        }
      }
      return null;
    };
  },
};

const I4: Invariant = {
  id: 'I-4',
  claim: 'after a CPU fails step k no CPU does step k+1, and the update returns non-zero',
  source: 'num_failed in the loop condition; spec §7 I-4 [LX-seamldr; T-v7 #64/#81]',
  create() {
    const t = windowTracker();
    let failed = false;
    return (_h, events) => {
      for (const e of events) {
        if (e.kind === 'update_begin') failed = false;
        if (e.kind === 'update_work' && t.w) {
          const a = t.w.acks.get(prev(e.state));
          if (e.state !== 'SHUTDOWN' && a?.failed) return `cpu ${e.cpu} did ${e.state} although ${prev(e.state)} failed`;
        }
        if (e.kind === 'ack' && e.ret !== 0) failed = true;
        if (e.kind === 'update_end' && failed && e.ret === 0) return 'a step failed but the update returned 0';
        if (e.kind === 'update_end' && !failed && e.ret !== 0) return `no step failed but the update returned ${e.ret}`;
        t.see(e);
      }
      return null;
    };
  },
};

const I5: Invariant = {
  id: 'I-5',
  claim: 'the state advances past step k only when all CPUs acked k and none failed',
  source: 'ack_state under update_ctrl.lock; spec §7 I-5, bug B2 [T-v2 #74-75]',
  create() {
    const t = windowTracker();
    return (_h, events) => {
      for (const e of events) {
        t.see(e);
        if (e.kind !== 'state' || !t.w) continue;
        const a = t.w.acks.get(prev(e.state));
        if (!a || a.n !== t.w.cpus.length) return `state moved to ${e.state} after ${a?.n ?? 0} of ${t.w.cpus.length} acks of ${prev(e.state)}`;
        if (a.failed) return `state moved to ${e.state} although a CPU failed ${prev(e.state)}`;
      }
      return null;
    };
  },
};

const I7: Invariant = {
  id: 'I-7',
  claim:
    'an update returns 0 with the new module running, or fails with the old module untouched, or fails with the module unusable (version -ENXIO); nothing in between (a failed version re-read may leave the version stale, B12)',
  source: 'spec §7 I-7 [LX-tdx]; DESIGN.md update contract',
  create() {
    let before: { module: TdxModule | null; lp: string } | null = null;
    const refresh = refreshTracker();
    return (h, events) => {
      for (const e of events) refresh.see(e); // v2 re-reads after update_end, in the same step
      for (const e of events) {
        if (e.kind === 'update_begin') before = { module: h.seam.module, lp: h.tdx.lpInitialized.join() };
        if (e.kind !== 'update_end' || !before) continue;
        const ready = moduleReady(h);
        if (e.ret === 0) {
          if (!h.tdx.state.initialized || !ready) return 'the update returned 0 but the new module is not running';
          if (!refresh.stale && !sameVersion(h.tdx.sysinfo.version, h.seam.module!.identity.version))
            return 'the update returned 0 but version shows another module, and no re-read of it failed';
        } else if (h.tdx.state.initialized) {
          const untouched = ready && h.seam.module === before.module && h.tdx.lpInitialized.join() === before.lp;
          if (!untouched) return 'the update failed, the kernel still calls the module initialized, but it is not the old module running untouched';
        } else if (ready) {
          return 'the update failed and the kernel gave the module up, but it still runs';
        }
      }
      return null;
    };
  },
};

const I8: Invariant = {
  id: 'I-8',
  claim: 'tdx_module_state and the LP flags are cleared exactly when TDH.SYS.SHUTDOWN succeeded',
  source: 'tdx_module_shutdown; spec §7 I-8 [LX-tdx; T-v6/v7 p12]',
  create(checks) {
    let before = '';
    const kernelState = (h: Host) => JSON.stringify([h.tdx.state, h.tdx.lpInitialized]);
    return (h, events) => {
      for (const e of events) {
        if (e.kind === 'update_begin') before = kernelState(h);
        if (e.kind !== 'update_work' || e.state !== 'SHUTDOWN') continue;
        const s = h.tdx.state;
        const cleared = !s.initialized && !s.sysinitDone;
        const flags = h.platform.cpus.filter((c) => (checks.lpResetAllCpus || c.online) && h.tdx.lpInitialized[c.id]);
        if (e.ret === 0 && (!cleared || flags.length))
          return `shutdown succeeded but ${cleared ? `cpu ${flags[0]!.id} is still marked LP-initialized` : 'the module state was not cleared'}`;
        if (e.ret !== 0 && kernelState(h) !== before) return 'shutdown failed but the kernel changed its module state or LP flags';
      }
      return null;
    };
  },
};

const I9: Invariant = {
  id: 'I-9',
  claim: 'initialized iff the module the kernel talks to is SYS_READY and reachable (outside an update)',
  source: 'spec §7 I-9 [LX-tdx]',
  create() {
    const t = windowTracker();
    return (h, events) => {
      for (const e of events) t.see(e);
      if (h.tdx.state.initialized && !moduleReady(h)) {
        return `initialized but the module is ${h.seam.module ? h.seam.module.sysState : 'gone'}${h.seam.seamReady ? '' : ' and SEAM_READY is clear'}`;
      }
      return !t.w && !h.tdx.state.initialized && moduleReady(h) ? 'the module runs but the kernel does not call it initialized' : null;
    };
  },
};

const I10: Invariant = {
  id: 'I-10',
  claim: "while initialized and no update runs, the version the kernel reports is the running module's, unless its re-read after the update failed (B12)",
  source: 'spec §7 I-10 [LX-host; T-v7 Sashiko]',
  create() {
    const t = windowTracker(),
      refresh = refreshTracker();
    return (h, events) => {
      for (const e of events) {
        t.see(e);
        refresh.see(e);
      }
      if (t.w || !h.tdx.state.initialized || !h.seam.module || refresh.stale) return null;
      const v = h.tdx.sysinfo.version,
        m = h.seam.module.identity.version;
      return sameVersion(v, m) ? null : `version reads ${v.major}.${v.minor}.${v.update} but ${m.major}.${m.minor}.${m.update} runs`;
    };
  },
};

const I13: Invariant = {
  id: 'I-13',
  claim: 'at most one CPU is inside P-SEAMLDR at any time: no P-SEAMLDR call is turned away because another LP is inside',
  source: 'seamldr_lock around every P-SEAMLDR call; spec §7 I-13 [LX-seamldr; T-v3 #107]; bug B21',
  create: () => (h) => {
    const n = h.seam.pseamldr.rejectedEntries;
    return n ? `${n} P-SEAMLDR call(s) got VMfailInvalid because another CPU was inside` : null;
  },
};

const I15: Invariant = {
  id: 'I-15',
  claim: 'the kernel never reads past the image and forwards only images that pass every v1 blob check',
  source: 'spec §7 I-15, §3.2 v2 checks [T-v2 p11]; bug B13',
  create: (checks) => (h, events) => {
    for (const e of events) {
      if (e.kind === 'oob_read') return `the kernel read image byte ${e.offset} of a ${e.len}-byte image`;
      if (e.kind === 'update_begin') {
        const buf = h.tdxHost.fw?.buffer;
        const ok = checks.imageFormat === 'v1' ? acceptableBlobV1 : acceptableImageV2;
        if (buf && !h.mem.digest(buf.pas, buf.len, `acceptable ${checks.imageFormat}`, ok))
          return `an image that fails the ${checks.imageFormat} checks reached P-SEAMLDR`;
      }
    }
    return null;
  },
};

const I16: Invariant = {
  id: 'I-16',
  claim: 'SEAMLDR_PARAMS: version 0, scenario UPDATE, the sigstruct page and the module pages in order, nothing past the list',
  source: 'init_seamldr_params / populate_pa_list; spec §7 I-16 [LX-seamldr]',
  create: (checks) => (h, events) => {
    for (const e of events) {
      if (e.kind === 'oob_write') return `populate_pa_list wrote entry ${e.index} of ${e.of}, past module_pages_pa_list[495]`;
      if (e.kind !== 'update_begin') continue;
      const buf = h.tdxHost.fw?.buffer;
      const p = h.mem.read(e.paramsPa);
      if (!buf || !p) return 'no image or params at update start';
      const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
      const { s, m } = pageCounts(h, buf, checks.imageFormat);
      if (v.getUint32(0, true) !== 0 || v.getUint32(4, true) !== 1) return 'params version/scenario wrong';
      if (Number(v.getBigUint64(8, true)) !== (s ? buf.pas[1] : 0)) return 'sigstruct_pa is not image page 1';
      if (Number(v.getBigUint64(120, true)) !== m) return `num_module_pages ${v.getBigUint64(120, true)} != ${m}`;
      for (let j = 0; j < 496; j++) {
        // Two 32-bit halves: no bigint per entry (this runs at every update's start).
        const pa = v.getUint32(128 + 8 * j, true) + v.getUint32(132 + 8 * j, true) * 2 ** 32;
        if (pa !== (j < m ? buf.pas[1 + s + j] : 0)) return `module_pages_pa_list[${j}] is wrong`;
      }
    }
    return null;
  },
};

/** Sigstruct and module page counts, as the image says (v2 header) or its layout (v1: 1 and the rest). */
function pageCounts(h: Host, buf: { pas: number[]; len: number }, format: 'v1' | 'v2'): { s: number; m: number } {
  if (format === 'v1') return { s: 1, m: (buf.len - 2 * PAGE_SIZE) / PAGE_SIZE };
  const page = h.mem.read(buf.pas[0]!)!; // may be a view into the uploaded image (PhysMem.load)
  const hdr = new DataView(page.buffer, page.byteOffset, page.byteLength);
  return { s: hdr.getUint32(12, true), m: hdr.getUint32(16, true) };
}

/** I-6 (termination) is checked by the runner: a run that stops making progress fails it. */
export const TERMINATION = {
  id: 'I-6',
  claim: 'for every interleaving the update loop ends on every CPU, whether it succeeds or fails',
  source: 'spec §7 I-6 [LX-seamldr]; bug B4',
} as const;

// ---- Races inside a step (issue 14 part 4) ----

/**
 * I-25: each CPU's result in CPU_INIT agrees with the one global initialization of the new
 * module. try_init_module_global() issues TDH.SYS.INIT once, under sysinit_lock, and caches
 * its result for every CPU; so in one update TDH.SYS.INIT runs at most once (a no-entropy
 * retry inside the SEAMCALL wrapper is the same call), and if it failed no CPU goes on to
 * TDH.SYS.LP.INIT or reports CPU_INIT success.
 */
const I25: Invariant = {
  id: 'I-25',
  claim: 'in one update TDH.SYS.INIT runs once, and if it failed no CPU goes on to TDH.SYS.LP.INIT or reports success for CPU_INIT',
  source: 'try_init_module_global(), sysinit_lock and the cached sysinit_ret; spec §2.5 step 3 [LX-tdx]',
  create() {
    let init: { n: number; failed: boolean; retrying: boolean } | null = null;
    return (_h, events) => {
      for (const e of events) {
        if (e.kind === 'update_begin') init = { n: 0, failed: false, retrying: false };
        if (e.kind === 'update_end') init = null;
        if (init === null) continue;
        if (e.kind === 'seamcall' && e.leaf === TDH.SYS_INIT) {
          if (!init.retrying && ++init.n > 1) return `TDH.SYS.INIT ran ${init.n} times in one update (the last on cpu ${e.cpu})`;
          init.retrying = (e.status & TDX_STATUS_MASK) === TDX_RND_NO_ENTROPY;
          init.failed = e.status !== 0n;
        }
        if (!init.failed) continue;
        if (e.kind === 'seamcall' && e.leaf === TDH.SYS_LP_INIT) return `cpu ${e.cpu} issued TDH.SYS.LP.INIT although TDH.SYS.INIT failed`;
        if (e.kind === 'update_work' && e.state === 'CPU_INIT' && e.ret === 0) return `cpu ${e.cpu} reports CPU_INIT success although TDH.SYS.INIT failed`;
      }
      return null;
    };
  },
};

// The lines written so far, by leaf and status: runs fail the same few calls again and again.
const prerrLines = new Map<bigint, Map<bigint, string>>();

/** seamcall_prerr()'s line for a failed call (spec §4.2 "Kernel log", [LX-sc]). */
function prerrLine(leaf: bigint, status: bigint): string {
  let byStatus = prerrLines.get(leaf);
  if (!byStatus) prerrLines.set(leaf, (byStatus = new Map()));
  let line = byStatus.get(status);
  if (line === undefined) {
    if (byStatus.size >= 256) byStatus.clear();
    byStatus.set(status, (line = `SEAMCALL (0x${leaf.toString(16)}) failed: 0x${status.toString(16)}`));
  }
  return line;
}
const NOT_LOADED = 'virt/tdx: module not loaded';
const isSeamcall = (e: TraceEvent) => e.kind === 'seamcall';

/**
 * I-26: the kernel log tells the failed SEAMCALLs seamcall_prerr() made, and only those. It prints
 * a line for a status that is neither success nor VMfailInvalid (those map to errnos silently);
 * TDH.SYS.INIT and TDH.SYS.LP.INIT go through it on every revision (try_init_module_global,
 * tdx_cpu_enable), so their failures are always printed, and a TDH.SYS.INIT that finds no module
 * prints "module not loaded". Retries inside the SEAMCALL wrapper are one call: the last try counts.
 */
const I26: Invariant = {
  id: 'I-26',
  claim:
    'every SEAMCALL failure line in the kernel log names a call that failed so; a failed TDH.SYS.INIT or LP.INIT is logged, and TDH.SYS.INIT without a module logs "module not loaded"',
  source: 'seamcall_prerr() [LX-sc], try_init_module_global() [LX-tdx]; spec §4.2 "Kernel log"',
  create() {
    let logged: number | null = null;
    const failed = new Map<string, number>();
    // Only a call that failed so has a line: most succeed, and writing one costs more than the rest.
    const count = (e: Extract<TraceEvent, { kind: 'seamcall' }>) => {
      if (e.status === 0n || e.status === TDX_SEAMCALL_VMFAILINVALID) return;
      const line = prerrLine(e.leaf, e.status);
      failed.set(line, (failed.get(line) ?? 0) + 1);
    };
    return (h, events) => {
      // Most steps make no SEAMCALL and log nothing: nothing to match (the run's hottest check otherwise).
      if (logged === h.log.length && !events.some(isSeamcall)) return null;
      // At the first step, what boot logged answers boot's calls (in the trace before this step).
      if (logged === null) for (const e of h.trace) if (e.kind === 'seamcall' && !events.includes(e)) count(e);
      const lines = h.log.slice(logged ?? 0);
      logged = h.log.length;
      const owed: string[] = [];
      let last: Set<string> | null = null;
      for (let i = events.length - 1; i >= 0; i--) {
        const e = events[i]!;
        if (e.kind !== 'seamcall') continue;
        count(e);
        if (e.leaf !== TDH.SYS_INIT && e.leaf !== TDH.SYS_LP_INIT) continue;
        last ??= new Set();
        const final = !last.has(`${e.cpu} ${e.leaf}`) && last.add(`${e.cpu} ${e.leaf}`);
        const silent = e.status === 0n || (e.status === TDX_SEAMCALL_VMFAILINVALID && e.leaf !== TDH.SYS_INIT);
        if (!final || silent) continue;
        owed.push(e.status === TDX_SEAMCALL_VMFAILINVALID ? NOT_LOADED : prerrLine(e.leaf, e.status));
      }
      for (const l of lines) {
        const i = owed.indexOf(l);
        if (i >= 0) owed.splice(i, 1);
        if (l === NOT_LOADED && i < 0) return `the log says "${l}", but no TDH.SYS.INIT found the module missing`;
        if (!l.startsWith('SEAMCALL') && l !== '') continue;
        const n = failed.get(l) ?? 0;
        if (n === 0) return `the log says "${l}", but no SEAMCALL failed so`;
        failed.set(l, n - 1);
      }
      return owed.length ? `a SEAMCALL failed and the log does not say "${owed[0]}"` : null;
    };
  },
};

export const INVARIANTS: readonly Invariant[] = [I1, I2, I3, I4, I5, I7, I8, I9, I10, I13, I15, I16, I25, I26];
