// The exhaustive scheduler (issue 13): every schedule of a scenario within a bound on departures
// from round-robin, each run once; the first failing schedule replays as a failure; `--explore`
// enumerates scenarios too and only a complete search says "proved within the bound".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enumerateScenarios, exploreSchedules, firstInert } from '../../harness/exhaustive.ts';
import { DOMAIN, stateKey } from '../../harness/explore.ts';
import { runScenario, type RunResult } from '../../harness/run.ts';
import { genConfig, BUDGETS } from '../../harness/verify.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { COMMAND_KINDS, COMMANDS, type Command } from '../../properties/commands/index.ts';
import { findProperty } from '../../properties/catalog.ts';
import { V2 } from '../../properties/revisions/index.ts';
import type { Scenario } from '../../properties/scenario.ts';
import {
  cancel,
  hostData,
  imageRef,
  offline,
  online,
  readSeamldr,
  readVersion,
  scenario,
  tdAddPage,
  tdCreate,
  tdFinalize,
  tdRun,
  tdTeardown,
  upload,
} from '../impl/kernel/helpers.ts';

const ROOT = join(import.meta.dirname, '../..');
const clean = { revision: V2, bugs: NO_BUGS };
const B21 = { revision: V2, bugs: new Set(['seamldr-info-unlocked'] as const) };
const readerOnCpu1: Command = { ...readSeamldr('version'), cpu: 1 } as Command;
/** An update on CPU 0 and a sysfs read of P-SEAMLDR on CPU 1: B21's race. */
const race = scenario(hostData(2, { boot: { release: '1.5.01', moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots: 1 }), [
  upload(imageRef('1.5.01')),
  readerOnCpu1,
]);

describe('exploreSchedules', () => {
  const s = scenario(hostData(2), [upload(), readVersion]);

  it('with no preemptions runs round-robin alone; with one, each other option at each decision once', () => {
    const base = runScenario(s, clean);
    const zero = exploreSchedules(s, clean, { preemptions: 0, maxExecutions: 1e6 });
    expect(zero).toEqual({ executions: 1, complete: true, failing: null });
    const one = exploreSchedules(s, clean, { preemptions: 1, maxExecutions: 1e6 });
    expect(one.complete).toBe(true);
    expect(one.executions).toBe(1 + base.decisions.reduce((n, o) => n + o - 1, 0));
  });

  it('runs more schedules as the bound grows, every one a different run', () => {
    const runs: RunResult[] = [];
    const two = exploreSchedules(s, clean, { preemptions: 2, maxExecutions: 1e6 }, (r) => runs.push(r));
    expect(two.executions).toBeGreaterThan(exploreSchedules(s, clean, { preemptions: 1, maxExecutions: 1e6 }).executions);
    expect(runs).toHaveLength(two.executions);
  });

  it('stops at its cap and then does not claim completeness', () => {
    expect(exploreSchedules(s, clean, { preemptions: 2, maxExecutions: 3 })).toEqual({ executions: 3, complete: false, failing: null });
  });

  it('finds B21 where round-robin does not, and the failing schedule replays as a failure', () => {
    expect(runScenario(race, B21).violation).toBeNull();
    const e = exploreSchedules(race, B21, { preemptions: 2, maxExecutions: 1e6 });
    expect(e.failing).not.toBeNull();
    expect(runScenario(e.failing!, B21).violation?.id).toBe('I-13');
    expect(runScenario(e.failing!, clean).violation).toBeNull();
    expect(exploreSchedules(race, clean, { preemptions: 2, maxExecutions: 1e6 })).toMatchObject({ complete: true, failing: null });
  });
});

describe('enumerateScenarios', () => {
  const cfg = genConfig(findProperty('concurrency')!, { seed: 1, budget: BUDGETS.quick, ...clean, cpus: 2, scheduler: 'exhaustive' });
  const kinds = Object.values(cfg.weights).filter((w) => (w ?? 0) > 0).length;

  it('every sequence of 1 to L commands over the domain, on one host, deterministically', () => {
    const all = [...enumerateScenarios(cfg, 1, 2)];
    const n = all.filter((s) => s.commands.length === 1).length;
    expect(n).toBeLessThanOrEqual(kinds * DOMAIN);
    expect(n).toBeGreaterThanOrEqual(kinds);
    expect(all).toHaveLength(n + n * n);
    expect(new Set(all.map((s) => JSON.stringify(s.commands))).size).toBe(all.length);
    expect(new Set(all.map((s) => JSON.stringify(s.host))).size).toBe(1);
    expect(all.every((s) => s.host.nrCpus === 2 && s.schedule.length === 0)).toBe(true);
    expect(JSON.stringify([...enumerateScenarios(cfg, 1, 2)])).toBe(JSON.stringify(all));
  });

  it('takes the values as the host runs them: every kind that names a CPU names each of the two', () => {
    const one = [...enumerateScenarios(cfg, 42, 1)].map((s) => s.commands[0]!);
    const cpus = new Map<string, Set<number>>();
    for (const c of one) if ('cpu' in c && typeof c.cpu === 'number') cpus.set(c.kind, (cpus.get(c.kind) ?? new Set()).add(c.cpu));
    expect([...cpus.keys()]).toEqual(expect.arrayContaining(['cpu_offline', 'cpu_online', 'td_create']));
    // seed 42 draws CPUs 248 and 26 first: one CPU on two, so offlining CPU 1 was never explored
    for (const [kind, seen] of cpus) if (kind !== 'read_seamldr') expect([kind, [...seen].sort()]).toEqual([kind, [0, 1]]);
  });

  it('spreads the two values of a kind over its variants too: a TD command with a fault and one without', () => {
    const tdFaults = genConfig(findProperty('update-contract')!, { seed: 1, budget: BUDGETS.quick, ...clean, cpus: 2, scheduler: 'exhaustive' });
    const one = [...enumerateScenarios(tdFaults, 42, 1)].map((s) => s.commands[0]!);
    for (const kind of ['td_create', 'td_add_page', 'td_finalize', 'td_run', 'td_teardown']) {
      const faults = one.filter((c) => c.kind === kind).map((c) => ('fault' in c && c.fault ? 'fault' : 'none'));
      expect([kind, faults.sort()]).toEqual([kind, ['fault', 'none']]);
    }
  });
});

describe('firstInert', () => {
  const inertFree = (cs: readonly Command[]): Command[] => {
    const i = firstInert(cs);
    return i < 0 ? [...cs] : inertFree(cs.toSpliced(i, 1));
  };
  /** The trace a run left, its tasks named without their command's number (an inert command before them shifts it). */
  const traceText = (r: RunResult) => JSON.stringify(r.host.trace, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)).replace(/cmd\d+:/g, 'cmd:');
  /** How every execution of a scenario within the bound ends (its verdict, the model state), and the (state, action) pairs taken. */
  const outcomes = (s: Scenario, o: typeof clean | typeof B21, preemptions = 1) => {
    const ends = new Set<string>();
    const pairs = new Set<string>();
    const all = () => false; // every schedule, not only up to the first failure
    const note = (r: RunResult) => {
      ends.add(`${r.violation?.id ?? 'holds'} ${stateKey(r.model)} ${traceText(r)}`);
      for (const p of r.reached.pairs) pairs.add(p);
    };
    exploreSchedules(s, o, { preemptions, maxExecutions: 1e6 }, note, undefined, all);
    return { ends: [...ends], pairs: [...pairs] };
  };
  /** Everything `s` did, `r` did too. */
  const within = (s: ReturnType<typeof outcomes>, r: ReturnType<typeof outcomes>) => {
    expect(r.ends).toEqual(expect.arrayContaining(s.ends));
    expect(r.pairs).toEqual(expect.arrayContaining(s.pairs));
  };

  it('finds a TD command before any td_create, and nothing else', () => {
    expect(firstInert([tdRun(), tdCreate()])).toBe(0);
    expect(firstInert([upload(), readVersion, tdFinalize(), tdCreate(), tdTeardown()])).toBe(2);
    expect(firstInert([tdCreate(), tdAddPage(), tdRun(), tdTeardown()])).toBe(-1);
    expect(firstInert([upload(), cancel, offline(1), online(1), readSeamldr('version')])).toBe(-1);
  });

  it('a command declared inert spawns no task, adds no decision and leaves no trace when issued first', () => {
    const cfg = genConfig(findProperty('update-contract')!, { seed: 1, budget: BUDGETS.quick, ...clean, cpus: 2, scheduler: 'exhaustive' });
    const inert = COMMAND_KINDS.filter((k) => COMMANDS[k].inertUntil !== undefined);
    expect(inert.sort()).toEqual(['td_add_page', 'td_finalize', 'td_run', 'td_teardown']);
    const booted = runScenario(scenario(hostData(2), []), clean).host.trace.length;
    for (const kind of inert)
      for (const c of fc.sample(COMMANDS[kind].arbitrary(cfg) as fc.Arbitrary<Command>, { seed: 1, numRuns: 20 })) {
        const alone = runScenario(scenario(hostData(2), [c]), clean);
        expect([kind, alone.steps, alone.decisions, alone.host.sched.tasks.length, alone.host.trace.length]).toEqual([kind, 1, [], 0, booted]);
      }
  });

  it('whatever a scenario with an inert command does within the bound, the scenario without it does within it', () => {
    const cfg = genConfig(findProperty('update-contract')!, { seed: 1, budget: BUDGETS.quick, ...clean, cpus: 2, scheduler: 'exhaustive' });
    const withInert = [...enumerateScenarios(cfg, 42, 2)].filter((s) => firstInert(s.commands) >= 0 && inertFree(s.commands).length > 0);
    expect(withInert.length).toBeGreaterThan(100);
    for (const s of withInert.filter((_, i) => i % 40 === 0)) within(outcomes(s, clean), outcomes({ ...s, commands: inertFree(s.commands) }, clean));
    // Not the other way round: issuing the inert command early is a departure of its own, so
    // B21's race between the update and a read issued early needs one more with it in between.
    const late = { ...race, commands: [race.commands[0]!, tdRun(), race.commands[1]!] };
    const raced = (o: ReturnType<typeof outcomes>) => o.ends.some((e) => e.startsWith('I-13'));
    within(outcomes(late, B21), outcomes(race, B21));
    expect([raced(outcomes(race, B21)), raced(outcomes(late, B21)), raced(outcomes(late, B21, 2))]).toEqual([true, false, true]);
  });
});

describe('verify --scheduler exhaustive', () => {
  const verify = (...args: string[]) => spawnSync(process.execPath, ['harness/cli.mjs', ...args], { encoding: 'utf8', cwd: ROOT });

  it('--explore: a complete search says "proved within the bound" and summary.json says complete', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-exhaustive-'));
    const r = verify(
      ...'--property concurrency --scheduler exhaustive --explore --cpus 2 --commands 1 --preemptions 1 --no-corpus'.split(' '),
      '--reports',
      dir,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}concurrency +proved /m);
    expect(r.stdout).toMatch(/^proved within the bound: every scenario of 1 to 1 commands .* on 2 CPUs, every schedule within 1 preemption /m);
    const e = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).exploration;
    expect(e).toMatchObject({ scheduler: 'exhaustive', complete: true, pruned: 0, bound: { cpus: 2, commands: 1, preemptions: 1, values: DOMAIN } });
    expect(e.executions).toBeGreaterThan(e.scenarios);
  });

  it('--values V: V values of each command kind, stated in the proof and in summary.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-exhaustive-'));
    const args = '--property concurrency --scheduler exhaustive --explore --cpus 2 --commands 1 --preemptions 0 --values 1 --no-corpus --progress 0';
    const r = verify(...args.split(' '), '--reports', dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^proved within the bound: every scenario of 1 to 1 commands over 1 value of each command kind .*: (\d+) scenarios/m);
    const e = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).exploration;
    const cfg = genConfig(findProperty('concurrency')!, { seed: 42, budget: BUDGETS.quick, ...clean, cpus: 2, scheduler: 'exhaustive' });
    const kinds = Object.values(cfg.weights).filter((w) => (w ?? 0) > 0).length;
    expect(e).toMatchObject({ complete: true, scenarios: kinds, bound: { values: 1 } });
    // the values themselves, a line each property under the proof and in summary.json
    expect(e.domain.concurrency).toHaveLength(kinds);
    expect(r.stdout).toContain(`  concurrency: ${e.domain.concurrency.join(' | ')}\n`);
  });

  it('--explore: a scenario two properties enumerate is explored once and counted for both', () => {
    const explore = (props: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'verify-exhaustive-'));
      const args = `--property ${props} --scheduler exhaustive --explore --cpus 2 --commands 1 --preemptions 1 --no-corpus --progress 0`;
      const r = verify(...args.split(' '), '--reports', dir);
      expect(r.status, r.stderr).toBe(0);
      return { out: r.stdout, summary: JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) };
    };
    const [a, b, both] = [explore('update-contract'), explore('td-preservation'), explore('update-contract,td-preservation')];
    const e = (x: typeof a) => x.summary.exploration;
    expect(e(a).reused + e(b).reused).toBe(0);
    expect(e(both).reused).toBeGreaterThan(0);
    // what each property reports is what it reports alone
    expect(both.summary.properties).toEqual([...a.summary.properties, ...b.summary.properties].map((p) => ({ ...p, ms: expect.any(Number) })));
    expect(e(both)).toMatchObject({ complete: true, scenarios: e(a).scenarios + e(b).scenarios, executions: e(a).executions + e(b).executions });
    expect(both.out).toMatch(new RegExp(`, \\d+ executions \\(${e(both).reused} of the scenarios were another property's too, explored once\\)`));
  });

  it('--explore finds a hotplug race: B27 (an update with a CPU offline) within 2 commands', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-exhaustive-'));
    const args = '--property update-contract --scheduler exhaustive --explore --cpus 2 --commands 2 --preemptions 1 --fault B27 --no-corpus --progress 0';
    const r = verify(...args.split(' '), '--reports', dir);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^ {2}update-contract +fails .* 2 commands, result$/m);
    expect(r.stdout).toContain('offline(cpu 1)');
    expect(r.stdout).toContain('needs the seeded fault no-cpu-online-check');
  });

  it('on drawn scenarios it explores each one but claims no proof', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-exhaustive-'));
    const r = verify(...'--property concurrency --scheduler exhaustive --cpus 2 --preemptions 1 --no-corpus --progress 0'.split(' '), '--reports', dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^every schedule within 1 preemption .* of each of 100 scenarios: \d+ executions; not a proof/m);
    expect(r.stdout).not.toContain('proved');
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).exploration).toMatchObject({ scheduler: 'exhaustive', scenarios: 100, complete: false });
  });

  it.each([
    [['--preemptions', '1'], /^verify: --preemptions needs --scheduler exhaustive \(/],
    [['--scheduler', 'exhaustive', '--explore'], /^verify: --explore needs --cpus N/],
    [['--commands', '2'], /^verify: --commands needs --explore \(/],
    [['--values', '3'], /^verify: --values needs --explore \(/],
    [['--scheduler', 'exhaustive', '--explore', '--cpus', '2', '--values', '0'], /^verify: --values must be a whole number from 1 to 16, not "0" \(/],
    [['--scheduler', 'exhaustive', '--preemptions', '9'], /^verify: --preemptions must be a whole number from 0 to 4, not "9" \(/],
    [
      ['--scheduler', 'exhaustive', '--explore', '--cpus', '2', '--property', 'concurrency', '--seed', '1', '--path', '0'],
      /^verify: --explore enumerates every scenario; it cannot be combined with --path/,
    ],
  ])('%j is refused with one line and exit 2', (args, line) => {
    const r = verify(...args);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(line)]);
  });
});
