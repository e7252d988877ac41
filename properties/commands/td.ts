// What the TD commands share: which TD a command acts on, the guest data KVM is handed, and
// the injected fault a command may carry on one of its leaves.
import fc from 'fast-check';
import type { TaskBody } from '../../impl/kernel/sched.ts';
import type { KvmTd } from '../../impl/kvm/tdx.ts';
import type { ModelState } from '../../model/state.ts';
import type { TdFaultLeaf } from '../../model/types.ts';
import { tdLeafName, withTdFault } from '../faults.ts';
import type { GenConfig } from '../generators.ts';
import type { IssueEnv } from './spec.ts';
import { withRate } from './upload.ts';

/** A fault on one of the command's own leaves, at the property's rate (none when it has none). */
export function tdFault<L extends TdFaultLeaf>(cfg: GenConfig, leaves: readonly [L, ...L[]]): fc.Arbitrary<L | null> {
  return cfg.tdFaultRate ? withRate(fc.constantFrom(...leaves), cfg.tdFaultRate) : fc.constant(null);
}

/** The command's task, with its fault armed when it carries one. */
export function armed(env: IssueEnv, fault: TdFaultLeaf | null | undefined, body: TaskBody | null): TaskBody | null {
  return body && fault ? withTdFault(env.h, fault, body) : body;
}

/** The fault as it reads after the call, in a counterexample. */
export const faultText = (fault: TdFaultLeaf | null | undefined): string => (fault ? `; fault: ${tdLeafName(fault)} fails` : '');

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
