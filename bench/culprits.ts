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
    why: 'the kernel-side blob checks copy the whole image into a JS number[] one byte at a time (a PhysMem Map lookup per byte) and then sum that array, on every upload',
    fix: "sum the 16-bit words straight from each page's Uint8Array (a DataView or Uint16Array over the page) and read header fields with one page lookup each; no per-byte array",
  },
  {
    id: 'scheduler-scan',
    match: /^((candidates|next|\(anonymous\)|__name) harness\/run\.ts|runnable impl\/kernel\/sched\.ts)$/,
    where: 'harness/run.ts candidates() with impl/kernel/sched.ts runnable()',
    why: 'every step filters all tasks with runnable(), which itself scans all tasks for a preempt-disabled one on the same CPU (O(tasks^2) per step), then sorts them by last run with Map lookups in the comparator (O(tasks log tasks))',
    fix: 'compute the set of CPUs held by a preempt-disabled task once per step (or keep a per-CPU count in Sched), and keep the tasks in a least-recently-run queue (move the stepped task to the back) instead of sorting',
  },
  {
    id: 'image-build',
    match: { phase: 'images' },
    where: 'impl/firmware/image.ts buildBlobV1 (via properties/images.ts imageBytes)',
    why: 'built images are memoized per module identity in a FIFO of 64 entries, but the generators draw more distinct identities than that (release x SEAMSVN delta x handoff versions x flags), so most uploads rebuild the image: the SHA-384 filler (fillPattern), a fresh blob with a full checksum pass (assembleV1), then a copy',
    fix: 'raise the memo bound to about 1024 blobs (16 KiB each) or memoize the module image and the sigstruct separately, so a new identity costs one assembly instead of a filler stream',
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
