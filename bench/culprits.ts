// Known hot spots, matched against the profiles' top functions: where each lives, why it is
// slow, and the fix to suggest. Only the ones a profile actually shows are reported.
import type { Phase } from './profile.ts';
import type { PhaseProfile } from './shares.ts';

export interface Culprit {
  readonly id: string;
  /** A self-time function label ("name file") it matches, or a whole phase. */
  readonly match: RegExp | { readonly phase: Phase };
  readonly where: string;
  readonly why: string;
  readonly fix: string;
}

export const CULPRITS: readonly Culprit[] = [
  {
    id: 'blob-bytes',
    match: /^(imageBytes|imageLe|blobChecksum) impl\/kernel\/seamldr\.ts$|^le16Sum impl\/kernel\/csum\.ts$/,
    where: 'impl/kernel/seamldr.ts parseBlobV1: imageBytes(), blobChecksum()',
    why: 'the v1 checksum reads every byte of every uploaded image (page by page, 16-bit words through a DataView), as the kernel does; a real-size image is 0.6-2 MiB',
    fix: 'keep a 16-bit sum per PhysMem page, invalidated when the page is written, so an unchanged page is summed once; the emulation would still check every upload',
  },
  {
    id: 'scheduler-scan',
    match: /^((candidates|next|\(anonymous\)|__name) harness\/run\.ts|runnable impl\/kernel\/sched\.ts)$/,
    where: 'harness/run.ts candidates() with impl/kernel/sched.ts runnable()',
    why: 'every step asks impl/kernel/sched.ts runnableTasks() for the runnable tasks (one pass, each waiting task re-evaluating its condition) and orders them by the least-recently-run map, building a Set and two arrays',
    fix: 'a ready queue the scheduler keeps: a waiting task re-evaluated only when a step wrote what its condition reads (needs per-step write sets from impl/, as partial-order reduction does)',
  },
  {
    id: 'image-build',
    match: { phase: 'images' },
    where: 'impl/firmware/image.ts buildBlobV1 (via properties/images.ts imageBytes)',
    why: "the bytes of each ImageRef are built once and kept (properties/images.ts imageBytes), up to 64 MiB, oldest out first; the default workload draws about 600 distinct refs of 132 MiB (88 of them real-size, 0.1-2 MiB), so every pass evicts and rebuilds them: the module's filler and SHA-384, an RSA-3072 signature, the assembly",
    fix: 'a larger bound (the peak heap grows by as much), or sigstructs signed once per signed-field set rather than per identity',
  },
  {
    id: 'refinement-hex',
    match: { phase: 'refinement' },
    where: 'properties/refinement.ts refinementDiff: tdView(), modelTdView()',
    why: 'every linearization point hex-encodes every page of every live TD, on the impl side and the model side, sorts them and compares the strings',
    fix: 'compare page bytes directly (Buffer.compare per page, or a digest cached per page and invalidated on write) and hex-encode only when building a Difference',
  },
];

export interface Sighting {
  readonly culprit: Culprit;
  /** Share of the profile's samples it accounts for. */
  readonly share: number;
}

function shareOf(c: Culprit, p: PhaseProfile): number {
  if (!(c.match instanceof RegExp)) return p.shares[c.match.phase];
  const re = c.match;
  return p.top.filter((t) => re.test(t.fn)).reduce((s, t) => s + t.share, 0);
}

/** The culprits a profile shows with at least `min` of its samples, biggest first. */
export function sightings(p: PhaseProfile, min = 0.05): Sighting[] {
  return CULPRITS.map((culprit) => ({ culprit, share: shareOf(culprit, p) }))
    .filter((s) => s.share >= min)
    .sort((a, b) => b.share - a.share);
}

/** Per-command work proportional to the CPU count, as the single-CPU diagnosis sees it. */
export const CPU_COUNT_CULPRITS: readonly Culprit[] = [
  {
    id: 'refinement-online',
    match: /^(refinementDiff|\(anonymous\)) properties\/refinement\.ts$/,
    where: 'properties/refinement.ts refinementDiff: the `online` field',
    why: "every linearization point builds the online-CPU string of the impl and of the model (`cpus.map(...).join('')`, two strings of CPU-count characters) to compare them, so a command on one CPU pays for all CPUs",
    fix: 'compare the two online arrays element by element without building strings, or only when a hotplug event happened since the last check (the online set changes only then); build the strings only for a Difference',
  },
  {
    id: 'scheduler-scan',
    match: /^((candidates|next|\(anonymous\)) harness\/run\.ts|runnable impl\/kernel\/sched\.ts)$/,
    where: 'harness/run.ts candidates() with impl/kernel/sched.ts runnable()',
    why: 'every step scans all tasks, and runnable() scans all tasks again',
    fix: 'a per-CPU count of preempt-disabled tasks in Sched and a least-recently-run queue instead of filter + sort',
  },
];

/** The culprit behind a function label, if known. */
export function culpritFor(fn: string, list: readonly Culprit[]): Culprit | undefined {
  return list.find((c) => c.match instanceof RegExp && c.match.test(fn));
}
