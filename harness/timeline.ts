// A counterexample as people read it: the commands as numbered calls (a reproduction script),
// then a timeline with one lane per CPU (SEAMCALLs with leaf names and statuses, update steps
// and acks), the first check that failed with its claim, and the model's expected state beside
// the implementation's abstracted state, only where they differ.
import * as abi from '../impl/firmware/abi.ts';
import type { TraceEvent } from '../impl/host.ts';
import { EBUSY, ECANCELED, EINVAL, EIO, ENODEV, ENOENT, ENOMEM, ENOSPC, ENXIO, EOPNOTSUPP } from '../impl/kernel/errno.ts';
import { describe } from '../properties/commands/index.ts';
import { cpulist } from '../properties/cpulist.ts';
import { INVARIANTS, TERMINATION } from '../properties/invariants.ts';
import { refinementDiff, type Difference } from '../properties/refinement.ts';
import type { Scenario } from '../properties/scenario.ts';
import type { RunResult, StepRecord } from './run.ts';

const NAMES: Record<number, string> = {
  [ENOENT]: 'ENOENT',
  [EIO]: 'EIO',
  [ENXIO]: 'ENXIO',
  [ENOMEM]: 'ENOMEM',
  [EBUSY]: 'EBUSY',
  [ENODEV]: 'ENODEV',
  [EINVAL]: 'EINVAL',
  [ENOSPC]: 'ENOSPC',
  [EOPNOTSUPP]: 'EOPNOTSUPP',
  [ECANCELED]: 'ECANCELED',
};

/** An errno as the timeline shows it: -EIO, or the number where it has no name here. */
export function errnoName(ret: number): string {
  return ret === 0 ? '0' : '-' + (NAMES[-ret] ?? String(-ret));
}

const STATUS_NAMES = new Map<bigint, string>();
for (const [k, v] of Object.entries(abi)) {
  if (typeof v === 'bigint' && /^(TDX_|SEAMLDR_E)/.test(k) && !STATUS_NAMES.has(v)) STATUS_NAMES.set(v, k.replace(/^TDX_SEAMCALL_/, ''));
}

export function statusName(s: bigint): string {
  return s === 0n ? 'ok' : (STATUS_NAMES.get(s) ?? STATUS_NAMES.get(s & abi.TDX_STATUS_MASK) ?? `0x${s.toString(16)}`);
}

function eventText(e: TraceEvent): string | null {
  switch (e.kind) {
    case 'seamcall':
      return `${abi.LEAF_NAMES.get(e.leaf) ?? `leaf ${e.leaf}`} -> ${statusName(e.status)}`;
    case 'update_work':
      return `${e.state} work -> ${errnoName(e.ret)}`;
    case 'ack':
      return `ack ${e.state}${e.ret ? ` (${errnoName(e.ret)})` : ''}`;
    case 'state':
      return `state := ${e.state}`;
    case 'update_begin':
      return `stop_machine on cpus ${cpulist(e.cpus)} (lead ${e.lead})`;
    case 'update_end':
      return `stop_machine returns ${errnoName(e.ret)}`;
    case 'oob_read':
      return `read image byte ${e.offset} of ${e.len}`;
    case 'oob_write':
      return `wrote module_pages_pa_list[${e.index}] of ${e.of}`;
    case 'hotplug':
      return `cpu ${e.cpu} ${e.online ? 'online' : 'offline'} -> ${errnoName(e.ret)}`;
    case 'lin':
      return null;
    default:
      return null;
  }
}

/** The checks against the model, beside the invariants: results, reads over their window, state. */
export const MODEL_CHECKS = ['result', 'linearizability', 'refinement'] as const;

/** What a check claims, for the "violated" line. */
export function checkClaim(id: string): string {
  if (id === 'result') return 'every observable result is one the contract allows';
  if (id === 'linearizability') return 'a read returns what the contract allows in some state between its invocation and its response';
  if (id === 'typeOk') return "the model's state satisfies its type invariant";
  if (id === 'refinement') return 'abstract(impl) equals the model state at every linearization point';
  if (id === 'crash') return 'the emulation never throws';
  return [...INVARIANTS, TERMINATION].find((i) => i.id === id)?.claim ?? '';
}

/** One step of the timeline, laid out: the texts in each CPU's lane. */
export interface TimelineRow {
  readonly step: number;
  readonly task: string;
  /** Set when the step issued a command (numbered from 1). */
  readonly command?: { readonly n: number; readonly text: string };
  /** What happened at this step, on which CPU, in order (few per step, however many CPUs). */
  readonly events: readonly { readonly cpu: number; readonly text: string }[];
  /** The linearization point's result differs from the model's prediction. */
  readonly mismatch: boolean;
  /** Set when the row stands for `count` alike steps (foldAlike), through `last` by `task`. */
  readonly alike?: { readonly last: number; readonly task: string; readonly count: number };
}

function laneOf(r: StepRecord, e: TraceEvent): number {
  if ('cpu' in e && typeof e.cpu === 'number') return e.cpu;
  return Math.max(r.cpu, 0);
}

/** The timeline as rows: only steps where something happened (spinning CPUs are left out). */
export function timelineRows(records: readonly StepRecord[], nrCpus: number): TimelineRow[] {
  const out: TimelineRow[] = [];
  const lastLabel = new Map<string, string>();
  let n = 0;
  for (const r of records) {
    if (r.command) {
      out.push({ step: r.step, task: r.task, command: { n: ++n, text: r.command }, events: [], mismatch: false });
      continue;
    }
    const events: { cpu: number; text: string }[] = [];
    const put = (cpu: number, text: string) => events.push({ cpu: Math.min(Math.max(cpu, 0), nrCpus - 1), text });
    for (const e of r.events) {
      const t = eventText(e);
      if (t) put(laneOf(r, e), t);
    }
    const mismatch = r.lin !== undefined && !r.lin.ok;
    if (r.lin) put(r.cpu, `${r.lin.op} = ${r.lin.result}${mismatch ? ` (model: ${r.lin.predicted})` : ''}`);
    // Where the task stopped (a preemption point or what it waits for), once per change: a
    // CPU inside P-SEAMLDR or spinning on a lock leaves no trace event but matters.
    if (r.label && r.label !== 'done' && lastLabel.get(r.task) !== r.label) put(r.cpu, `… ${r.label}`);
    if (r.label) lastLabel.set(r.task, r.label);
    if (events.length) out.push({ step: r.step, task: r.task, events, mismatch });
  }
  return out;
}

/** A task's name less the number that ends it: the stoppers of one stop_machine share "stopper/". */
const taskBase = (t: string): string => t.replace(/\d+$/, '');

/** What a row did, wherever it did it. */
export const texts = (r: TimelineRow): string => r.events.map((e) => e.text).join('\n');

/** A row's texts in `lanes` lanes, by CPU; past `lanes` CPUs the last lane holds the rest, each text naming its CPU. */
export function inLanes(r: TimelineRow, lanes: number, nrCpus: number): string[][] {
  const out: string[][] = Array.from({ length: lanes }, () => []);
  for (const e of r.events) out[Math.min(e.cpu, lanes - 1)]!.push(nrCpus > lanes && e.cpu >= lanes - 1 ? `cpu${e.cpu}: ${e.text}` : e.text);
  return out;
}

/** Repetitions before alike blocks fold into one, and the longest block: a stopper leaves one to three rows a phase. */
const ALIKE_MIN = 3;
const BLOCK_MAX = 4;

/**
 * Runs of blocks of up to BLOCK_MAX steps, each block doing what the one before did, by other
 * tasks of the same kinds (each stopper taking the same lock, acking the same state), drawn as
 * the first block, so a timeline grows with what happened, not with the CPUs it happened on.
 * Rows `keep` names (the failing step, a mismatch) are never folded; `what` says what a row did
 * (its texts).
 */
export function foldAlike(rows: readonly TimelineRow[], keep: (r: TimelineRow) => boolean, what: (r: TimelineRow) => string = texts): TimelineRow[] {
  const did = rows.map((r) => (r.command || keep(r) || taskBase(r.task) === r.task ? null : `${taskBase(r.task)}\n${what(r)}`));
  const out: TimelineRow[] = [];
  for (let i = 0; i < rows.length; ) {
    let best = { p: 1, reps: 1 };
    for (let p = 1; p <= BLOCK_MAX; p++) {
      const reps = repeats(rows, did, i, p);
      if (reps >= ALIKE_MIN && reps * p > best.reps * best.p) best = { p, reps };
    }
    const { p, reps } = best;
    if (reps === 1) out.push(rows[i]!);
    else
      for (let q = 0; q < p; q++) {
        const last = rows[i + (reps - 1) * p + q]!;
        out.push({ ...rows[i + q]!, alike: { last: last.step, task: last.task, count: reps } });
      }
    i += p * reps;
  }
  return out;
}

/**
 * How many times the block of p rows at i repeats: the same things done by tasks of the same
 * kinds (`did`, null for a row that does not fold), each time by other tasks (the install phase
 * is a pipeline: stopper/k acks while stopper/k+1 is in P-SEAMLDR).
 */
function repeats(rows: readonly TimelineRow[], did: readonly (string | null)[], i: number, p: number): number {
  if (i + p > rows.length) return 1;
  for (let q = 0; q < p; q++) if (did[i + q] === null) return 1;
  const again = (at: number): boolean => {
    if (at + p > rows.length) return false;
    let moved = false;
    for (let q = 0; q < p; q++) {
      if (did[at + q] !== did[i + q]) return false;
      if (rows[at + q]!.task !== rows[at - p + q]!.task) moved = true;
    }
    return moved;
  };
  let reps = 1;
  while (again(i + reps * p)) reps++;
  return reps;
}

/** The task cell of a row: "stopper/8..255 ×248" for a fold. */
export function taskText(r: TimelineRow): string {
  return r.alike ? `${r.task}..${r.alike.task.slice(taskBase(r.alike.task).length)} ×${r.alike.count}` : r.task;
}

function cell(s: string, w: number): string {
  return s.length > w ? s.slice(0, w - 1) + '…' : s.padEnd(w);
}

/** The timeline as text, at most 8 lanes (further CPUs fold into the last). */
export function timeline(records: readonly StepRecord[], nrCpus: number, failed: number): string[] {
  const lanes = Math.min(nrCpus, 8);
  const width = lanes <= 2 ? 46 : lanes <= 4 ? 34 : 26;
  const out = [
    `  ${'step'.padStart(5)}  ${cell('task', 22)}${Array.from({ length: lanes }, (_, i) => cell(`cpu${i}`, width)).join(' ')}${nrCpus > lanes ? ' …' : ''}`,
  ];
  for (const r of foldAlike(timelineRows(records, nrCpus), (r) => r.mismatch || r.step === failed)) {
    if (r.command) {
      out.push(`  ${String(r.step).padStart(5)}  >> ${r.command.n}. ${r.command.text}`);
      continue;
    }
    const folded = inLanes(r, lanes, nrCpus);
    const height = Math.max(...folded.map((l) => l.length));
    for (let i = 0; i < height; i++) {
      const lead = i === 0 ? `  ${String(r.step).padStart(5)}  ${cell(taskText(r), 22)}` : `  ${' '.repeat(5)}  ${' '.repeat(22)}`;
      out.push((lead + folded.map((l) => cell(l[i] ?? '', width)).join(' ')).trimEnd());
    }
  }
  return out;
}

/** The commands as a reproduction script: one numbered call per line. */
export function script(s: Scenario): string[] {
  return s.commands.map((c, i) => `${String(i + 1).padStart(3)}. ${describe(c)}`);
}

export function hostLine(s: Scenario): string {
  const h = s.host;
  return `${h.nrCpus} CPU(s), boot module ${h.boot.release}${h.boot.moduleHv || h.boot.minUpdateHv ? ` (hv ${h.boot.minUpdateHv}..${h.boot.moduleHv})` : ''}${h.boot.noDowngrade ? ' no-downgrade' : ''}, ${h.slots} update slot(s)${h.debugUnlocked ? ', debug-unlocked' : ''}${h.erratum ? ', VMCS erratum' : ''}`;
}

/** Where abstract(impl) and the model differ after the failing run's last step. */
export function finalDiff(run: RunResult): Difference[] {
  try {
    return refinementDiff(run.host, run.model, run.revision.checks);
  } catch {
    return run.violation?.diff ? [...run.violation.diff] : [];
  }
}

function stateTable(diff: readonly Difference[], step: number): string[] {
  if (diff.length === 0) return [`  state after step ${step}: abstract(impl) and the model agree (the violation is in what happened, not where it ended)`];
  const short = (s: string) => (s.length > 52 ? s.slice(0, 49) + '...' : s);
  const head = 'implementation (abstracted)';
  const w = Math.max(5, ...diff.map((d) => d.field.length)),
    wi = Math.max(head.length, ...diff.map((d) => short(d.impl).length));
  return [
    `  state after step ${step}, where they differ:`,
    `    ${'field'.padEnd(w)}  ${head.padEnd(wi)}  model (expected)`,
    ...diff.map((d) => `    ${d.field.padEnd(w)}  ${short(d.impl).padEnd(wi)}  ${short(d.model)}`),
  ];
}

export function formatCounterexample(s: Scenario, run: RunResult, title: string): string[] {
  const v = run.violation!;
  const claim = checkClaim(v.id);
  return [
    title,
    `  host: ${hostLine(s)}`,
    s.picks ? `  picks: [${s.picks.join(', ')}]` : `  schedule: [${s.schedule.join(', ')}]`,
    '  commands:',
    ...script(s).map((l) => '  ' + l),
    '  timeline:',
    ...timeline(run.records, s.host.nrCpus, v.step).map((l) => '  ' + l),
    `  violated ${v.id} at step ${v.step}: ${v.message}`,
    ...(claim ? [`    (${v.id}: ${claim})`] : []),
    ...stateTable(finalDiff(run), v.step),
  ];
}
