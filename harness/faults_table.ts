// The strength of the properties as a number: every seeded bug of impl/faults.ts switched on in
// turn, against the kernel revision it lived in; how soon the properties catch it, with which
// check, and how short the counterexample ends up (`npm run verify -- --faults all`).
import { SEEDED_BUGS, type BugName, type SeededBug } from '../impl/faults.ts';
import { findRevision } from '../properties/revisions/index.ts';
import { PROPERTIES } from '../properties/catalog.ts';
import type { Scenario } from '../properties/scenario.ts';
import { runScenario } from './run.ts';
import { checkProperty, type Budget } from './verify.ts';

export interface FaultRow {
  readonly fault: string;
  readonly catalogId: string;
  readonly kernel: string;
  readonly detected: boolean;
  readonly property: string | null;
  /** The check that caught it: an invariant id, 'result' or 'refinement'. */
  readonly invariant: string | null;
  readonly runsToDetect: number | null;
  readonly commandsToDetect: number | null;
  readonly msToDetect: number | null;
  readonly shrunkLength: number | null;
  readonly minimalLength: number;
  readonly scenario: Scenario | null;
  /** Every check that fires on the counterexample's run when it is run to the end, the first one first. */
  readonly checksFired: readonly string[];
}

/** Runs the properties in catalog order with the bug on until one fails. */
export async function checkFault(bug: SeededBug, seed: number, budget: Budget): Promise<FaultRow> {
  const revision = findRevision(bug.kernel)!;
  const started = performance.now();
  let runs = 0,
    commands = 0,
    firstAt: number | null = null;
  const base = { fault: bug.name, catalogId: bug.catalogId, kernel: bug.kernel, minimalLength: bug.minimalLength };
  for (const p of PROPERTIES) {
    const r = await checkProperty(p, {
      seed,
      budget,
      revision,
      bugs: new Set([bug.name as BugName]),
      onRun: (_n, _c, failed) => {
        if (failed && firstAt === null) firstAt = performance.now();
      },
    });
    const cx = r.counterexample;
    if (cx?.run.violation) {
      const fired = runScenario(cx.scenario, { revision, bugs: new Set([bug.name as BugName]), allChecks: true }).fired;
      return {
        ...base,
        detected: true,
        property: p.id,
        invariant: cx.run.violation.id,
        runsToDetect: runs + (r.firstFailure?.runs ?? r.runs),
        commandsToDetect: commands + (r.firstFailure?.commands ?? r.commands),
        msToDetect: Math.round((firstAt ?? performance.now()) - started),
        shrunkLength: cx.scenario.commands.length,
        scenario: cx.scenario,
        checksFired: [cx.run.violation.id, ...fired.filter((id) => id !== cx.run.violation!.id)],
      };
    }
    runs += r.runs;
    commands += r.commands;
  }
  return {
    ...base,
    detected: false,
    property: null,
    invariant: null,
    runsToDetect: null,
    commandsToDetect: null,
    msToDetect: null,
    shrunkLength: null,
    scenario: null,
    checksFired: [],
  };
}

export async function checkAllFaults(seed: number, budget: Budget, onRow?: (r: FaultRow) => void): Promise<FaultRow[]> {
  const rows: FaultRow[] = [];
  for (const b of SEEDED_BUGS) {
    const row = await checkFault(b, seed, budget);
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}

const COLUMNS = ['fault', 'id', 'kernel', 'detected', 'caught by', 'runs', 'commands', 'time', 'shrunk', 'minimal', 'checks fired'];

export function faultRowCells(r: FaultRow): string[] {
  return [
    r.fault,
    r.catalogId,
    r.kernel,
    r.detected ? 'yes' : 'NO',
    r.invariant ?? '-',
    String(r.runsToDetect ?? '-'),
    String(r.commandsToDetect ?? '-'),
    r.msToDetect === null ? '-' : `${(r.msToDetect / 1000).toFixed(2)}s`,
    String(r.shrunkLength ?? '-'),
    String(r.minimalLength),
    r.checksFired.join(' ') || '-',
  ];
}

export function faultsTable(rows: readonly FaultRow[]): string[] {
  const cells = [COLUMNS, ...rows.map(faultRowCells)];
  const w = COLUMNS.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map(
    (c) =>
      '  ' +
      c
        .map((x, i) => x.padEnd(w[i]!))
        .join('  ')
        .trimEnd(),
  );
}

export function faultsMarkdown(rows: readonly FaultRow[]): string {
  return [`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${faultRowCells(r).join(' | ')} |`)].join('\n') + '\n';
}
