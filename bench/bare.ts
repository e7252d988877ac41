// The engine's limit: fast-check's own model-based run (fc.commands + fc.modelRun) with no-op
// commands, one per command kind and weighted as each property weights them, the same number
// of sequences and the same maximum sequence length as the harness workload, same seed.
import fc from 'fast-check';
import { PROPERTIES, type Property } from '../properties/catalog.ts';
import type { CommandKind } from '../properties/commands/index.ts';
import { genConfig } from '../harness/verify.ts';
import { now, since } from './stats.ts';
import { addTotals, checkOptions, emptyTotals, type PassTotals } from './workload.ts';

type NoopModel = { n: number };

/** A command that checks nothing and does nothing but count itself. */
class Noop implements fc.Command<NoopModel, NoopModel> {
  constructor(readonly kind: CommandKind) {}
  check(): boolean {
    return true;
  }
  run(_m: NoopModel, r: NoopModel): void {
    r.n++;
  }
  toString(): string {
    return this.kind;
  }
}

function noopCommands(p: Property, maxCommands: number): fc.Arbitrary<Iterable<fc.Command<NoopModel, NoopModel>>> {
  const arbs = Object.entries(p.gen.weights)
    .filter(([, w]) => (w ?? 0) > 0)
    .map(([k, w]) => ({ weight: w!, arbitrary: fc.constant(new Noop(k as CommandKind)) }));
  return fc.commands([fc.oneof(...arbs)], { maxCommands, size: 'max' });
}

export function bareProperty(p: Property, seed: number, numRuns: number): PassTotals {
  const t = emptyTotals();
  const maxCommands = genConfig(p, checkOptions(seed, numRuns)).maxCommands;
  const prop = fc.property(noopCommands(p, maxCommands), (cmds) => {
    const real = { n: 0 };
    fc.modelRun(() => ({ model: { n: 0 }, real }), cmds);
    t.runs++;
    t.commands += real.n;
    return true;
  });
  const t0 = now();
  fc.check(prop, { seed, numRuns });
  const d = since(t0);
  t.ms = d.wall;
  t.cpuMs = d.cpu;
  return t;
}

export function barePass(seed: number, runsPerProperty: number): PassTotals {
  let total = emptyTotals();
  for (const p of PROPERTIES) {
    const t = bareProperty(p, seed, runsPerProperty);
    total = addTotals(total, t);
  }
  return total;
}

/** barePass repeated until minMs of wall time have passed (one pass takes milliseconds); mean per pass. */
export function barePassSampled(seed: number, runsPerProperty: number, minMs: number): PassTotals {
  const first = barePass(seed, runsPerProperty);
  let ms = first.ms,
    cpuMs = first.cpuMs,
    n = 1;
  while (ms < minMs) {
    const t = barePass(seed, runsPerProperty);
    ms += t.ms;
    cpuMs += t.cpuMs;
    n++;
  }
  return { ...first, ms: ms / n, cpuMs: cpuMs / n };
}
