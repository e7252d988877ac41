// The bridge between model/ and impl/: the refinement mapping abstract(impl) -> model state,
// compared field by field. The model keeps values (page fills and stores, the log of what was
// measured); the mapping turns them into what the emulation holds, with the emulation's own
// encodings, so the model carries none of them.
import { mrtdExtend, mrtdPageAdd } from '../impl/firmware/tdx_module.ts';
import { TDX_FEATURES0_UPDATE_COMPAT } from '../impl/firmware/abi.ts';
import type { Tdr } from '../impl/firmware/types.ts';
import type { Host } from '../impl/host.ts';
import { noUpdateInterface } from '../model/host.ts';
import type { MeasureLog, ModelState, ModelTd, PageVal } from '../model/state.ts';
import { pageContent } from './commands/td.ts';
import type { RevisionRecord } from './revisions/record.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const MRTD_INIT = new Uint8Array(48);

const contents = new Map<number, Uint8Array>();

/** The bytes a model page stands for: the data KVM was handed, with the guest's stores. */
export function pageBytes(p: PageVal): Uint8Array {
  let base = contents.get(p.fill);
  if (!base) contents.set(p.fill, (base = pageContent(p.fill)));
  if (p.stores.size === 0) return base;
  const b = base.slice();
  for (const [offset, value] of p.stores) b[offset] = value;
  return b;
}

const digests = new WeakMap<NonNullable<MeasureLog>, Uint8Array>();

/** The MRTD the emulated module computes for a measurement log. */
export function mrtdOf(log: MeasureLog | null): Uint8Array {
  if (log === null) return MRTD_INIT;
  let d = digests.get(log);
  if (!d) {
    d = log.op === 'page_add' ? mrtdPageAdd(mrtdOf(log.prev), log.gpa) : mrtdExtend(mrtdOf(log.prev), log.gpa, pageContent(log.fill));
    digests.set(log, d);
  }
  return d;
}

const versionText = (v: { major: number; minor: number; update: number }) => `${v.major}.${v.minor}.${v.update}`;

/**
 * The kernel's view: initialized, and the module it talks to runs. Not initialized, whether a CPU
 * brought online comes up (cpuUp): it kept its LP flag (after a failed boot), or the module is at
 * SYSINIT_DONE and takes TDH.SYS.LP.INIT.
 */
function moduleView(h: Host): string {
  const mod = h.seam.module;
  if (!h.tdx.state.initialized) {
    const t = h.tdx.state;
    const lpInit = t.sysinitDone && t.sysinitRet === 0 && h.seam.seamReady && mod?.sysState === 'SYSINIT_DONE';
    return `lost:lpInitWorks=${lpInit || h.tdx.lpInitialized.every(Boolean)}`;
  }
  if (!mod) return 'ready:<no module>';
  const s = mod.identity; // the fields moduleSpecOf copies as they are
  return `ready:${versionText(s.version)} svn ${s.seamsvn} hv ${s.minUpdateHv}..${s.moduleHv}${s.noDowngrade ? ' nd' : ''}`;
}

function modelModuleView(m: ModelState): string {
  if (m.module.status === 'lost') return `lost:lpInitWorks=${m.module.lpInitWorks}`;
  const s = m.module.spec;
  return `ready:${versionText(s.version)} svn ${s.seamsvn} hv ${s.minUpdateHv}..${s.moduleHv}${s.noDowngrade ? ' nd' : ''}`;
}

type TdView = { phase: string; buildBroken: string; mrtd: string; launch: string };

/** A TD as the module holds it; the measurement as the module would continue it (sha384.c re-init). */
function tdView(h: Host, tdr: Tdr): TdView {
  const mod = h.seam.module!;
  const phase = tdr.finalized ? 'finalized' : tdr.initialized ? 'building' : tdr.keyConfigured ? 'keyed' : 'created';
  const stale = phase === 'building' && tdr.mrtdSeamdbIndex !== mod.seamdbIndex;
  const refuses = (mod.identity.features0 & TDX_FEATURES0_UPDATE_COMPAT) !== 0n;
  const launch = h.seam.seamdb[tdr.launchSeamdbIndex];
  return {
    // A context the module refuses to continue has no meaningful measurement.
    phase,
    buildBroken: String(stale && refuses),
    mrtd: stale && refuses ? '-' : hex(stale ? MRTD_INIT : tdr.mrtd),
    launch: launch ? `${versionText(launch.version)}/${launch.seamsvn}` : '?',
  };
}

function modelTdView(td: ModelTd): TdView {
  return {
    phase: td.phase,
    buildBroken: String(td.buildBroken),
    mrtd: td.buildBroken ? '-' : hex(mrtdOf(td.mrtd)),
    launch: `${versionText(td.launch.version)}/${td.launch.seamsvn}`,
  };
}

function implTdAlive(h: Host, id: number): boolean {
  const td = h.kvm.tds.get(id)!;
  const mod = h.seam.module;
  return h.tdx.state.initialized && h.seam.seamReady && mod?.sysState === 'SYS_READY' && mod.tds.has(td.tdrPa) && !td.bugged;
}

export interface Difference {
  readonly field: string;
  readonly impl: string;
  readonly model: string;
}

/** TD memory: the page list, and the contents where they differ. */
function comparePages(h: Host, tdr: Tdr, mtd: ModelTd, cmp: (f: string, i: unknown, m: unknown) => void, id: number): void {
  const gpas = (ks: Iterable<number>) => [...ks].sort((a, b) => a - b).join(',');
  cmp(`td #${id} pages`, gpas(tdr.pages.keys()), gpas(mtd.pages.keys()));
  for (const [gpa, p] of mtd.pages) {
    const pa = tdr.pages.get(gpa);
    const actual = pa === undefined ? undefined : h.mem.read(pa);
    const want = pageBytes(p);
    if (actual && !Buffer.from(actual).equals(want)) cmp(`td #${id} page ${gpa}`, hex(actual), hex(want));
  }
}

/** abstract(impl) against the model: every field that differs (empty when they agree). */
export function refinementDiff(h: Host, m: ModelState, checks: RevisionRecord['checks']): Difference[] {
  const d: Difference[] = [];
  const cmp = (field: string, impl: unknown, model: unknown) => {
    if (String(impl) !== String(model)) d.push({ field, impl: String(impl), model: String(model) });
  };
  if (h.platform.cpus.some((c, i) => c.online !== m.online[i])) {
    cmp('online', h.platform.cpus.map((c) => (c.online ? 1 : 0)).join(''), m.online.map((o) => (o ? 1 : 0)).join(''));
  }
  cmp('module', moduleView(h), modelModuleView(m));
  // The handoff version the kernel will ask for: what TDH.SYS.RD will read (merged), or its cache.
  const hv = checks.handoffFromModule ? h.seam.module?.identity.moduleHv : h.tdx.sysinfo.moduleHv;
  if (m.module.status === 'ready') cmp('handoff hv', hv, m.handoffHv);
  cmp('num_remaining_updates', h.seam.pseamldr.numRemainingUpdates, m.slots);
  // The fw_upload node and the P-SEAMLDR attributes, registered (or not) together at probe.
  cmp('update interface', `${h.tdxHost.fw !== null} ${h.tdxHost.seamldrAttrsVisible}`, `${!noUpdateInterface(m)} ${!noUpdateInterface(m)}`);
  if (m.module.status === 'ready') cmp('seamsvn', h.seam.pseamldr.currentSeamSvn, m.seamsvn);
  compareUpload(h, m, cmp);
  cmp('tds', [...h.kvm.tds.keys()].sort().join(','), [...m.tds.keys()].sort().join(','));
  for (const [id, mtd] of m.tds) {
    if (!h.kvm.tds.has(id)) continue;
    const alive = implTdAlive(h, id);
    cmp(`td #${id} alive`, alive, mtd.alive);
    if (!alive || !mtd.alive) continue;
    const tdr = h.seam.module!.tds.get(h.kvm.tds.get(id)!.tdrPa)!;
    const iv = tdView(h, tdr),
      mv = modelTdView(mtd);
    for (const k of Object.keys(mv) as (keyof TdView)[]) cmp(`td #${id} ${k}`, iv[k], mv[k]);
    comparePages(h, tdr, mtd, cmp, id);
  }
  return d;
}

function compareUpload(h: Host, m: ModelState, cmp: (f: string, i: unknown, m: unknown) => void): void {
  const fw = h.tdxHost.fw;
  if (!fw) return;
  cmp('upload busy', fw.progress !== 'idle', m.upload.busy);
  // error and remaining_size are what a finished upload tells; in flight they are progress.
  if (m.upload.busy) return;
  cmp('upload error', JSON.stringify(fw.errCode === 'none' ? '' : `${fw.errProgress}:${fw.errCode}`), JSON.stringify(m.upload.error));
  cmp('remaining_size', fw.remainingSize, m.upload.remainingSize);
  // Idle, the loading state is done only when a refused load left it so (model/update.ts fwLoad).
  cmp('loading state done', fw.loadingDone, m.upload.wedged);
}
