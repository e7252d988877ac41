// A counterexample as people read it: the commands as calls, then a timeline with one lane
// per CPU (SEAMCALLs with leaf names and statuses, update steps and acks), the first check
// that failed, and where the implementation and the model disagree.
import * as abi from '../impl/firmware/abi.ts';
import type { TraceEvent } from '../impl/host.ts';
import { errnoName } from '../impl/kernel/errno.ts';
import { describe } from '../properties/commands.ts';
import type { Scenario } from '../properties/scenario.ts';
import type { RunResult, StepRecord } from './run.ts';

const STATUS_NAMES = new Map<bigint, string>();
for (const [k, v] of Object.entries(abi)) {
  if (typeof v === 'bigint' && /^(TDX_|SEAMLDR_E)/.test(k) && !STATUS_NAMES.has(v)) STATUS_NAMES.set(v, k.replace(/^TDX_SEAMCALL_/, ''));
}

export function statusName(s: bigint): string {
  return s === 0n ? 'ok' : STATUS_NAMES.get(s) ?? STATUS_NAMES.get(s & abi.TDX_STATUS_MASK) ?? `0x${s.toString(16)}`;
}

function eventText(e: TraceEvent): string | null {
  switch (e.kind) {
    case 'seamcall': return `${abi.LEAF_NAMES.get(e.leaf) ?? `leaf ${e.leaf}`} -> ${statusName(e.status)}`;
    case 'update_work': return `${e.state} work -> ${errnoName(e.ret)}`;
    case 'ack': return `ack ${e.state}${e.ret ? ` (${errnoName(e.ret)})` : ''}`;
    case 'state': return `state := ${e.state}`;
    case 'update_begin': return `stop_machine on cpus ${e.cpus.join(',')} (lead ${e.lead})`;
    case 'update_end': return `stop_machine returns ${errnoName(e.ret)}`;
    case 'oob_read': return `read image byte ${e.offset} of ${e.len}`;
    case 'hotplug': return `cpu ${e.cpu} ${e.online ? 'online' : 'offline'} -> ${errnoName(e.ret)}`;
    case 'lin': return null;
  }
}

function laneOf(r: StepRecord, e: TraceEvent): number {
  if ('cpu' in e && typeof e.cpu === 'number') return e.cpu;
  return Math.max(r.cpu, 0);
}

function cell(s: string, w: number): string {
  return s.length > w ? s.slice(0, w - 1) + '…' : s.padEnd(w);
}

/** The timeline: only steps where something happened (spinning CPUs are left out). */
export function timeline(records: readonly StepRecord[], nrCpus: number): string[] {
  const lanes = Math.min(nrCpus, 8);
  const width = lanes <= 2 ? 46 : lanes <= 4 ? 34 : 26;
  const head = `  ${'step'.padStart(5)}  ${cell('task', 22)}${Array.from({ length: lanes }, (_, i) => cell(`cpu${i}`, width)).join(' ')}${nrCpus > lanes ? ' …' : ''}`;
  const out = [head];
  for (const r of records) {
    if (r.command) {
      out.push(`  ${String(r.step).padStart(5)}  >> ${r.command}`);
      continue;
    }
    const rows: string[][] = [];
    const put = (lane: number, text: string) => {
      let row = rows.find((x) => !x[lane]);
      if (!row) rows.push((row = []));
      row[lane] = text;
    };
    for (const e of r.events) {
      const t = eventText(e);
      if (t) put(Math.min(laneOf(r, e), lanes - 1), t);
    }
    if (r.lin) put(Math.min(Math.max(r.cpu, 0), lanes - 1), `${r.lin.op} = ${r.lin.result}${r.lin.result === r.lin.predicted ? '' : ` (model: ${r.lin.predicted})`}`);
    rows.forEach((row, i) => {
      const lead = i === 0 ? `  ${String(r.step).padStart(5)}  ${cell(r.task, 22)}` : `  ${' '.repeat(5)}  ${' '.repeat(22)}`;
      out.push(lead + Array.from({ length: lanes }, (_, l) => cell(row[l] ?? '', width)).join(' ').trimEnd());
    });
  }
  return out;
}

export function formatCounterexample(s: Scenario, run: RunResult, title: string): string[] {
  const v = run.violation!;
  const h = s.host;
  const out = [
    title,
    `  host: ${h.nrCpus} CPU(s), boot module ${h.boot.release}${h.boot.moduleHv || h.boot.minUpdateHv ? ` (hv ${h.boot.minUpdateHv}..${h.boot.moduleHv})` : ''}${h.boot.noDowngrade ? ' no-downgrade' : ''}, ${h.slots} update slot(s)${h.debugUnlocked ? ', debug-unlocked' : ''}`,
    `  schedule: [${s.schedule.join(', ')}]`,
    '  commands:',
    ...s.commands.map((c, i) => `    ${i + 1}. ${describe(c)}`),
    '  timeline:',
    ...timeline(run.records, h.nrCpus).map((l) => '  ' + l),
    `  violated ${v.id} at step ${v.step}: ${v.message}`,
  ];
  for (const d of v.diff ?? []) out.push(`    ${d.field}: impl ${short(d.impl)} | model ${short(d.model)}`);
  return out;
}

function short(s: string): string {
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}
