// The state of a run at each step, as a reader of a counterexample wants it: a few named fields
// of the implementation (kernel, firmware, fw_upload node, update state machine) and of the
// model, plus where abstract(impl) and the model disagree (properties/refinement.ts). The HTML
// report shows what changed at each step; the text report shows the disagreement at the end.
import type { Host, TraceEvent } from '../impl/host.ts';
import type { ModelState } from '../model/state.ts';
import type { Version } from '../model/types.ts';
import { cpulist } from '../properties/cpulist.ts';
import type { RevisionRecord } from '../properties/revisions/record.ts';
import { refinementDiff, type Difference } from '../properties/refinement.ts';

export interface StepState {
  readonly step: number;
  readonly impl: Readonly<Record<string, string>>;
  readonly model: Readonly<Record<string, string>>;
  /** refinementDiff(host, model) after this step (between linearization points the model lags by design). */
  readonly diff: readonly Difference[];
}

const v = (x: Version): string => `${x.major}.${x.minor}.${String(x.update).padStart(2, '0')}`;

function implView(h: Host, update: string): Record<string, string> {
  const mod = h.seam.module,
    t = h.tdx.state,
    fw = h.tdxHost.fw;
  return {
    'cpus online': cpulist(h.platform.cpus.filter((c) => c.online).map((c) => c.id)) || 'none',
    module: mod ? `${v(mod.identity.version)} ${mod.sysState}${h.seam.seamReady ? '' : ', SEAM not ready'}` : 'none',
    kernel: t.initialized ? 'initialized' : 'not initialized',
    'update state': update,
    seamldr_lock: h.seamldrLock ? h.seamldrLock.name : 'free',
    'update slots': String(h.seam.pseamldr.numRemainingUpdates),
    upload: fw ? `${fw.progress}${fw.errCode !== 'none' ? `, error ${fw.errProgress}:${fw.errCode}` : ''}` : 'no fw_upload node',
    tds: [...h.kvm.tds.values()].map((td) => `#${td.id}${td.bugged ? ' (bugged)' : ''}`).join(', ') || 'none',
  };
}

/** The model's online flags are frozen and replaced on hotplug (model/state.ts setOnline): one list each. */
const onlineLists = new WeakMap<readonly boolean[], string>();

function onlineList(online: readonly boolean[]): string {
  let s = onlineLists.get(online);
  if (s === undefined) onlineLists.set(online, (s = cpulist(online.flatMap((o, i) => (o ? [i] : []))) || 'none'));
  return s;
}

function modelView(m: ModelState): Record<string, string> {
  return {
    'cpus online': onlineList(m.online),
    module: m.module.status === 'ready' ? `${v(m.module.spec.version)} ready` : `lost${m.module.lpInitWorks ? ' (LP.INIT still works)' : ''}`,
    'handoff hv': String(m.handoffHv),
    'update slots': String(m.slots),
    upload: m.upload.busy ? 'busy' : `idle${m.upload.error ? `, error ${m.upload.error}` : ''}`,
    tds: [...m.tds.entries()].map(([id, td]) => `#${id} ${td.phase}${td.alive ? '' : ' (dead)'}`).join(', ') || 'none',
  };
}

function updateState(e: TraceEvent, was: string): string {
  switch (e.kind) {
    case 'update_begin':
      return 'stop_machine requested';
    case 'state':
      return e.state;
    case 'update_end':
      return `idle (last: ${e.state}, ${e.ret === 0 ? 'ok' : e.ret})`;
    default:
      return was;
  }
}

/**
 * An observer for RunOptions.observe, and the states it collects: the first, then one at each
 * step that changed it (a run on 256 CPUs has hundreds of thousands of steps; stateAt reads them).
 */
export function stateObserver(checks: RevisionRecord['checks']): { observe: (step: number, h: Host, m: ModelState) => void; states: StepState[] } {
  const states: StepState[] = [];
  let seen = 0,
    update = 'idle';
  const observe = (step: number, h: Host, m: ModelState) => {
    for (; seen < h.trace.length; seen++) update = updateState(h.trace[seen]!, update);
    let diff: Difference[] = [];
    try {
      diff = refinementDiff(h, m, checks);
    } catch {
      // mid-step the host can be in a shape the mapping does not read (a module being replaced)
    }
    const st: StepState = { step, impl: implView(h, update), model: modelView(m), diff };
    const last = states.at(-1);
    if (!last || !sameView(last.impl, st.impl) || !sameView(last.model, st.model) || diffKey(last) !== diffKey(st)) states.push(st);
  };
  return { observe, states };
}

const sameView = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean => Object.keys(b).every((k) => a[k] === b[k]);

/** Where abstract(impl) and the model differ, as one string to compare. */
export const diffKey = (s: StepState | undefined): string => (s ? s.diff.map((d) => `${d.field}=${d.impl}|${d.model}`).join(';') : '');

/** The state after `step`: the last change at or before it (undefined before the first). */
export function stateAt(states: readonly StepState[], step: number): StepState | undefined {
  let lo = 0,
    hi = states.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (states[mid]!.step <= step) lo = mid + 1;
    else hi = mid;
  }
  return states[lo - 1];
}
