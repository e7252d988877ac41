// The property catalog: each property is a claim, its source, and the shape of the scenarios
// that test it. Every property runs every invariant, the observable-result comparison and the
// refinement check; what differs is where its generator spends its runs.
import type { GenConfig } from './generators.ts';

export interface Property {
  readonly id: string;
  readonly claim: string;
  readonly source: string;
  readonly gen: GenConfig;
}

const ALL = {
  upload: 4,
  cancel: 1,
  read_error: 1,
  read_status: 1,
  read_version: 1,
  read_seamldr: 1,
  cpu_offline: 1,
  cpu_online: 2,
  td_create: 2,
  td_add_page: 3,
  td_finalize: 2,
  td_run: 2,
  td_teardown: 1,
  tool_update: 1,
} as const;

export const PROPERTIES: readonly Property[] = [
  {
    id: 'update-contract',
    claim:
      'every update attempt ends applied, refused (nothing changed) or lost (only after a post-shutdown failure), as the model predicts, under any mix of commands',
    source: 'DESIGN.md update contract; spec §4.1, §7 I-7',
    gen: { cpus: [1, 8], maxCommands: 30, maxSchedule: 40, weights: ALL, faultRate: 0.3, corruptRate: 0.3, tdFaultRate: 0.1 },
  },
  {
    id: 'td-preservation',
    claim: 'a successful update keeps every TD: memory, measurement, launch-time TCB; a TD mid-build restarts its measurement',
    source: 'spec §6, §7 I-19, §3.7',
    gen: {
      cpus: [1, 4],
      maxCommands: 30,
      maxSchedule: 40,
      faultRate: 0.1,
      corruptRate: 0.1,
      tdFaultRate: 0.05,
      weights: { upload: 3, tool_update: 1, td_create: 3, td_add_page: 4, td_finalize: 2, td_run: 3, td_teardown: 1, read_version: 1 },
    },
  },
  {
    id: 'firmware-faults',
    claim: 'a firmware failure before shutdown changes nothing; after shutdown it loses the module, never anything in between',
    source: 'spec §4.1 rows 3-8, §7 I-4, I-7, I-8',
    gen: {
      cpus: [1, 8],
      maxCommands: 12,
      maxSchedule: 40,
      faultRate: 0.8,
      corruptRate: 0.3,
      tdFaultRate: 0.2,
      bootFaultRate: 0.2,
      weights: { upload: 5, tool_update: 1, td_create: 1, td_add_page: 1, td_finalize: 1, read_version: 1, read_error: 1, read_status: 1, cpu_online: 1 },
    },
  },
  {
    id: 'corrupt-images',
    claim: 'the kernel forwards only well-formed images and never reads past one; P-SEAMLDR rejects bad signatures and hashes',
    source: 'spec §3.2, §3.3, §7 I-15, I-16',
    gen: {
      cpus: [1, 4],
      maxCommands: 12,
      maxSchedule: 20,
      faultRate: 0,
      corruptRate: 0.8,
      weights: { upload: 6, tool_update: 1, read_error: 1, read_version: 1, td_create: 1 },
    },
  },
  {
    id: 'concurrency',
    claim: 'uploads, cancels, sysfs reads, CPU hotplug and TD activity interleave with an update at any step without breaking exclusivity or the ack protocol',
    source: 'spec §3.6, §3.7, §7 I-1 to I-6, I-23',
    gen: {
      cpus: [2, 8],
      maxCommands: 24,
      maxSchedule: 120,
      faultRate: 0.3,
      corruptRate: 0.1,
      weights: {
        upload: 4,
        tool_update: 1,
        cancel: 2,
        read_error: 2,
        read_status: 2,
        read_version: 1,
        read_seamldr: 2,
        cpu_offline: 2,
        cpu_online: 2,
        td_create: 1,
        td_add_page: 2,
        td_finalize: 1,
        td_run: 1,
      },
    },
  },
];

export function findProperty(id: string): Property | undefined {
  return PROPERTIES.find((p) => p.id === id);
}
