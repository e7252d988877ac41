// Hand-built scenarios of exact size: a host with N CPUs, T finalized TDs built by a setup
// prefix, then a body of commands. Deterministic (no randomness): which CPU or TD a command
// uses is a fixed function of its position. The schedule is empty, so the runner's default
// (choice 0, least recently run first) runs each command to completion before the next.
import type { Command } from '../properties/commands/index.ts';
import type { ImageRef } from '../properties/images.ts';
import type { HostData, Scenario } from '../properties/scenario.ts';

/** Boot module and update image: the same 1.5 release, so every update is applicable. */
export const RELEASE = '1.5.06';

/** Private pages added to each TD before it is finalized. */
export const PAGES_PER_TD = 2;

export function host(nrCpus: number, slots: number): HostData {
  return { nrCpus, boot: { release: RELEASE, moduleHv: 0, minUpdateHv: 0, noDowngrade: false }, slots, debugUnlocked: false };
}

export function scenarioOf(h: HostData, commands: readonly Command[]): Scenario {
  return { host: h, commands, schedule: [] };
}

/** Spreads positions over the CPUs (a stride coprime with powers of two). */
const cpuAt = (i: number, nrCpus: number): number => (i * 37) % nrCpus;

/** T TDs, each created, given PAGES_PER_TD measured pages and finalized, on spread CPUs. */
export function tdSetup(tds: number, nrCpus: number): Command[] {
  const out: Command[] = [];
  for (let k = 0; k < tds; k++) {
    const cpu = cpuAt(k, nrCpus);
    out.push({ kind: 'td_create', cpu });
    for (let p = 0; p < PAGES_PER_TD; p++) out.push({ kind: 'td_add_page', td: k, fill: (k * PAGES_PER_TD + p) & 0xff, cpu });
    out.push({ kind: 'td_finalize', td: k, cpu });
  }
  return out;
}

/**
 * One command that involves a single CPU (never an update): sysfs reads, a TD run, a CPU
 * going offline and back. Without TDs a TD run would be a no-op, so a version read stands in.
 */
function singleCpuCommand(i: number, nrCpus: number, tds: number): Command {
  const cpu = cpuAt(i, nrCpus);
  const hotplugCpu = nrCpus > 1 ? 1 + ((i >> 3) % (nrCpus - 1)) : 0;
  const td = (i >> 3) % Math.max(tds, 1);
  const run: Command = tds ? { kind: 'td_run', td, stores: [{ page: i, offset: (i * 97) & 4095, value: i & 0xff }], cpu } : { kind: 'read_version' };
  switch (i % 8) {
    case 0:
      return { kind: 'read_version' };
    case 1:
      return { kind: 'read_seamldr', attr: 'version', cpu };
    case 2:
      return run;
    case 3:
      return { kind: 'read_error' };
    case 4:
      return { kind: 'cpu_offline', cpu: hotplugCpu };
    case 5:
      return { kind: 'cpu_online', cpu: hotplugCpu };
    case 6:
      return { kind: 'read_seamldr', attr: 'num_remaining_updates', cpu };
    default:
      return run;
  }
}

export function singleCpuBody(length: number, nrCpus: number, tds: number): Command[] {
  return Array.from({ length }, (_, i) => singleCpuCommand(i, nrCpus, tds));
}

export function updateImage(): ImageRef {
  return { release: RELEASE, svnDelta: 0, moduleHv: 0, minUpdateHv: 0, noDowngrade: false, debug: false, corruption: null };
}

/** n uploads of a valid image: each one a full update over every online CPU. */
export function updateBody(n: number): Command[] {
  return Array.from({ length: n }, () => ({ kind: 'upload', image: updateImage(), fault: null }) as Command);
}

/** The memory scenario: TD setup, then single-CPU commands with `updates` uploads spread in, `length` commands in all. */
export function mixedScenario(nrCpus: number, tds: number, length: number, updates: number): Scenario {
  const setup = tdSetup(tds, nrCpus);
  const rest = Math.max(length - setup.length - updates, 0);
  const body = singleCpuBody(rest, nrCpus, tds);
  const every = Math.max(Math.floor(rest / (updates + 1)), 1);
  for (let u = updates; u >= 1; u--) body.splice(Math.min(u * every, body.length), 0, ...updateBody(1));
  return scenarioOf(host(nrCpus, Math.max(updates, 1)), [...setup, ...body]);
}
