// The only bridge between model/ and impl/: the refinement mapping abstract(impl) -> model
// state, and which model action each implementation linearization point is.
import type { Host } from '../impl/host.ts';
import type { LinOp } from '../impl/kernel/sched.ts';
import type { Tdr } from '../impl/firmware/types.ts';
import { TDX_FEATURES0_UPDATE_COMPAT } from '../impl/firmware/abi.ts';
import { cpuOffline, cpuOnline, readSeamldr, readVersion } from '../model/host.ts';
import { MRTD_INIT } from '../model/measure.ts';
import type { ModelState } from '../model/state.ts';
import { tdCreate, tdExtend, tdFinalize, tdInit, tdKeyConfig, tdPageAdd, tdRun, tdTeardown, type GuestWrite } from '../model/td.ts';
import type { FaultPlan, ModelImage } from '../model/types.ts';
import { cancel, fwDone, fwLoad, fwPrepare, fwWrite, readError, update, type UpdatePrediction } from '../model/update.ts';
import { moduleSpecOf } from './images.ts';

type Args = Record<string, unknown>;

/** Each linearization point's model action; it returns the model's prediction of the result. */
const ACTIONS: Record<string, (m: ModelState, a: Args) => unknown> = {
  fw_load: (m, a) => fwLoad(m, a.image as ModelImage, a.fault as FaultPlan | null),
  fw_prepare: (m) => fwPrepare(m),
  fw_write: (m) => fwWrite(m),
  update: (m) => update(m),
  fw_done: (m) => fwDone(m),
  cancel: (m) => cancel(m),
  read_error: (m) => readError(m),
  read_version: (m) => readVersion(m),
  read_seamldr: (m, a) => readSeamldr(m, a.attr as 'version' | 'num_remaining_updates'),
  cpu_offline: (m, a) => cpuOffline(m, a.cpu as number),
  cpu_online: (m, a) => cpuOnline(m, a.cpu as number),
  td_create: (m, a) => tdCreate(m, a.td as number),
  td_key_config: (m, a) => tdKeyConfig(m, a.td as number),
  td_init: (m, a) => tdInit(m, a.td as number),
  td_page_add: (m, a) => tdPageAdd(m, a.td as number, a.gpa as number, a.content as Uint8Array),
  td_extend: (m, a) => tdExtend(m, a.td as number, a.gpa as number),
  td_finalize: (m, a) => tdFinalize(m, a.td as number),
  td_run: (m, a) => tdRun(m, a.td as number, a.writes as GuestWrite[]),
  td_teardown: (m, a) => tdTeardown(m, a.td as number),
};

export interface Prediction { readonly predicted: unknown; readonly ok: boolean }

/** Apply the model action of one linearization point and compare with what the impl returned. */
export function applyLin(m: ModelState, op: LinOp, actual: unknown): Prediction {
  const act = ACTIONS[op.name];
  if (!act) throw new Error(`no model action for linearization point ${op.name}`);
  const predicted = act(m, op.args);
  return { predicted, ok: resultMatches(predicted, actual) };
}

function resultMatches(predicted: unknown, actual: unknown): boolean {
  if (predicted === 'fails') return actual !== 0;
  if (typeof predicted === 'object' && predicted !== null && 'outcome' in predicted) {
    const p = predicted as UpdatePrediction;
    return p.errno === 'fails' ? actual !== 0 : actual === p.errno;
  }
  return predicted === actual;
}

export function showResult(r: unknown): string {
  if (typeof r === 'object' && r !== null && 'outcome' in r) {
    const p = r as UpdatePrediction;
    return `${p.outcome} (${p.errno === 'fails' ? 'non-zero' : p.errno}): ${p.because}`;
  }
  return typeof r === 'string' ? JSON.stringify(r) : String(r);
}

// ---- abstract(impl) ----

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The kernel's view: initialized, and the module it talks to runs. */
function moduleView(h: Host): string {
  const mod = h.seam.module;
  if (h.tdx.state.initialized) {
    if (!mod) return 'ready:<no module>';
    const s = moduleSpecOf(mod.identity);
    return `ready:${s.version.major}.${s.version.minor}.${s.version.update} svn ${s.seamsvn} hv ${s.minUpdateHv}..${s.moduleHv}${s.noDowngrade ? ' nd' : ''}`;
  }
  const t = h.tdx.state;
  const lpInitWorks = t.sysinitDone && t.sysinitRet === 0 && h.seam.seamReady && mod?.sysState === 'SYSINIT_DONE';
  return `lost:lpInitWorks=${lpInitWorks}`;
}

function modelModuleView(m: ModelState): string {
  if (m.module.status === 'lost') return `lost:lpInitWorks=${m.module.lpInitWorks}`;
  const s = m.module.spec;
  return `ready:${s.version.major}.${s.version.minor}.${s.version.update} svn ${s.seamsvn} hv ${s.minUpdateHv}..${s.moduleHv}${s.noDowngrade ? ' nd' : ''}`;
}

/** A TD as the module holds it; the measurement as the module would continue it (sha384.c re-init). */
function tdView(h: Host, tdr: Tdr | undefined, modelPages: ReadonlyMap<number, Uint8Array>): Record<string, string> | null {
  const mod = h.seam.module;
  if (!tdr || !mod) return null;
  const phase = tdr.finalized ? 'finalized' : tdr.initialized ? 'building' : tdr.keyConfigured ? 'keyed' : 'created';
  const stale = phase === 'building' && tdr.mrtdSeamdbIndex !== mod.seamdbIndex;
  const refuses = (mod.identity.features0 & TDX_FEATURES0_UPDATE_COMPAT) !== 0n;
  const restarts = stale && !refuses;
  const launch = h.seam.seamdb[tdr.launchSeamdbIndex];
  const pages = pagesView(new Map([...tdr.pages].map(([gpa, pa]) => [gpa, h.mem.page(pa)!])), modelPages);
  return {
    // A context the module refuses to continue has no meaningful measurement.
    phase, buildBroken: String(stale && refuses), mrtd: stale && refuses ? '-' : hex(restarts ? MRTD_INIT : tdr.mrtd), pages,
    launch: launch ? `${launch.version.major}.${launch.version.minor}.${launch.version.update}/${launch.seamsvn}` : '?',
  };
}

function modelTdView(td: ModelState['tds'] extends Map<number, infer T> ? T : never, implPages: ReadonlyMap<number, Uint8Array>): Record<string, string> {
  const l = td.launch;
  return { phase: td.phase, buildBroken: String(td.buildBroken), mrtd: td.buildBroken ? '-' : hex(td.mrtd), pages: pagesView(td.pages, implPages), launch: `${l.version.major}.${l.version.minor}.${l.version.update}/${l.seamsvn}` };
}

/**
 * TD memory as compared: the page list, and the contents in hex only where the other side
 * differs (hex-encoding every page at every linearization point dominated runs with many TDs).
 */
function pagesView(pages: ReadonlyMap<number, Uint8Array>, other: ReadonlyMap<number, Uint8Array>): string {
  return [...pages].sort(([a], [b]) => a - b)
    .map(([gpa, p]) => (other.get(gpa) && Buffer.from(p).equals(other.get(gpa)!) ? `${gpa}` : `${gpa}:${hex(p)}`)).join(',');
}

function implTdAlive(h: Host, id: number): boolean {
  const td = h.kvm.tds.get(id)!;
  const mod = h.seam.module;
  return h.tdx.state.initialized && h.seam.seamReady && mod?.sysState === 'SYS_READY' && mod.tds.has(td.tdrPa) && !td.bugged;
}

export interface Difference { readonly field: string; readonly impl: string; readonly model: string }

/** abstract(impl) against the model: every field that differs (empty when they agree). */
export function refinementDiff(h: Host, m: ModelState): Difference[] {
  const d: Difference[] = [];
  const cmp = (field: string, impl: unknown, model: unknown) => {
    if (String(impl) !== String(model)) d.push({ field, impl: String(impl), model: String(model) });
  };
  if (h.platform.cpus.some((c, i) => c.online !== m.online[i])) {
    cmp('online', h.platform.cpus.map((c) => (c.online ? 1 : 0)).join(''), m.online.map((o) => (o ? 1 : 0)).join(''));
  }
  cmp('module', moduleView(h), modelModuleView(m));
  // The handoff version the kernel will ask for: its cache, or what TDH.SYS.RD will read (merged).
  const hv = h.rev.handoffHvSource === 'read-fresh' ? h.seam.module?.identity.moduleHv : h.tdx.sysinfo.moduleHv;
  if (m.module.status === 'ready') cmp('handoff hv', hv, m.handoffHv);
  cmp('num_remaining_updates', h.seam.pseamldr.numRemainingUpdates, m.slots);
  if (m.module.status === 'ready') cmp('seamsvn', h.seam.pseamldr.currentSeamSvn, m.seamsvn);
  const fw = h.tdxHost.fw;
  if (fw) {
    cmp('upload busy', fw.progress !== 'idle', m.upload.busy);
    // error and remaining_size are what a finished upload tells; in flight they are progress.
    if (!m.upload.busy) {
      cmp('upload error', JSON.stringify(fw.errCode === 'none' ? '' : `${fw.errProgress}:${fw.errCode}`), JSON.stringify(m.upload.error));
      cmp('remaining_size', fw.remainingSize, m.upload.remainingSize);
    }
  }
  cmp('tds', [...h.kvm.tds.keys()].sort().join(','), [...m.tds.keys()].sort().join(','));
  for (const [id, mtd] of m.tds) {
    if (!h.kvm.tds.has(id)) continue;
    const alive = implTdAlive(h, id);
    cmp(`td #${id} alive`, alive, mtd.alive);
    if (!alive || !mtd.alive) continue;
    const tdr = h.seam.module!.tds.get(h.kvm.tds.get(id)!.tdrPa)!;
    const iv = tdView(h, tdr, mtd.pages)!;
    const mv = modelTdView(mtd, new Map([...tdr.pages].map(([gpa, pa]) => [gpa, h.mem.page(pa)!])));
    for (const k of Object.keys(mv)) cmp(`td #${id} ${k}`, iv[k], mv[k]);
  }
  return d;
}
