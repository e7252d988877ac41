// What the TD commands share: which TD a command acts on, and the guest data KVM is handed.
import type { KvmTd } from '../../impl/kvm/tdx.ts';
import type { ModelState } from '../../model/state.ts';
import type { IssueEnv } from './spec.ts';

/** The n-th TD the model knows and its KVM handle, or null when there is none yet. */
export function pickTd(env: IssueEnv, n: number): { id: number; td: KvmTd } | null {
  const ids = [...env.model.tds.keys()];
  if (ids.length === 0) return null;
  const id = ids[n % ids.length]!;
  const td = env.h.kvm.tds.get(id);
  return td ? { id, td } : null;
}

const fills = new WeakMap<Uint8Array, number>();

/** A page of guest data: deterministic bytes from a fill value (what userspace hands KVM). */
export function pageContent(fill: number): Uint8Array {
  const p = new Uint8Array(4096);
  let x = (fill * 2654435761) >>> 0;
  for (let i = 0; i < p.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    p[i] = x >>> 24;
  }
  fills.set(p, fill);
  return p;
}

/** The fill value a page handed to KVM was made from (TDH.MEM.PAGE.ADD's source). */
export function fillOf(content: Uint8Array): number {
  const f = fills.get(content);
  if (f === undefined) throw new Error('a TD page that pageContent() did not make');
  return f;
}

/** Pages the TD has: the next guest page a build adds. */
export const pages = (m: ModelState, td: number): number => m.tds.get(td)?.pages.size ?? 0;
