// Section 2: where time goes, from V8's sampling CPU profiler (node:inspector, in this process).
// Each sample's stack is attributed to one phase of the check by which project code is on it:
// invariants (properties/invariants.ts), refinement (refinementDiff), model (model/, reached
// by a linearization point's action), images (the bytes of an uploaded image built from its drawn ImageRef:
// properties/images.ts imageBytes), runner scheduling (impl/kernel/sched.ts runnableTasks()), emulator
// (impl/ and the commands in properties/), the rest of runScenario's loop (runner), generation
// (fast-check and properties/generators.ts outside runScenario), and GC. Timers stay in bench/.
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';

export const PHASES = ['generation', 'images', 'emulator', 'model', 'refinement', 'invariants', 'runner', 'gc', 'other'] as const;
export type Phase = (typeof PHASES)[number];

interface Frame {
  readonly functionName: string;
  readonly url: string;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: Frame;
  readonly children?: readonly number[];
}
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A frame's file relative to the project ('' for V8 internals and Node builtins). */
function fileOf(f: Frame): string {
  if (!f.url.startsWith('file://')) return '';
  const p = fileURLToPath(f.url);
  return p.startsWith(ROOT) ? p.slice(ROOT.length) : p;
}

const EMULATOR_FILES = /^(impl\/|properties\/(commands|images|image_spec|faults|releases|scenario)\.ts)/;

/** The phase of one sample, from its stack (root first). */
export function phaseOf(stack: readonly Frame[]): Phase {
  const files = stack.map(fileOf);
  const names = stack.map((f) => f.functionName);
  const leaf = stack[stack.length - 1];
  if (leaf?.functionName === '(garbage collector)') return 'gc';
  if (files.some((f) => f === 'properties/invariants.ts')) return 'invariants';
  if (names.includes('refinementDiff')) return 'refinement';
  if (files.some((f) => f.startsWith('model/'))) return 'model';
  if (stack.some((f, i) => f.functionName === 'imageBytes' && files[i] === 'properties/images.ts')) return 'images';
  if (names.includes('runnableTasks')) return 'runner';
  if (files.some((f) => EMULATOR_FILES.test(f))) return 'emulator';
  if (names.includes('runScenario')) return 'runner';
  if (files.some((f) => f.includes('node_modules/fast-check/') || f === 'properties/generators.ts')) return 'generation';
  return 'other';
}

export interface ProfileResult {
  readonly samples: number;
  readonly intervalUs: number;
  /** Share of samples per phase (sums to 1). */
  readonly shares: Record<Phase, number>;
  /** The functions with the most self samples: where to look first. */
  readonly top: readonly { readonly fn: string; readonly phase: Phase; readonly share: number }[];
}

function parents(p: CpuProfile): Map<number, number> {
  const up = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) up.set(c, n.id);
  return up;
}

function stackOf(id: number, byId: Map<number, ProfileNode>, up: Map<number, number>): Frame[] {
  const out: Frame[] = [];
  for (let cur: number | undefined = id; cur !== undefined; cur = up.get(cur)) out.push(byId.get(cur)!.callFrame);
  return out.reverse();
}

function label(f: Frame): string {
  const file = fileOf(f) || f.url || '(native)';
  // tsx's transform keeps function names but not line numbers, so a function is named by its file.
  return `${f.functionName || '(anonymous)'} ${file.replace(/^.*node_modules\//, '')}`;
}

/** Samples per node, only those taken while `keep` says so (timestamps: monotonic microseconds). */
function countSamples(p: CpuProfile, keep?: (tUs: number) => boolean): Map<number, number> {
  const perNode = new Map<number, number>();
  const deltas = p.timeDeltas ?? [];
  let t = p.startTime;
  (p.samples ?? []).forEach((s, i) => {
    t += deltas[i] ?? 0;
    if (!keep || keep(t)) perNode.set(s, (perNode.get(s) ?? 0) + 1);
  });
  return perNode;
}

/** Attributes the samples of a profile (those `keep` selects) to phases, with the top self-time functions. */
export function attribute(p: CpuProfile, intervalUs: number, topN = 25, keep?: (tUs: number) => boolean): ProfileResult {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const up = parents(p);
  const perNode = countSamples(p, keep);
  const counts = Object.fromEntries(PHASES.map((k) => [k, 0])) as Record<Phase, number>;
  const self = new Map<string, { n: number; phase: Phase }>();
  let total = 0;
  for (const [id, n] of perNode) {
    const stack = stackOf(id, byId, up);
    const phase = phaseOf(stack);
    counts[phase] += n;
    total += n;
    const key = label(stack[stack.length - 1]!);
    self.set(key, { n: (self.get(key)?.n ?? 0) + n, phase });
  }
  const shares = Object.fromEntries(PHASES.map((k) => [k, total ? counts[k] / total : 0])) as Record<Phase, number>;
  const top = [...self]
    .sort((a, b) => b[1].n - a[1].n)
    .slice(0, topN)
    .map(([fn, v]) => ({ fn, phase: v.phase, share: v.n / total }));
  return { samples: total, intervalUs, shares, top };
}

/** The monotonic clock the profiler stamps samples with (the same as process.hrtime), in microseconds. */
export function monoUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Runs fn (synchronous) under the sampling profiler and returns the raw profile. */
export async function profileRaw(fn: () => void, intervalUs: number): Promise<CpuProfile> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    fn();
    const { profile } = await session.post('Profiler.stop');
    return profile as unknown as CpuProfile;
  } finally {
    session.disconnect();
  }
}

/** Runs fn under the sampling profiler and returns the attributed profile. */
export async function profiled(fn: () => void, intervalUs: number): Promise<ProfileResult> {
  return attribute(await profileRaw(fn, intervalUs), intervalUs);
}
