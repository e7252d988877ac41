// Section 5: peak heap, measured in child processes so each figure is that workload's alone.
// Each child runs under --trace-gc: V8 prints the heap in use before and after every
// collection, and the largest "before" is the peak heap (the heap is largest just before a
// collection). A preloaded probe (memory_probe.ts) adds peak RSS and the final heap at exit.
// The default verify is timed in the same child (wall clock, including tsx start-up).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchConfig } from './config.ts';
import { PROBE_MARK } from './probe_mark.ts';

export interface MemoryFigure {
  readonly workload: string;
  /** Largest heap in use seen before a collection, or at exit: MiB. */
  readonly peakHeapMiB: number;
  readonly peakRssMiB: number;
  readonly gcs: number;
  readonly wallMs: number;
  readonly exitCode: number | null;
  /** What the child printed last (verify's verdict line, or the scenario's summary). */
  readonly detail: string;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MiB = 2 ** 20;
const GC_LINE = /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: (?:[A-Za-z-]+ ?)+(?:\([^)]*\) )?([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

interface Probe {
  maxRssKiB: number;
  heapUsed: number;
  heapTotal: number;
}

/**
 * Per isolate (tsx's module loader runs in a worker thread with its own small heap), the
 * largest heap before a collection; the workload's isolate is the one that collected most.
 */
function parseGc(stdout: string): { peak: number; gcs: number } {
  const byIsolate = new Map<string, { peak: number; gcs: number }>();
  for (const line of stdout.split('\n')) {
    const m = GC_LINE.exec(line);
    if (!m) continue;
    const g = byIsolate.get(m[1]!) ?? { peak: 0, gcs: 0 };
    byIsolate.set(m[1]!, { peak: Math.max(g.peak, Number(m[2])), gcs: g.gcs + 1 });
  }
  return [...byIsolate.values()].reduce((a, b) => (b.gcs > a.gcs ? b : a), { peak: 0, gcs: 0 });
}

function parseProbe(stderr: string): Probe | null {
  const line = stderr.split('\n').find((l) => l.startsWith(PROBE_MARK));
  return line ? (JSON.parse(line.slice(PROBE_MARK.length)) as Probe) : null;
}

function lastLine(stdout: string, pick: (l: string) => boolean): string {
  return (
    stdout
      .split('\n')
      .filter((l) => l.trim() && !GC_LINE.test(l) && pick(l))
      .slice(-1)[0]
      ?.trim() ?? ''
  );
}

/** The error a crashed child printed, if any. */
function errorLine(stderr: string): string {
  return (
    stderr
      .split('\n')
      .find((l) => /^\w*Error\b/.test(l.trim()))
      ?.trim() ?? ''
  );
}

function measureChild(workload: string, args: readonly string[], pick: (l: string) => boolean): MemoryFigure {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './bench/memory_probe.ts', '--trace-gc', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * MiB,
  });
  const wallMs = performance.now() - t0;
  const gc = parseGc(r.stdout ?? '');
  const probe = parseProbe(r.stderr ?? '');
  return {
    workload,
    wallMs,
    exitCode: r.status,
    gcs: gc.gcs,
    peakHeapMiB: Math.max(gc.peak, (probe?.heapUsed ?? 0) / MiB),
    peakRssMiB: (probe?.maxRssKiB ?? 0) / 1024,
    detail: errorLine(r.stderr ?? '') || lastLine(r.stdout ?? '', pick),
  };
}

function verifyFigure(cfg: BenchConfig): MemoryFigure {
  const dir = mkdtempSync(join(tmpdir(), 'bench-verify-'));
  try {
    // --no-corpus: a counterexample goes to the temporary reports directory, not into test/corpus.
    const args = ['harness/cli.ts', '--reports', dir, '--no-corpus', ...cfg.memory.verifyArgs];
    const name = `npm run verify${cfg.memory.verifyArgs.length ? ' -- ' + cfg.memory.verifyArgs.join(' ') : ''} (default seed and budget)`;
    return measureChild(name, args, (l) => /^\s+\S+\s+(holds|fails|interrupted)\s/.test(l));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function scenarioFigure(cfg: BenchConfig): MemoryFigure {
  const m = cfg.memory;
  const name = `one scenario: ${m.cpus} CPUs, ${m.tds} TDs, ${m.length} commands (${m.updates} updates)`;
  return measureChild(name, ['bench/memory_child.ts', String(m.cpus), String(m.tds), String(m.length), String(m.updates)], (l) => l.startsWith('{'));
}

export function memory(cfg: BenchConfig, log: (s: string) => void): MemoryFigure[] {
  const out = [verifyFigure(cfg), scenarioFigure(cfg)];
  for (const f of out)
    log(
      `  ${f.workload}: peak heap ${f.peakHeapMiB.toFixed(0)} MiB, peak RSS ${f.peakRssMiB.toFixed(0)} MiB, ${(f.wallMs / 1000).toFixed(1)} s, exit ${f.exitCode}`,
    );
  return out;
}
