// Runs one scenario: boots the emulated host and the model, issues the commands, lets the
// schedule decide which task steps next, and after every step checks the invariants. At every
// linearization point the model says which results the contract allows; the implementation's
// result must be one of them, and the model goes on from that one's successor (when several
// match, the one abstract(impl) pins). A read is checked over its whole window: its result must
// be allowed in some model state between its invocation and its response. Deterministic: same
// scenario, same run.
import { bootHost, type Host, type HostConfig, type TraceEvent } from '../impl/host.ts';
import type { Bugs } from '../impl/faults.ts';
import { moduleImage, moduleSigstruct } from '../impl/firmware/image.ts';
import { runnableTasks, spawn, step, stepTask, type Task, type TaskBody, type Yield } from '../impl/kernel/sched.ts';
import { selectModule } from '../impl/userspace/policy.ts';
import type { Allowed } from '../model/allowed.ts';
import { clone, init, typeOk, type HostSpec, type ModelState } from '../model/state.ts';
import type { FaultPlan } from '../model/types.ts';
import { commandSpec, describe, faultName, LIN_ACTIONS, type Command } from '../properties/commands/index.ts';
import type { Check, CommandSpec, IssueEnv } from '../properties/commands/spec.ts';
import { injectedFaults } from '../properties/faults.ts';
import { INVARIANTS, TERMINATION, type Invariant } from '../properties/invariants.ts';
import { refinementDiff, type Difference } from '../properties/refinement.ts';
import type { RevisionRecord } from '../properties/revisions/record.ts';
import { MAPPING_FILE_RELEASES, RELEASE_FACTS } from '../properties/releases.ts';
import { hostConfig, hostSpec, type HostData } from '../properties/scenario.ts';
import { fixedPart, stateKey, type Reached } from './explore.ts';
import { PctScheduler, type ScheduledScenario } from './schedulers.ts';
import { showResult } from './show.ts';

export interface RunOptions {
  readonly revision: RevisionRecord;
  readonly bugs: Bugs;
  /** Keep a step-by-step record for the timeline (costs time; used to report a failure). */
  readonly record?: boolean;
  /** Called after every step with the host and the model as they are then (reports read them). */
  readonly observe?: (step: number, h: Host, m: ModelState) => void;
  /** Safety goals to check as well, after the invariants (properties/goals.ts). */
  readonly goals?: readonly Invariant[];
  /** Run on after the first violation and collect every check that fires (`--faults all`). */
  readonly allChecks?: boolean;
}

export interface Violation {
  /** Invariant id, 'result', 'linearizability', 'refinement', 'typeOk' or 'crash'. */
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
  readonly lin?: { readonly op: string; readonly result: string; readonly predicted: string; readonly ok: boolean };
  readonly events: readonly TraceEvent[];
}

export interface RunResult {
  readonly violation: Violation | null;
  /** With allChecks: every check that fired, the first one first. */
  readonly fired: readonly string[];
  readonly steps: number;
  readonly commandsIssued: number;
  readonly records: readonly StepRecord[];
  readonly host: Host;
  readonly model: ModelState;
  /** What this run reached, for the coverage table: commands, outcomes, overlaps. */
  readonly labels: ReadonlySet<string>;
  /** The abstract model states this run reached and the (state, action) pairs it took (explore.ts). */
  readonly reached: Reached;
  /** The options at each decision that had more than one, in order (harness/exhaustive.ts branches on them). */
  readonly decisions: readonly number[];
  /** What each of those decisions picked: its index among the options, and its name (Scenario `picks`). */
  readonly chosen: readonly number[];
  readonly picks: readonly string[];
  readonly revision: RevisionRecord;
}

/**
 * Livelock bound: steps without progress, per task that could run. Progress is what moves the
 * run on (a result, a response, an update state, an update beginning or ending, hotplug, a
 * finished task, a CPU's first work or ack of a state); SEAMCALLs and repeated acks are not, so
 * a state machine that acks forever stalls.
 */
const STALL_STEPS_PER_TASK = 16;
const STALL_STEPS_MIN = 200;
/** What a task may yield (impl/kernel/sched.ts Yield): anything else is an emulator bug. */
const YIELD_KINDS = new Set<unknown>(['step', 'wait', 'lin']);
const PROGRESS = new Set<TraceEvent['kind']>(['lin', 'response', 'state', 'update_begin', 'update_end', 'hotplug']);

/** The name of the option that issues the next command (Scenario `picks`). */
export const ISSUE = 'issue';

/**
 * `s` with its schedule by name, as `r` (a run of it) took it: the picks up to the last that was
 * not round-robin's. PCT's data and the indices go; the named form replays the same run.
 */
export function named(s: ScheduledScenario, r: RunResult): ScheduledScenario {
  const { pct: _pct, ...rest } = s;
  const last = r.chosen.findLastIndex((k) => k !== 0);
  return { ...rest, schedule: [], picks: r.picks.slice(0, last + 1) };
}

// The host's configuration and the model's view of it, by the scenario's host: a run reads
// them and never writes them, and an exhaustive search runs thousands of schedules of one
// scenario.
const hosts = new WeakMap<HostData, { config: HostConfig; spec: HostSpec }>();

function hostOf(h: HostData): { config: HostConfig; spec: HostSpec } {
  let known = hosts.get(h);
  if (!known) hosts.set(h, (known = { config: withBootBlob(hostConfig(h)), spec: hostSpec(h) }));
  return known;
}

/** The module a host boots, built once: createSeam() would build it from its identity at every boot. */
function withBootBlob(c: HostConfig): HostConfig {
  return c.bootBlob ? c : { ...c, bootBlob: { module: moduleImage(c.boot), sigstruct: moduleSigstruct(c.boot) } };
}

/** A bound on the steps of a whole scenario, from its size: an update costs about CPUs^2 steps. */
function stepBound(s: ScheduledScenario): number {
  return 10_000 + s.commands.length * (2_000 + 2 * s.host.nrCpus * s.host.nrCpus);
}

/** A command in flight: its task's return value is its response; a read collects what its window allows. */
interface InFlight {
  readonly c: Command;
  readonly spec: CommandSpec<Command>;
  readonly n: number;
  readonly invokedAt: number;
  readonly out: { value?: unknown; done?: boolean };
  readonly window: Map<string, Allowed<unknown>> | null;
  states: number;
  /** Its task reported a linearization point of its own kind (spec.linearizes). */
  linearized: boolean;
}

/**
 * A command's task: the body, then, for a command with a response, one more step in which
 * userspace gets the result (the response takes effect where the body returned).
 */
function* capture(body: TaskBody, out: { value?: unknown; done?: boolean }, respond: boolean): Generator<Yield, void, void> {
  out.value = yield* body;
  out.done = true;
  if (respond) yield step('returns to userspace');
}

class Run {
  readonly h: Host;
  readonly m: ModelState;
  readonly checks: { id: string; check: ReturnType<Invariant['create']> }[];
  readonly env: IssueEnv;
  readonly inFlight = new Map<Task, InFlight>();
  readonly records: StepRecord[] = [];
  readonly labels = new Set<string>();
  readonly fired: string[] = [];
  /** Linearization points a command's task reported through env.act during the current step. */
  acted: { v: Violation | null; lin: StepRecord['lin'] }[] = [];
  /** The last upload command issued was of an Intel blob (summary.json `blobs`). */
  realUpload = false;
  pendingFault: FaultPlan | null = null;
  first: Violation | null = null;
  /** False once the model could not follow the implementation: model checks stop there. */
  modelOk = true;
  nextTd = 1;
  cmd = 0;
  choice = 0;
  step = 0;
  seen: number;
  stall = 0;
  /** The (CPU, state) works and acks of the update in flight, for progress. */
  readonly worked = new Set<string>();
  /** Set when the scenario carries PCT's data: it, not `schedule`, picks the next task. */
  readonly pct: PctScheduler | null;
  /** The model state now, by its key; every state reached, every (state, action) pair taken. */
  stateNow: string;
  readonly fixed: string;
  readonly reached = { states: new Set<string>(), pairs: new Set<string>() };
  readonly decisions: number[] = [];
  readonly chosen: number[] = [];
  readonly picks: string[] = [];

  constructor(
    readonly s: ScheduledScenario,
    readonly o: RunOptions,
  ) {
    this.checks = [...INVARIANTS, ...(o.goals ?? [])].map((inv) => ({ id: inv.id, check: inv.create(o.revision.checks) }));
    const { config, spec } = hostOf(s.host);
    this.h = bootHost(config, o.revision.kernel, o.bugs);
    this.m = init(o.revision.contract, spec);
    this.env = this.issueEnv();
    this.seen = this.h.trace.length;
    if (s.host.bootFault) this.labels.add(`fault ${s.host.bootFault}`);
    this.pct = s.pct ? new PctScheduler(s.pct) : null;
    this.fixed = fixedPart(this.m);
    this.stateNow = stateKey(this.m, this.fixed);
    this.reached.states.add(this.stateNow);
  }

  /** What a command's spec sees, made once per run: a read's window asks for it at every model move. */
  issueEnv(): IssueEnv {
    return {
      h: this.h,
      model: this.m,
      revision: this.o.revision,
      setPendingFault: (f) => {
        this.pendingFault = f;
      },
      newTdId: () => this.nextTd++,
      act: (op, check, actual) => {
        if (!this.modelOk) return;
        const { v, lin } = this.linearize(op, check, actual);
        this.acted.push({ v, lin });
      },
    };
  }

  /** Which option runs: a task (by index in `tasks`), or issuing the next command (index tasks.length). */
  pick(tasks: readonly Task[], canIssue: boolean): number {
    const options = tasks.length + (canIssue ? 1 : 0);
    if (options <= 1) return 0;
    const k = this.choose(tasks, canIssue, options);
    this.decisions.push(options);
    this.chosen.push(k);
    this.picks.push(k === tasks.length ? ISSUE : tasks[k]!.name);
    return k;
  }

  /** The option a decision takes: by name (picks), by PCT, or by index (schedule); round-robin past their end. */
  choose(tasks: readonly Task[], canIssue: boolean, options: number): number {
    if (this.s.picks) {
      const name = this.s.picks[this.choice++];
      // a name not among the options (the code under it changed) takes round-robin's
      const k = name === ISSUE ? (canIssue ? tasks.length : -1) : tasks.findIndex((t) => t.name === name);
      return Math.max(k, 0);
    }
    if (this.pct) return this.pct.pick([...tasks.map((t) => t.id), ...(canIssue ? [-1 - this.cmd] : [])], this.decisions.length);
    const c = this.choice < this.s.schedule.length ? this.s.schedule[this.choice++]! : 0;
    return c % options;
  }

  issueNext(): void {
    const c = this.s.commands[this.cmd++]!;
    const spec = commandSpec(c);
    const body = spec.needsFw && !this.h.tdxHost.fw ? null : spec.issue(this.env, c);
    this.label(c);
    if (this.o.record) this.records.push({ step: this.step, task: `cmd${this.cmd}`, cpu: -1, command: describe(c), events: [] });
    if (!body) return;
    const out: { value?: unknown; done?: boolean } = {};
    const t = spawn(this.h.sched, `cmd${this.cmd}:${c.kind}`, spec.cpu?.(c, this.h.platform.cpus.length) ?? 0, capture(body, out, spec.response !== undefined));
    const f: InFlight = { c, spec, n: this.cmd, invokedAt: this.step, out, window: spec.response?.read ? new Map() : null, states: 0, linearized: false };
    this.inFlight.set(t, f);
    this.widen(f);
  }

  label(c: Command): void {
    this.labels.add(`command ${c.kind}`);
    if (faultName(c)) this.labels.add(`fault ${faultName(c)}`);
    if (c.kind === 'upload' && c.image.corruption) this.labels.add(`image ${c.image.corruption.kind}`);
    if (c.kind === 'upload' && c.image.real) this.labels.add('real upload');
    this.realUpload = c.kind === 'upload' ? c.image.real === true : this.realUpload;
    if (c.kind === 'upload' && this.m.module.status === 'ready')
      this.labels.add(`upload the policy ${policyAllows(this.m, c.image.release) ? 'allows' : 'would refuse'}`);
    if (this.h.sched.tasks.some((t) => t.name === 'fw_upload_worker')) this.labels.add(`${c.kind} during an upload`);
  }

  /** A read in flight: what the model allows now joins what its window allows. */
  widen(f: InFlight): void {
    if (!f.window || !this.modelOk) return;
    f.states++;
    for (const a of f.spec.response!.model(this.m, f.c, this.env).choices) f.window.set(showResult(a.result), a);
  }

  stepOne(t: Task): Violation[] {
    const y = stepTask(this.h.sched, t);
    if (y !== null && !YIELD_KINDS.has(y.kind)) throw new Error(`${t.name} yielded ${JSON.stringify(y)}, not a step, wait or linearization point`);
    let lin: StepRecord['lin'];
    let v: Violation | null = null;
    const f = this.inFlight.get(t);
    if (y?.kind === 'lin') {
      if (f && y.op.name === f.c.kind) f.linearized = true;
      this.h.trace.push({ kind: 'lin', task: t.name, op: y.op, result: y.result });
      if ('injected' in y.op.args) this.labels.add(`fault ${y.op.args.injected} struck`);
      if (this.modelOk) ({ v, lin } = this.linearize(y.op.name, (LIN_ACTIONS[y.op.name] as (m: ModelState, op: unknown) => Check)(this.m, y.op), y.result));
    }
    for (const a of this.acted.splice(0)) ({ v, lin } = { v: v ?? a.v, lin: a.lin });
    if (f?.out.done) {
      const r = this.respond(t, f);
      v ??= r.v;
      lin = r.lin ?? lin;
    }
    const events = this.h.trace.slice(this.seen);
    this.seen = this.h.trace.length;
    this.armFaults(events);
    if (this.o.record) this.records.push({ step: this.step, task: t.name, cpu: t.cpu, label: label(y), lin, events });
    this.stall = y === null || events.some((e) => this.progress(e)) ? 0 : this.stall + 1;
    const moved = lin !== undefined;
    const found = [...this.checkInvariants(events), v, moved && this.modelOk ? this.checkRefinement() : null];
    return found.filter((x): x is Violation => x !== null);
  }

  /** Whether an event moves the run on: a CPU's first work or ack of a state is progress, a repeat is not. */
  progress(e: TraceEvent): boolean {
    if (PROGRESS.has(e.kind)) {
      if (e.kind === 'update_begin') this.worked.clear();
      return true;
    }
    if (e.kind !== 'ack' && e.kind !== 'update_work') return false;
    const key = `${e.kind} ${e.cpu} ${e.state}`;
    return !this.worked.has(key) && this.worked.add(key) !== undefined;
  }

  /** A command finished: its response is a read checked over its window, or a linearization point. */
  respond(t: Task, f: InFlight): { v: Violation | null; lin?: StepRecord['lin'] } {
    this.inFlight.delete(t);
    const result = f.out.value;
    const r = f.spec.response;
    if (!r && f.spec.linearizes && !f.linearized)
      return {
        v: this.model({
          id: 'result',
          message: `${f.n}. ${describe(f.c)} returned without taking effect or failing: no ${f.c.kind} linearization point`,
          step: this.step,
        }),
      };
    if (!r) return { v: null };
    this.h.trace.push({ kind: 'response', task: t.name, command: f.c, result });
    if (!this.modelOk) return { v: null };
    if (!r.read) return this.linearize(f.c.kind, r.model(this.m, f.c, this.env), result);
    this.widen(f);
    const check = r.model(this.m, f.c, this.env);
    const ok = [...f.window!.values()].find((a) => check.matches(a.result, result));
    const allowed = [...f.window!.keys()].join(' or ');
    const lin = { op: f.c.kind, result: showResult(result), predicted: ok ? ok.because : allowed, ok: ok !== undefined };
    if (ok) return { v: null, lin };
    const id = f.states > 1 ? 'linearizability' : 'result';
    const where =
      f.states > 1
        ? ` in no model state of its window (steps ${f.invokedAt}-${this.step}, ${f.states} states): allowed were ${allowed}`
        : `; the model allows ${allowed}`;
    return { v: this.model({ id, message: `${describe(f.c)} returned ${lin.result}${where}`, step: this.step }), lin };
  }

  /** Apply the model action of a linearization point: the result must be allowed; go on from its successor. */
  linearize(op: string, check: Check, actual: unknown): { v: Violation | null; lin: StepRecord['lin'] } {
    const matching = check.choices.filter((a) => check.matches(a.result, actual));
    const allowed = check.choices.map((a) => `${showResult(a.result)} (${a.because})`).join(' or ');
    if (matching.length === 0) {
      const lin = { op, result: showResult(actual), predicted: allowed, ok: false };
      return { v: this.model({ id: 'result', message: `${op} returned ${lin.result}; the contract allows ${allowed}`, step: this.step }), lin };
    }
    const chosen = matching.length === 1 ? matching[0]! : this.pinned(matching, actual);
    chosen.next?.(this.m, actual);
    this.reach(`${op} ${showResult(chosen.result)}`);
    if (op === 'update') this.labelUpdate(chosen);
    // fw_upload_start()'s -EBUSY (model/update.ts fwLoad): a load as an upload finished.
    if (chosen.result === 'busy') this.labels.add(`${op} refused busy as an upload finished`);
    const lin = { op, result: showResult(actual), predicted: `${showResult(chosen.result)}: ${chosen.because}`, ok: true };
    if (!typeOk(this.m)) return { v: this.model({ id: 'typeOk', message: `the model left its type invariant after ${op}`, step: this.step }), lin };
    for (const f of this.inFlight.values()) this.widen(f);
    return { v: null, lin };
  }

  /** The model moved by `action`: note the state it reached and the pair it took. */
  reach(action: string): void {
    const from = this.stateNow;
    this.stateNow = stateKey(this.m, this.fixed);
    this.reached.states.add(this.stateNow);
    this.reached.pairs.add(`${from} ${action}`);
  }

  /** Several results match: the successor abstract(impl) agrees with (the first, when none does). */
  pinned(matching: readonly Allowed<unknown>[], actual: unknown): Allowed<unknown> {
    for (const a of matching) {
      const t = clone(this.m);
      a.next?.(t, actual);
      if (refinementDiff(this.h, t, this.o.revision.checks).length === 0) return a;
    }
    return matching[0]!;
  }

  labelUpdate(a: Allowed<unknown>): void {
    const { outcome } = a.result as { outcome: string };
    for (const why of a.because.split('; ')) this.labels.add(`update ${outcome}: ${why.replace(/\b[0-9]+\b/g, 'N')}`);
    if (this.realUpload) this.labels.add(`real upload ${outcome}`);
    if (outcome === 'applied' && [...this.m.tds.values()].some((td) => td.alive)) this.labels.add('update applied with live TDs');
    if ([...this.m.tds.values()].some((td) => td.phase === 'building')) this.labels.add('update during a TD build');
  }

  /** A violation of the model's checks: after it the model no longer follows the implementation. */
  model(v: Violation): Violation {
    this.modelOk = false;
    return v;
  }

  /** The upload's fault is armed only while its update runs: the firmware it targets runs only then. */
  armFaults(events: readonly TraceEvent[]): void {
    for (const e of events) {
      if (e.kind === 'update_begin') this.h.seam.faults = injectedFaults(this.pendingFault, this.h.platform.cpus.length);
      if (e.kind === 'update_end') this.h.seam.faults = injectedFaults(null, 0);
    }
  }

  checkInvariants(events: readonly TraceEvent[]): Violation[] {
    const found: Violation[] = [];
    for (const c of this.checks) {
      const msg = c.check(this.h, events);
      if (msg) found.push({ id: c.id, message: msg, step: this.step });
      if (msg && !this.o.allChecks) break;
    }
    return found;
  }

  checkRefinement(): Violation | null {
    const diff = refinementDiff(this.h, this.m, this.o.revision.checks);
    if (!diff.length) return null;
    return this.model({ id: 'refinement', message: `abstract(impl) differs from the model in ${diff.map((d) => d.field).join(', ')}`, step: this.step, diff });
  }

  /** One scheduling decision; returns the violations it found (none: go on), or 'done'. */
  next(): Violation[] | 'done' {
    // Least recently run first (sched.ts runQueue): choice 0 is round-robin, so runs are fair by default.
    const tasks = runnableTasks(this.h.sched);
    const canIssue = this.cmd < this.s.commands.length && this.h.sched.stopMachine === null;
    const options = tasks.length + (canIssue ? 1 : 0);
    if (options === 0) {
      if (this.h.sched.tasks.length > 0)
        return [{ id: TERMINATION.id, message: `deadlock: ${this.h.sched.tasks.map((t) => t.name).join(', ')} can never run`, step: this.step }];
      // Every task is gone: a command whose task ended without returning never answered userspace.
      const unanswered = [...this.inFlight.values()].map((f) => `${f.n}. ${describe(f.c)}`);
      if (unanswered.length)
        return [{ id: TERMINATION.id, message: `no response to ${unanswered.join(', ')}: its task ended without returning`, step: this.step }];
      return 'done';
    }
    if (this.step > stepBound(this.s)) {
      return [
        {
          id: TERMINATION.id,
          message: `the scenario did not end within ${stepBound(this.s)} steps (its bound from ${this.s.commands.length} commands on ${this.s.host.nrCpus} CPUs)`,
          step: this.step,
        },
      ];
    }
    if (this.stall > STALL_STEPS_MIN + STALL_STEPS_PER_TASK * this.h.sched.tasks.length) {
      return [{ id: TERMINATION.id, message: `livelock: ${this.stall} steps without progress in ${tasks.map((t) => t.name).join(', ')}`, step: this.step }];
    }
    const k = this.pick(tasks, canIssue);
    let found: Violation[] = [];
    if (k === tasks.length) this.issueNext();
    else found = this.stepOne(tasks[k]!);
    this.o.observe?.(this.step, this.h, this.m);
    this.step++;
    return found;
  }

  /** Notes what a step found; true when the run ends here (always, unless allChecks; I-6 and crashes end it anyway). */
  note(found: readonly Violation[]): boolean {
    for (const v of found) {
      this.first ??= v;
      if (!this.fired.includes(v.id)) this.fired.push(v.id);
    }
    return found.length > 0 && (!this.o.allChecks || found.some((v) => v.id === TERMINATION.id || v.id === 'crash'));
  }
}

// The loadable releases per platform: the policy reads the whole mapping file, and every
// upload asks (a few platforms recur, so the map stays small).
const loadable = new Map<string, ReadonlySet<string>>();

/** Whether Intel's selection policy (spec §3.5) would load this release on the host as the model has it. */
function policyAllows(m: ModelState, release: string): boolean {
  if (m.module.status !== 'ready') return false;
  const text = (v: { major: number; minor: number; update: number }) => `${v.major}.${v.minor}.${String(v.update).padStart(2, '0')}`;
  const platform = { current: text(m.module.spec.version), seamldr: text(m.host.seamldrVersion), cpu: m.host.cpuFms, allowDebug: false };
  const key = `${platform.current} ${platform.seamldr} ${platform.cpu}`;
  if (!loadable.has(key)) {
    const { candidates } = selectModule(platform, MAPPING_FILE_RELEASES, RELEASE_FACTS);
    loadable.set(key, new Set(candidates.filter((x) => x.loadable).map((x) => x.version)));
  }
  return loadable.get(key)!.has(release);
}

function label(y: Yield | null): string | undefined {
  if (y === null) return 'done';
  return y.kind === 'lin' ? undefined : y.label;
}

export function runScenario(s: ScheduledScenario, o: RunOptions): RunResult {
  const r = new Run(s, o);
  for (let ended = false; !ended; ) {
    try {
      const found = r.next();
      ended = found === 'done' || r.note(found);
    } catch (e) {
      // An exception from the emulation is a failure of the scenario, reported like any other.
      ended = r.note([{ id: 'crash', message: `the emulation threw: ${e instanceof Error ? e.message : String(e)}`, step: r.step }]);
    }
  }
  return {
    violation: r.first,
    fired: r.fired,
    steps: r.step,
    commandsIssued: r.cmd,
    records: r.records,
    host: r.h,
    model: r.m,
    labels: r.labels,
    reached: r.reached,
    decisions: r.decisions,
    chosen: r.chosen,
    picks: r.picks,
    revision: o.revision,
  };
}
