// Every schedule of one scenario within a bound (issue 13, part 3: `--scheduler exhaustive`).
//
// A run is deterministic given its schedule, so a schedule is explored by running it again
// from the start (stateless search, as CHESS does). At each decision with more than one option
// the runner's default, choice 0, is round-robin: the runnable task that ran least recently
// (impl/kernel/sched.ts runQueue), and issuing the next command comes last. A preemption here is
// a decision that takes any other option. With at most K of them, every schedule is found by
// placing its preemptions at increasing decisions: the children of a run are the runs that
// keep its schedule and add one preemption at a later decision, to each other option there.
// This is delay-bounded search (Emmi, Qadeer and Rakamaric, POPL 2011) with every departure
// from round-robin counted as one: the schedules within K delays are all among those explored.
//
// Not done: partial-order reduction. It needs each step's reads and writes of the shared
// emulated state, which impl/ does not report, so `pruned` is 0 and the count of executions is
// that of every schedule within the bound; a count of the traces these executions fall into
// says it would prune about 1.5 times (README "Schedulers and distinct states"). What
// `--explore` does leave out is whole scenarios that another one proves: those with an inert
// command (firstInert).
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { COMMAND_KINDS, COMMANDS, commandSpec, describe, type Command } from '../properties/commands/index.ts';
import { cpuOf } from '../properties/commands/spec.ts';
import { resolveRelease } from '../properties/commands/upload.ts';
import { scenario, type GenConfig } from '../properties/generators.ts';
import type { HostData } from '../properties/scenario.ts';
import { DOMAIN } from './explore.ts';
import { runScenario, type RunOptions, type RunResult } from './run.ts';
import type { ScheduledScenario } from './schedulers.ts';

export interface Bound {
  /** Decisions that may depart from round-robin. */
  readonly preemptions: number;
  /** Executions to run at most for one scenario; past it the search is incomplete. */
  readonly maxExecutions: number;
}

export interface Explored {
  readonly executions: number;
  /** Every schedule within the bound ran (false: the execution cap or a stop ended it first). */
  readonly complete: boolean;
  /** The first schedule that failed, as a scenario that replays it; null: none did. */
  readonly failing: ScheduledScenario | null;
}

interface Pending {
  readonly schedule: readonly number[];
  readonly used: number;
}

/** The children of a run still to explore: departures at decision j >= its schedule's end to option a, in that order. */
interface Children {
  readonly parent: Pending;
  readonly decisions: readonly number[];
  j: number;
  a: number;
}

/** What a search looks for: by default any violation; corpus:migrate asks for a recorded one. */
export type Fails = (r: RunResult, s: ScheduledScenario) => boolean;

/**
 * Depth-first over the schedules of `s` with at most `bound.preemptions` departures from
 * round-robin; `onRun` sees every execution (coverage, distinct states). Stops at the first
 * schedule that `fails`, at the cap, or when `stop()` says so. A child is made when it is run,
 * so memory is the depth of the search, not the schedules one departure away (a run on 256 CPUs
 * has hundreds of thousands).
 */
export function exploreSchedules(
  s: ScheduledScenario,
  o: RunOptions,
  bound: Bound,
  onRun: (r: RunResult) => void = () => {},
  stop: () => boolean = () => false,
  fails: Fails = (r) => r.violation !== null,
): Explored {
  const search = schedules(s, o, bound, onRun, stop, fails);
  for (;;) {
    const n = search.next();
    if (n.done) return n.value;
  }
}

/** How often (ms) a search lets the event loop run (signals, the progress line): here and between verify's scenarios. */
export const YIELD_MS = 25;

/**
 * exploreSchedules, letting the event loop run every YIELD_MS: one scenario's schedules can take
 * hours (many CPUs), and a signal (`stop`) and the progress line are heard only between tasks.
 */
export async function exploreSchedulesYielding(
  s: ScheduledScenario,
  o: RunOptions,
  bound: Bound,
  onRun: (r: RunResult) => void = () => {},
  stop: () => boolean = () => false,
): Promise<Explored> {
  const search = schedules(s, o, bound, onRun, stop, (r) => r.violation !== null);
  for (let last = performance.now(); ; ) {
    const n = search.next();
    if (n.done) return n.value;
    if (performance.now() - last > YIELD_MS) {
      await new Promise((r) => setImmediate(r));
      last = performance.now();
    }
  }
}

/** The search, one execution a step. */
function* schedules(
  s: ScheduledScenario,
  o: RunOptions,
  bound: Bound,
  onRun: (r: RunResult) => void,
  stop: () => boolean,
  fails: Fails,
): Generator<void, Explored> {
  const { pct: _pct, picks: _picks, ...plain } = s; // the search's schedules, not the scenario's
  const pending: Children[] = [];
  let executions = 0;
  for (let p: Pending | null = { schedule: [], used: 0 }; p !== null; p = nextChild(pending)) {
    if (executions >= bound.maxExecutions || stop()) return { executions, complete: false, failing: null };
    const scenario = { ...plain, schedule: p.schedule };
    const r = runScenario(scenario, o);
    executions++;
    onRun(r);
    if (fails(r, scenario)) return { executions, complete: false, failing: scenario };
    if (p.used < bound.preemptions) pending.push({ parent: p, decisions: r.decisions, j: p.schedule.length, a: 1 });
    yield;
  }
  return { executions, complete: true, failing: null };
}

/** The next schedule to run: the deepest run's next child, which keeps its schedule and departs once more. */
function nextChild(pending: Children[]): Pending | null {
  while (pending.length > 0) {
    const c = pending.at(-1)!;
    while (c.j < c.decisions.length && c.a >= c.decisions[c.j]!) {
      c.j++;
      c.a = 1;
    }
    if (c.j === c.decisions.length) {
      pending.pop();
      continue;
    }
    const schedule = [...c.parent.schedule, ...new Array<number>(c.j - c.parent.schedule.length).fill(0), c.a++];
    return { schedule, used: c.parent.used + 1 };
  }
  return null;
}

/**
 * The first command of a scenario that finds nothing to act on wherever a schedule issues it
 * (CommandSpec inertUntil: no command of the kind it needs comes before it); -1: none does.
 *
 * `--explore` does not run such a scenario: it is the scenario without its inert commands.
 * Issuing one spawns no task and changes neither the host nor the model (issue() returns null
 * on pickTd's null), so no invariant or model check sees it, and it leaves the run queue as it
 * was: dropping its issue from an execution gives an execution of the shorter scenario with the
 * same steps in the same order and no more departures from round-robin. The shorter scenario
 * is enumerated too (or is empty, and checks nothing), so its proof covers this one.
 */
export function firstInert(commands: readonly Command[]): number {
  const issued = new Set<string>();
  for (let i = 0; i < commands.length; i++) {
    const until = commandSpec(commands[i]!).inertUntil;
    if (until !== undefined && !issued.has(until)) return i;
    issued.add(commands[i]!.kind);
  }
  return -1;
}

const key = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));

/**
 * What an exploration of `s` depends on besides the kernel and the bound: its host and commands.
 * Properties that weigh the same command kinds enumerate many of the same scenarios (a third of
 * them at `--commands 3`), and each is explored once (verify.ts exploreProperty).
 */
export function scenarioKey(s: ScheduledScenario): string {
  return key({ host: s.host, commands: s.commands });
}

/**
 * The shard (1-based) of `count` that explores the scenario of this key: by its hash, so a
 * scenario that several properties enumerate is explored in one shard, once.
 */
export function shardOfKey(k: string, count: number): number {
  return (createHash('sha1').update(k).digest().readUInt32BE(0) % count) + 1;
}

/**
 * A command as a host of `nrCpus` CPUs runs it: the CPU it names taken modulo the CPUs, as the
 * command specs do (properties/commands/spec.ts cpuOf). CPUs 248 and 26 are one CPU on two.
 */
function onHost(c: Command, nrCpus: number): Command {
  return 'cpu' in c && typeof c.cpu === 'number' ? { ...c, cpu: cpuOf(c.cpu, nrCpus) } : c;
}

/**
 * What the domain spreads a kind's values over: the CPU a command runs on, and its variant: a
 * TD command's fault, an upload's fault and image corruption together (a corrupt image is
 * refused before a fault can strike, so the two are one choice).
 */
function aspects(c: Command): [string, string] {
  const cpu = 'cpu' in c ? String(c.cpu) : '';
  if (c.kind === 'upload') return [cpu, `${c.fault?.kind ?? ''} ${c.fault?.kind === 'leaf' ? c.fault.leaf : ''} ${c.image.corruption?.kind ?? ''}`];
  return [cpu, 'fault' in c ? String(c.fault ?? '') : ''];
}

/**
 * `n` of the values `arb` draws from `seed`, as the host runs them: each in turn the first drawn
 * that brings the most CPUs and variants the values before it do not have (fewer
 * than n when fewer differ).
 */
function firstValues(arb: fc.Arbitrary<Command>, seed: number, n: number, nrCpus: number): Command[] {
  const drawn = fc.sample(arb, { seed, numRuns: 50 * n }).map((c) => onHost(c, nrCpus));
  const chosen = new Map<string, Command>();
  const covered = [new Set<string>(), new Set<string>()];
  const fresh = (c: Command) => aspects(c).filter((a, i) => !covered[i]!.has(a)).length;
  while (chosen.size < n) {
    const next = drawn
      .filter((c) => !chosen.has(key(c)))
      .reduce<Command | undefined>((best, c) => (best === undefined || fresh(c) > fresh(best) ? c : best), undefined);
    if (next === undefined) break;
    chosen.set(key(next), next);
    aspects(next).forEach((a, i) => covered[i]!.add(a));
  }
  return [...chosen.values()];
}

/** The domain of `--explore`: `values` values of each command kind the property weighs, on `host`. */
function domainOf(cfg: GenConfig, seed: number, host: HostData, values: number): Command[] {
  const kinds = COMMAND_KINDS.filter((k) => (cfg.weights[k] ?? 0) > 0);
  const domain = kinds.flatMap((k) => firstValues(COMMANDS[k].arbitrary(cfg) as fc.Arbitrary<Command>, seed, values, host.nrCpus));
  return domain.map((c) => (c.kind === 'upload' ? { ...c, image: { ...c.image, release: resolveRelease(c.image.release, host.boot.release) } } : c));
}

const hostOf = (cfg: GenConfig, seed: number): HostData => fc.sample(scenario(cfg), { seed, numRuns: 1 })[0]!.host;

/** The domain as the proof states it: each value as a counterexample writes it (summary.json `exploration.domain`). */
export function domainText(cfg: GenConfig, seed: number, values = DOMAIN): string[] {
  return domainOf(cfg, seed, hostOf(cfg, seed), values).map(describe);
}

/** How many scenarios enumerateScenarios yields (the progress line's total). */
export function scenarioCount(cfg: GenConfig, seed: number, commands: number, values = DOMAIN): number {
  const d = domainOf(cfg, seed, hostOf(cfg, seed), values).length;
  let n = 0;
  for (let l = 1, p = d; l <= commands; l++, p *= d) n += p;
  return n;
}

/**
 * `--explore`'s scenarios: on the host the property's generator draws first from `seed`, every
 * sequence of 1 to `commands` commands, each one of the `values` values its kind's generator
 * draws from `seed` (firstValues; the kinds the property weighs). Small domains, stated: a
 * proof covers these values, not every value.
 */
export function* enumerateScenarios(cfg: GenConfig, seed: number, commands: number, values = DOMAIN): Generator<ScheduledScenario> {
  const host = hostOf(cfg, seed);
  const domain = domainOf(cfg, seed, host, values);
  for (let length = 1; length <= commands; length++) {
    const digits = new Array<number>(length).fill(0);
    for (;;) {
      yield { host, commands: digits.map((d) => domain[d]!), schedule: [] };
      let i = length - 1;
      while (i >= 0 && ++digits[i]! === domain.length) digits[i--] = 0;
      if (i < 0) break;
    }
  }
}
