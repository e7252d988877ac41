// The coverage table: how many runs reached each case the properties talk about, and which
// required cases no run reached (a property whose generator never reaches its case proves nothing).
import { CORRUPTION_KINDS } from '../impl/firmware/image.ts';
import { BOOT_FAULT_LEAVES, FAULT_LEAVES, TD_FAULT_LEAVES } from '../model/types.ts';
import { COMMAND_KINDS } from '../properties/commands/index.ts';

/** Labels every default `verify` run must reach. */
export const REQUIRED_LABELS: readonly string[] = [
  ...COMMAND_KINDS.map((k) => `command ${k}`),
  ...[...FAULT_LEAVES, 'seamldr_info', 'install', 'no_entropy', 'tdx_no_entropy', ...BOOT_FAULT_LEAVES, ...TD_FAULT_LEAVES].map((f) => `fault ${f}`),
  ...CORRUPTION_KINDS.map((c) => `image ${c}`),
  'update applied: the new module runs',
  'update applied with live TDs',
  'update during a TD build',
  'cancel during an upload',
  'cpu_offline during an upload',
  'td_add_page during an upload',
  'upload during an upload',
  'read_version during an upload', // where a version read without the lock-out tears (B23)
  'read_status during an upload',
  // Operators make mistakes: uploads the policy would refuse are generated too (issue 12).
  'upload the policy allows',
  'upload the policy would refuse',
];

/**
 * Chained updates (issue 14 part 5), which the model names in its reasons (model/update.ts
 * chainContext): what the ci budget of update-contract and td-preservation reaches, per
 * revision (test/harness/coverage.test.ts). On compat every update from a module without
 * UPDATE_COMPAT is refused and every newer release of a family with it has it, so no applied
 * chain changes features; an update during a TD build is refused with -EBUSY there (the B29
 * fix), so that case is reached as a refusal; and three applied updates in one run are rare
 * (compat hosts boot a module that can be updated half of the time): the deep budget reaches
 * them, and test/scenarios/chained.test.ts drives them on every revision.
 */
export const CHAIN_LABELS: Readonly<Record<string, readonly string[]>> = {
  v2: chain('applied'),
  upstream: chain('applied'),
  compat: ['update applied: after one applied update', 'update refused: right after a TD build began on a module an update installed'],
};

function chain(outcome: string): string[] {
  return [
    'after one applied update',
    'after two or more applied updates',
    'to a module whose features differ, after an applied update',
    'right after a TD build began on a module an update installed',
  ].map((c) => `update ${outcome}: ${c}`);
}

export function coverageReport(coverage: ReadonlyMap<string, number>, runs: number): string[] {
  const out = ['coverage (runs that reached each case, of ' + runs + '):'];
  const labels = [...coverage.keys()].sort();
  for (const l of labels) out.push(`  ${String(coverage.get(l)).padStart(6)}  ${((100 * coverage.get(l)!) / Math.max(runs, 1)).toFixed(1).padStart(5)}%  ${l}`);
  const missing = REQUIRED_LABELS.filter((l) => !coverage.has(l));
  if (missing.length) out.push(`  not reached: ${missing.join('; ')}`);
  return out;
}
