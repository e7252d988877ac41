// A deterministic minimizing pass after fast-check's shrinking: delta debugging over the
// commands, the schedule and the host, then the smallest values inside each command. fast-check
// shrinks arrays from the front and leaves trailing commands and incidental details; this pass
// makes the same bug found from different seeds end in the same small counterexample.
import type { Command } from '../properties/commands.ts';
import type { Scenario } from '../properties/scenario.ts';
import { runScenario, type RunOptions, type RunResult } from './run.ts';

/** How many scenario runs one minimization may spend. */
const MAX_RUNS = 3000;

type Candidates = (s: Scenario) => Scenario[];

const without = <T>(xs: readonly T[], i: number): T[] => [...xs.slice(0, i), ...xs.slice(i + 1)];
const replace = <T>(xs: readonly T[], i: number, x: T): T[] => [...xs.slice(0, i), x, ...xs.slice(i + 1)];

const dropCommand: Candidates = (s) => s.commands.length <= 1 ? [] : s.commands.map((_, i) => ({ ...s, commands: without(s.commands, s.commands.length - 1 - i) }));
const dropSchedule: Candidates = (s) => [
  ...(s.schedule.length ? [{ ...s, schedule: [] }] : []),
  ...s.schedule.map((_, i) => ({ ...s, schedule: without(s.schedule, s.schedule.length - 1 - i) })),
  ...s.schedule.flatMap((c, i) => [...new Set([0, 1, 2, c - 1])].filter((x) => x >= 0 && x < c).map((x) => ({ ...s, schedule: replace(s.schedule, i, x) }))),
];

const simplerHost: Candidates = (s) => {
  const h = s.host;
  const out: Scenario['host'][] = [];
  for (const n of [1, 2, h.nrCpus - 1]) if (n >= 1 && n < h.nrCpus) out.push({ ...h, nrCpus: n });
  if (h.slots > 1) out.push({ ...h, slots: 1 });
  if (h.debugUnlocked) out.push({ ...h, debugUnlocked: false });
  if (h.boot.noDowngrade) out.push({ ...h, boot: { ...h.boot, noDowngrade: false } });
  if (h.boot.moduleHv || h.boot.minUpdateHv) out.push({ ...h, boot: { ...h.boot, moduleHv: 0, minUpdateHv: 0 } });
  return out.map((host) => ({ ...s, host }));
};

/** Smaller variants of one command, most drastic first. */
function simplerCommand(c: Command, nrCpus: number): Command[] {
  const out: Command[] = [];
  if ('cpu' in c && c.cpu) out.push({ ...c, cpu: 0 }, { ...c, cpu: c.cpu % nrCpus });
  if ('td' in c && c.td !== 0) out.push({ ...c, td: 0 });
  if (c.kind === 'td_add_page' && c.fill !== 0) out.push({ ...c, fill: 0 });
  if (c.kind === 'td_run' && c.stores.length) out.push({ ...c, stores: [] });
  if (c.kind === 'upload') {
    const i = c.image;
    if (c.fault) out.push({ ...c, fault: null });
    if (c.fault && 'cpu' in c.fault && c.fault.cpu) out.push({ ...c, fault: { ...c.fault, cpu: 0 } });
    if (c.fault?.kind === 'no_entropy' && c.fault.count > 1) out.push({ ...c, fault: { ...c.fault, count: 1 } });
    if (i.corruption) out.push({ ...c, image: { ...i, corruption: null } });
    if (i.corruption) for (const k of ['byte', 'bit', 'length', 'index', 'pages'] as const) {
      if (k in i.corruption && (i.corruption as unknown as Record<string, number>)[k] !== 0) out.push({ ...c, image: { ...i, corruption: { ...i.corruption, [k]: 0 } } });
    }
    if (i.svnDelta) out.push({ ...c, image: { ...i, svnDelta: 0 } });
    if (i.debug) out.push({ ...c, image: { ...i, debug: false } });
    if (i.noDowngrade) out.push({ ...c, image: { ...i, noDowngrade: false } });
    if (i.moduleHv || i.minUpdateHv) out.push({ ...c, image: { ...i, moduleHv: 0, minUpdateHv: 0 } });
  }
  return out;
}

const simplerCommands: Candidates = (s) => s.commands.flatMap((c, i) => simplerCommand(c, s.host.nrCpus).filter((x) => JSON.stringify(x) !== JSON.stringify(c)).map((x) => ({ ...s, commands: replace(s.commands, i, x) })));

const PASSES: readonly Candidates[] = [dropCommand, simplerHost, dropSchedule, simplerCommands];

/** The smallest scenario this pass finds that still fails with the same check. */
export function minimize(s: Scenario, o: RunOptions, violationId: string): { scenario: Scenario; runs: number } {
  let best = s, runs = 0, changed = true;
  const stillFails = (c: Scenario): boolean => {
    runs++;
    const r: RunResult = runScenario(c, o);
    return r.violation?.id === violationId;
  };
  while (changed && runs < MAX_RUNS) {
    changed = false;
    for (const pass of PASSES) {
      for (const c of pass(best)) {
        if (runs >= MAX_RUNS) break;
        if (stillFails(c)) {
          best = c;
          changed = true;
          break;
        }
      }
      if (changed) break;
    }
  }
  return { scenario: best, runs };
}
