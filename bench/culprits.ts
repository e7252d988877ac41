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
    why: 'the v1 checksum reads every byte of an uploaded image (16-bit words through a DataView), as the kernel does, a real-size image being 0.6-2 MiB; PhysMem.digest keeps the sum per source image, so this is the first upload of each image, or one whose pages were written',
    fix: 'keep a 16-bit sum per PhysMem page, invalidated when the page is written, so an unchanged page is summed once even in an image that is not an unchanged copy',
  },
  {
    id: 'scheduler-scan',
    match: /^((stepOne|next|\(anonymous\)|__name) harness\/run\.ts|(runnable|runnableTasks) impl\/kernel\/sched\.ts)$/,
    where: 'harness/run.ts next() and stepOne() with impl/kernel/sched.ts runnableTasks()',
    why: "each step copies the run queue of runnable tasks (impl/kernel/sched.ts runQueue, woken waits evaluated first), records the decision, slices the step's trace events and hands them to every invariant, most of which read none of them",
    fix: 'let each invariant name the event kinds it reads and call it only for those, and hand out the run queue without a copy when no decision is recorded',
  },
  {
    id: 'image-build',
    match: { phase: 'images' },
    where: 'impl/firmware/image.ts buildBlobV1 (via properties/images.ts imageBytes)',
    why: "the bytes of each ImageRef are built once and kept (properties/images.ts imageBytes), up to 256 MiB; the default workload's 546 refs come to 107 MiB, so only a ref not seen before is built: the module's filler and SHA-384, an RSA-3072 signature, the assembly",
    fix: 'sigstructs signed once per signed-field set rather than per identity (a corruption of the module pages keeps the signed fields)',
  },
  {
    id: 'refinement-hex',
    match: { phase: 'refinement' },
    where: 'properties/refinement.ts refinementDiff: tdView(), modelTdView()',
    why: "every linearization point writes both sides' views as strings (the module's version text, each live TD's phase, MRTD in hex and sorted page list) and compares them; page contents are compared as bytes",
    fix: 'compare the fields as values and build the strings only for a Difference',
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
    why: "every linearization point compares the online flag of every CPU, the platform's against the model's, so a command on one CPU pays for all CPUs",
    fix: 'compare them only when a hotplug event happened since the last check (the online set changes only then)',
  },
  {
    id: 'state-key',
    match: /^(stateKey|canonicalObject|written|canonical) harness\/explore\.ts$/,
    where: 'harness/explore.ts stateKey',
    why: 'every model move writes the name of the new state, and each part of the state that is not frozen is written in full: a part that grows with the CPUs costs that much at every move',
    fix: 'freeze that part and replace it when it changes, as model/state.ts setOnline does for the online flags: a frozen value is written once',
  },
  {
    id: 'scheduler-scan',
    match: /^((next|\(anonymous\)) harness\/run\.ts|(runnable|runnableTasks) impl\/kernel\/sched\.ts)$/,
    where: 'harness/run.ts next() with impl/kernel/sched.ts runnableTasks()',
    why: 'every step copies the run queue, whose length is the number of runnable tasks (one per CPU while stop_machine runs)',
    fix: 'hand out the run queue without a copy when no decision is recorded',
  },
];

/** The culprit behind a function label, if known. */
export function culpritFor(fn: string, list: readonly Culprit[]): Culprit | undefined {
  return list.find((c) => c.match instanceof RegExp && c.match.test(fn));
}
