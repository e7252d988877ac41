// The coverage table: how many runs reached each case the properties talk about, and which
// required cases no run reached (a property whose generator never reaches its case proves nothing).
import { CORRUPTION_KINDS } from '../impl/firmware/image.ts';
import { FAULT_LEAVES } from '../model/types.ts';
import { COMMAND_KINDS } from '../properties/commands/index.ts';

/** Labels every default `verify` run must reach. */
export const REQUIRED_LABELS: readonly string[] = [
  ...COMMAND_KINDS.map((k) => `command ${k}`),
  ...[...FAULT_LEAVES, 'install', 'no_entropy'].map((f) => `fault ${f}`),
  ...CORRUPTION_KINDS.map((c) => `image ${c}`),
  'update applied: the new module runs',
  'update applied with live TDs',
  // Chained updates (issue 14 part 5): the model names them in its reasons (model/update.ts chained).
  'update applied: the second update applied in this run',
  'update applied: the third or later update applied in this run',
  'update applied: a chained update to a module whose features differ',
  'update applied: a chained update right after a TD build began on the previous module',
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

export function coverageReport(coverage: ReadonlyMap<string, number>, runs: number): string[] {
  const out = ['coverage (runs that reached each case, of ' + runs + '):'];
  const labels = [...coverage.keys()].sort();
  for (const l of labels) out.push(`  ${String(coverage.get(l)).padStart(6)}  ${((100 * coverage.get(l)!) / Math.max(runs, 1)).toFixed(1).padStart(5)}%  ${l}`);
  const missing = REQUIRED_LABELS.filter((l) => !coverage.has(l));
  if (missing.length) out.push(`  not reached: ${missing.join('; ')}`);
  return out;
}
