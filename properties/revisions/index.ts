// Every kernel revision by name (`--kernel NAME`), in the order `--kernel all` runs them.
import { COMPAT } from './compat.ts';
import type { RevisionRecord } from './record.ts';
import { UPSTREAM } from './upstream.ts';
import { V2 } from './v2.ts';

export type { Expected, RevisionRecord } from './record.ts';
export { COMPAT, UPSTREAM, V2 };

export const REVISIONS: readonly RevisionRecord[] = [V2, COMPAT, UPSTREAM];

export function findRevision(name: string): RevisionRecord | undefined {
  return REVISIONS.find((r) => r.name === name);
}

/** The emulator's switches of each revision, for the tests that drive the kernel directly. */
export const V2_KERNEL = V2.kernel;
export const COMPAT_KERNEL = COMPAT.kernel;
export const UPSTREAM_KERNEL = UPSTREAM.kernel;
