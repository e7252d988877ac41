// Runs one scenario: boots the emulated host and the model, issues the commands, lets the
// schedule decide which task steps next, and after every step checks the invariants; at every
// linearization point it applies the model action, compares results, then abstract(impl)
// against the model. Deterministic: same scenario, same run.
import { bootHost, type Host, type TraceEvent } from '../impl/host.ts';
import type { Bugs } from '../impl/faults.ts';
import type { Revision } from '../impl/kernel/revision.ts';
import { runnable, spawn, stepTask, type Task, type Yield } from '../impl/kernel/sched.ts';
import { init, type ModelState } from '../model/state.ts';
import type { FaultPlan } from '../model/types.ts';
import { describe, issue, type IssueEnv } from '../properties/commands.ts';
import { injectedFaults } from '../properties/faults.ts';
import { INVARIANTS, TERMINATION, type Invariant } from '../properties/invariants.ts';
import { applyLin, refinementDiff, showResult, type Difference } from '../properties/refinement.ts';
import { hostConfig, hostSpec, modelParams, type Scenario } from '../properties/scenario.ts';

export interface RunOptions {
  readonly rev: Revision;
  readonly bugs: Bugs;
  /** Keep a step-by-step record for the timeline (costs time; used to report a failure). */
  readonly record?: boolean;
  /** Called after every step with the host and the model as they are then (reports read them). */
  readonly observe?: (step: number, h: Host, m: ModelState) => void;
  /** Safety goals to check as well, after the invariants (properties/goals.ts). */
  readonly goals?: readonly Invariant[];
}

export interface Violation {
  /** Invariant id, 'result' (an observable result differs), or 'refinement'. */
  readonly id: string;
  readonly message: string;
  readonly step: number;
  readonly diff?: readonly Difference[];
}

/** One step of a recorded run: which task moved, what it did, what the trace gained. */
export interface StepRecord {
  readonly step: number;
  readonly task: string;
  readonly cpu: number;
  readonly command?: string;
  readonly label?: string;
  readonly lin?: { readonly op: string; readonly result: string; readonly predicted: string };
  readonly events: readonly TraceEvent[];
}

export interface RunResult {
  readonly violation: Violation | null;
  readonly steps: number;
  readonly commandsIssued: number;
  readonly records: readonly StepRecord[];
  readonly host: Host;
  readonly model: ModelState;
  /** What this run reached, for the coverage table: commands, outcomes, overlaps. */
  readonly labels: ReadonlySet<string>;
}

/** Livelock bound: steps without any trace event, lin or finished task, per task that could run. */
const STALL_STEPS_PER_TASK = 16;
const STALL_STEPS_MIN = 200;

class Run {
  readonly h: Host;
  readonly m: ModelState;
  readonly checks: { id: string; check: ReturnType<Invariant['create']> }[];
  readonly lastRun = new Map<Task, number>();
  readonly records: StepRecord[] = [];
  readonly labels = new Set<string>();
  pendingFault: FaultPlan | null = null;
  nextTd = 1;
  cmd = 0;
  choice = 0;
  step = 0;
  seen: number;
  stall = 0;

  constructor(readonly s: Scenario, readonly o: RunOptions) {
    this.checks = [...INVARIANTS, ...(o.goals ?? [])].map((inv) => ({ id: inv.id, check: inv.create() }));
    this.h = bootHost(hostConfig(s.host), o.rev, o.bugs);
    this.m = init(modelParams(o.rev), hostSpec(s.host));
    this.seen = this.h.trace.length;
  }

  env(): IssueEnv {
    return {
      h: this.h, model: this.m,
      setPendingFault: (f) => { this.pendingFault = f; },
      newTdId: () => this.nextTd++,
    };
  }

  /** Runnable tasks, least recently run first: choice 0 is round-robin, so runs are fair by default. */
  candidates(): Task[] {
    const at = (t: Task) => this.lastRun.get(t) ?? -1;
    return this.h.sched.tasks.filter((t) => runnable(this.h.sched, t)).sort((a, b) => at(a) - at(b) || a.id - b.id);
  }

  pick(options: number): number {
    if (options <= 1) return 0;
    const c = this.choice < this.s.schedule.length ? this.s.schedule[this.choice++]! : 0;
    return c % options;
  }

  issueNext(): Violation | null {
    const c = this.s.commands[this.cmd++]!;
    const body = this.h.tdxHost.fw || !needsFw(c.kind) ? issue(this.env(), c) : null;
    if (body) spawn(this.h.sched, `cmd${this.cmd}:${c.kind}`, c.kind === 'read_seamldr' ? (c.cpu ?? 0) % this.h.platform.cpus.length : 0, body);
    this.labels.add(`command ${c.kind}`);
    if (c.kind === 'upload' && c.fault) this.labels.add(`fault ${c.fault.kind === 'leaf' ? c.fault.leaf : c.fault.kind}`);
    if (c.kind === 'upload' && c.image.corruption) this.labels.add(`image ${c.image.corruption.kind}`);
    if (this.h.sched.tasks.some((t) => t.name === 'fw_upload_worker')) this.labels.add(`${c.kind} during an upload`);
    if (this.o.record) this.records.push({ step: this.step, task: `cmd${this.cmd}`, cpu: -1, command: describe(c), events: [] });
    return null;
  }

  stepOne(t: Task): Violation | null {
    this.lastRun.set(t, this.step);
    const y = stepTask(this.h.sched, t);
    let lin: StepRecord['lin'];
    let violation: Violation | null = null;
    if (y?.kind === 'lin') {
      this.h.trace.push({ kind: 'lin', task: t.name, op: y.op, result: y.result });
      const p = applyLin(this.m, y.op, y.result);
      lin = { op: y.op.name, result: showResult(y.result), predicted: showResult(p.predicted) };
      this.label(y.op.name, p.predicted);
      if (!p.ok) violation = { id: 'result', message: `${y.op.name} returned ${lin.result}; the model says ${lin.predicted}`, step: this.step };
    }
    const events = this.h.trace.slice(this.seen);
    this.seen = this.h.trace.length;
    this.armFaults(events);
    if (this.o.record) this.records.push({ step: this.step, task: t.name, cpu: t.cpu, label: label(y), lin, events });
    this.stall = events.length || y === null ? 0 : this.stall + 1;
    return this.checkInvariants(events) ?? violation ?? (y?.kind === 'lin' ? this.checkRefinement() : null);
  }

  label(op: string, predicted: unknown): void {
    if (op !== 'update') return;
    const u = predicted as { outcome: string; because: string };
    this.labels.add(`update ${u.outcome}: ${u.because.replace(/[0-9]+/g, 'N')}`);
    if (u.outcome === 'applied' && [...this.m.tds.values()].some((td) => td.alive)) this.labels.add('update applied with live TDs');
    if (this.m.tds.size && [...this.h.kvm.tds.keys()].some((id) => this.m.tds.get(id)?.phase === 'building')) this.labels.add('update during a TD build');
  }

  /** The upload's fault is armed only while its update runs: the firmware it targets runs only then. */
  armFaults(events: readonly TraceEvent[]): void {
    for (const e of events) {
      if (e.kind === 'update_begin') this.h.seam.faults = injectedFaults(this.pendingFault, this.h.platform.cpus.length);
      if (e.kind === 'update_end') this.h.seam.faults = injectedFaults(null, 0);
    }
  }

  checkInvariants(events: readonly TraceEvent[]): Violation | null {
    for (const c of this.checks) {
      const msg = c.check(this.h, events);
      if (msg) return { id: c.id, message: msg, step: this.step };
    }
    return null;
  }

  checkRefinement(): Violation | null {
    const diff = refinementDiff(this.h, this.m);
    return diff.length ? { id: 'refinement', message: `abstract(impl) differs from the model in ${diff.map((d) => d.field).join(', ')}`, step: this.step, diff } : null;
  }

  /** One scheduling decision; returns a violation, 'done', or null to go on. */
  next(): Violation | 'done' | null {
    const tasks = this.candidates();
    const canIssue = this.cmd < this.s.commands.length && this.h.sched.stopMachine === null;
    const options = tasks.length + (canIssue ? 1 : 0);
    if (options === 0) {
      return this.h.sched.tasks.length === 0 ? 'done'
        : { id: TERMINATION.id, message: `deadlock: ${this.h.sched.tasks.map((t) => t.name).join(', ')} can never run`, step: this.step };
    }
    if (this.stall > STALL_STEPS_MIN + STALL_STEPS_PER_TASK * this.h.sched.tasks.length) {
      return { id: TERMINATION.id, message: `livelock: ${this.stall} steps without progress in ${tasks.map((t) => t.name).join(', ')}`, step: this.step };
    }
    const k = this.pick(options);
    const v = k === tasks.length ? this.issueNext() : this.stepOne(tasks[k]!);
    this.o.observe?.(this.step, this.h, this.m);
    this.step++;
    return v;
  }
}

function needsFw(kind: string): boolean {
  return kind === 'upload' || kind === 'cancel' || kind === 'read_error';
}

function label(y: Yield | null): string | undefined {
  if (y === null) return 'done';
  return y.kind === 'lin' ? undefined : y.label;
}

export function runScenario(s: Scenario, o: RunOptions): RunResult {
  const r = new Run(s, o);
  let v: Violation | 'done' | null = null;
  while (v === null) {
    try {
      v = r.next();
    } catch (e) {
      // An exception from the emulation is a failure of the scenario, reported like any other.
      v = { id: 'crash', message: `the emulation threw: ${e instanceof Error ? e.message : String(e)}`, step: r.step };
    }
  }
  return { violation: v === 'done' ? null : v, steps: r.step, commandsIssued: r.cmd, records: r.records, host: r.h, model: r.m, labels: r.labels };
}
