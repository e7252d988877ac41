// What a run writes to reports/: summary.json (the run as data: kernel, budget, seed,
// per-property status, counterexamples, coverage), junit.xml (one testcase per property, for CI
// dashboards) and one self-contained HTML page per counterexample (html.ts). Shard runs write
// the same summary as reports/shards/shard-i-of-n.json; `--merge` adds them up.
import { join } from 'node:path';
import type { CorpusEntry } from './corpus.ts';
import { writeReportAtomic } from './files.ts';
import { TOOL, TOOL_VERSION } from './version.ts';
import type { Status } from './verify.ts';

export interface CounterexampleSummary {
  readonly property: string;
  /** The corpus entry's name: `<property>-<content hash>`. */
  readonly name: string;
  readonly violation: { readonly id: string; readonly message: string; readonly step: number };
  readonly bug: string | null;
  readonly length: number;
  /** fast-check's coordinates (null when it came from a corpus entry). */
  readonly seed: number | null;
  readonly path: string | null;
  readonly shrinks: number | null;
  readonly minimize: { readonly runs: number; readonly steps: number; readonly complete: boolean } | null;
  /** Where the entry is (the corpus, or reports/counterexamples when not recording). */
  readonly file: string;
  readonly html: string;
  readonly replay: string;
  readonly replayPath: string | null;
  readonly entry: CorpusEntry;
}

export interface PropertySummary {
  readonly id: string;
  readonly status: Status;
  readonly runs: number;
  readonly requested: number;
  readonly commands: number;
  readonly ms: number;
  /** The seed this property ran with (a shard runs its chunk of each property with its own seed). */
  readonly seed: number;
  readonly firstFailure: { readonly runs: number; readonly commands: number } | null;
  readonly counterexample: {
    readonly name: string;
    readonly length: number;
    readonly violation: { readonly id: string; readonly message: string };
    readonly seed: number | null;
    readonly path: string | null;
    readonly shrinks: number | null;
    readonly file: string;
    readonly replay: string;
    readonly scenario: unknown;
  } | null;
}

export interface Summary {
  readonly tool: string;
  readonly version: string;
  readonly kernel: string;
  readonly budget: string;
  readonly seed: number;
  readonly fault: string | null;
  readonly cpus: number | null;
  readonly shard: { readonly index: number; readonly count: number } | null;
  /** The properties the run was asked for, in order (a shard may run only some of them). */
  readonly propertySet: readonly string[];
  /** Set for `--replay FILE` runs. */
  readonly replay: string | null;
  /** Shards merged into this summary (`--merge`). */
  readonly merged: readonly string[] | null;
  readonly status: Status;
  readonly exit: number;
  readonly properties: readonly PropertySummary[];
  readonly counterexamples: readonly CounterexampleSummary[];
  readonly coverage: Readonly<Record<string, number>>;
  /** With `--blobs DIR`: the blobs read, and the runs whose uploads used one and how they ended. */
  readonly blobs?: BlobsSummary;
}

export interface BlobsSummary {
  readonly dir: string;
  readonly files: number;
  readonly uploads: number;
  readonly applied: number;
  readonly refused: number;
  readonly lost: number;
}

export function summaryBase(): Pick<Summary, 'tool' | 'version'> {
  return { tool: TOOL, version: TOOL_VERSION };
}

/** The worst status: a counterexample outranks a stop, which outranks an exhausted budget. */
export function worst(statuses: readonly Status[]): Status {
  for (const s of ['fails', 'interrupted', 'exhausted'] as const) if (statuses.includes(s)) return s;
  return 'holds';
}

const xml = (s: string): string =>
  s
    .replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 has no escape for most control characters: drop them.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** JUnit XML: one testcase per property; a counterexample is a failure whose message is the violation and the replay line. */
export function junitXml(s: Summary, details: ReadonlyMap<string, string> = new Map()): string {
  const failures = s.properties.filter((p) => p.status === 'fails').length;
  const errors = s.properties.filter((p) => p.status === 'interrupted').length;
  const time = (ms: number) => (ms / 1000).toFixed(3);
  const fault = s.fault ? ` fault=${s.fault}` : '';
  const shard = s.shard ? ` shard=${s.shard.index}/${s.shard.count}` : '';
  const name = `${s.tool} kernel=${s.kernel} budget=${s.budget} seed=${s.seed}${fault}${shard}`;
  const cases = s.properties.map((p) => {
    const open = `    <testcase classname="verify.${xml(s.kernel)}" name="${xml(p.id)}" time="${time(p.ms)}">`;
    const out = `      <system-out>${xml(`${p.runs} of ${p.requested} runs, ${p.commands} commands, seed ${p.seed}`)}</system-out>`;
    const cx = p.counterexample;
    if (p.status === 'fails' && cx) {
      const msg = `${cx.violation.id}: ${cx.violation.message} | replay: ${cx.replay}`;
      return [
        open,
        `      <failure message="${xml(msg)}" type="${xml(cx.violation.id)}">${xml(details.get(cx.name) ?? msg)}</failure>`,
        out,
        '    </testcase>',
      ].join('\n');
    }
    if (p.status === 'interrupted')
      return [
        open,
        `      <error message="interrupted (${s.exit === 143 ? 'SIGTERM' : 'SIGINT'}) after ${p.runs} of ${p.requested} runs" type="interrupted"/>`,
        out,
        '    </testcase>',
      ].join('\n');
    if (p.status === 'exhausted')
      return [open, `      <skipped message="time budget ran out after ${p.runs} of ${p.requested} runs; no counterexample"/>`, out, '    </testcase>'].join(
        '\n',
      );
    return [open, out, '    </testcase>'].join('\n');
  });
  const total = s.properties.reduce((n, p) => n + p.ms, 0);
  const skipped = s.properties.filter((p) => p.status === 'exhausted').length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(s.tool)}" tests="${s.properties.length}" failures="${failures}" errors="${errors}" time="${time(total)}">`,
    `  <testsuite name="${xml(name)}" tests="${s.properties.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time(total)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** summary.json and junit.xml (or the shard's own summary), each written atomically. */
export function writeSummary(dir: string, s: Summary, details?: ReadonlyMap<string, string>): string[] {
  if (s.shard) {
    const file = join(dir, 'shards', `shard-${s.shard.index}-of-${s.shard.count}.json`);
    writeReportAtomic(file, JSON.stringify(s, null, 2) + '\n');
    return [file];
  }
  writeReportAtomic(join(dir, 'summary.json'), JSON.stringify(s, null, 2) + '\n');
  writeReportAtomic(join(dir, 'junit.xml'), junitXml(s, details));
  return [join(dir, 'summary.json'), join(dir, 'junit.xml')];
}
