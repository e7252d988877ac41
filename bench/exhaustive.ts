// Section 8: the size of the exhaustive scheduler's space (issue 13, part 5). For 2 and 3 CPUs
// and 1 to 3 commands, one scenario where the commands race: an update (the stop_machine over
// every CPU), a sysfs read of P-SEAMLDR from the last CPU, a read of the module version. Every
// schedule within 0, 1 and 2 preemptions is run (harness/exhaustive.ts); the executions, the
// ones partial-order reduction would skip (none: it is not built) and the wall time.
import { exploreSchedules } from '../harness/exhaustive.ts';
import { NO_BUGS } from '../impl/faults.ts';
import type { Command } from '../properties/commands/index.ts';
import { V2 } from '../properties/revisions/index.ts';
import type { Scenario } from '../properties/scenario.ts';

export interface SpaceSize {
  readonly cpus: number;
  readonly commands: number;
  readonly preemptions: number;
  readonly executions: number;
  readonly pruned: number;
  readonly complete: boolean;
  readonly ms: number;
}

function racing(cpus: number, commands: number): Scenario {
  const all: Command[] = [
    { kind: 'upload', image: { release: '1.5.08', svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false, corruption: null }, fault: null },
    { kind: 'read_seamldr', attr: 'version', cpu: cpus - 1 } as Command,
    { kind: 'read_version' },
  ];
  const host = { nrCpus: cpus, boot: { release: '1.5.06', moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots: 2, debugUnlocked: false };
  return { host, commands: all.slice(0, commands), schedule: [] };
}

export function spaceSizes(smoke: boolean, log: (s: string) => void): SpaceSize[] {
  const out: SpaceSize[] = [];
  for (const cpus of [2, 3])
    for (let commands = 1; commands <= 3; commands++)
      for (const preemptions of smoke ? [0, 1] : [0, 1, 2]) {
        const t0 = performance.now();
        const e = exploreSchedules(racing(cpus, commands), { revision: V2, bugs: NO_BUGS }, { preemptions, maxExecutions: 1e6 });
        const ms = performance.now() - t0;
        out.push({ cpus, commands, preemptions, executions: e.executions, pruned: 0, complete: e.complete, ms });
        log(`  ${cpus} CPUs, ${commands} commands, ${preemptions} preemptions: ${e.executions} executions, ${Math.round(ms)} ms`);
      }
  return out;
}
