// `--jobs N`: the run as N shards (`--shard I/N`, harness/shard.ts) side by side, each a child
// process of this CLI, then `--merge` of their files (merge.ts): what "Long runs" in the README
// does by hand, in one command. The children write their reports under <reports>/jobs/I and
// record no corpus entry (the merge records each counterexample once). Their progress lines and
// their stderr come through with their shard in front. A signal stops them cleanly: a
// terminal's Ctrl-C reaches them with this process; one sent to this process alone is passed
// on to any child that has not said it is stopping. What they wrote is merged, and the exit
// code is the signal's.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Cli } from './args.ts';
import { checkCorpus } from './record.ts';
import { runMerge } from './merge.ts';
import { stopExit, type Stop } from './stop.ts';

const ENTRY = fileURLToPath(new URL('../cli.mjs', import.meta.url));
/** The flags each child gets its own value of: they are taken out of the parent's. */
const PER_CHILD = new Set(['--jobs', '--reports', '--progress', '--corpus']);
/** How long a child has to say it is stopping before the signal is passed on to it. */
const PASS_ON_MS = 2000;

function childArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.split('=')[0]!;
    if (!PER_CHILD.has(name)) out.push(argv[i]!);
    else if (!argv[i]!.includes('=')) i++; // and its value
  }
  return out.filter((a) => a !== '--no-corpus');
}

/** Exit codes of a child that ran: its summary is there to merge. Any other is a failure. */
const RAN = [0, 1, 130, 143];

interface Job {
  readonly i: number;
  readonly child: ChildProcess;
  readonly exit: Promise<number>;
  /** The child said it is stopping (its first signal reached it). */
  stopping: boolean;
  /**
   * Its last stderr line, held back until another comes or it exits: a child that fails on bad
   * input says so in its last line, and the run's one line (JobError) quotes it instead.
   */
  held: string | null;
}

function startJob(cli: Cli, argv: readonly string[], i: number, n: number): Job {
  const dir = join(cli.reports, 'jobs', String(i));
  const args = [ENTRY, ...childArgs(argv), '--shard', `${i}/${n}`, '--reports', dir, '--no-corpus', '--progress', String(cli.progressMs / 1000)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const say = (line: string) => console.error(`[shard ${i}/${n}] ${line}`);
  const exit = new Promise<number>((resolve) =>
    child.on('close', (code) => {
      if (job.held !== null && RAN.includes(code ?? 2)) say(job.held);
      resolve(code ?? 2);
    }),
  );
  const job: Job = { i, child, exit, stopping: false, held: null };
  // Of its output only the progress lines: the merge prints the table, coverage and counterexamples.
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (/^\s*progress: /.test(line)) console.log(`[shard ${i}/${n}] ${line.trim()}`);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (!line.trim()) return;
    job.stopping ||= / stopping; /.test(line);
    if (job.held !== null) say(job.held);
    job.held = line;
  });
  return job;
}

/** Pass the first signal on to every child that has not said it is stopping, once. */
function passOnSignal(jobs: readonly Job[], stop: Stop): () => void {
  let passed = false;
  const poll = setInterval(() => {
    if (passed || !stop.by) return;
    passed = true;
    setTimeout(() => {
      for (const j of jobs) if (!j.stopping && j.child.exitCode === null) j.child.kill(stop.by!);
    }, PASS_ON_MS);
  }, 100);
  return () => clearInterval(poll);
}

export async function runJobs(cli: Cli, argv: readonly string[], stop: Stop): Promise<number> {
  const n = cli.jobs;
  // the merge at the end records into them: a bad corpus or reports directory is refused before the children run
  checkCorpus(cli);
  console.log(`tdx-update-verify: ${n} jobs, each a shard (--shard I/${n}), then merged; their reports under ${join(cli.reports, 'jobs')}`);
  const jobs = Array.from({ length: n }, (_, k) => startJob(cli, argv, k + 1, n));
  const done = passOnSignal(jobs, stop);
  const codes = await Promise.all(jobs.map((j) => j.exit));
  done();
  const failed = jobs.find((j) => !RAN.includes(codes[j.i - 1]!));
  if (failed) throw new JobError(`shard ${failed.i}/${n} failed (exit ${codes[failed.i - 1]}): ${failed.held ?? 'no message'}`);
  const files = jobs.map((j) => join(cli.reports, 'jobs', String(j.i), 'shards', `shard-${j.i}-of-${n}.json`));
  const missing = files.find((f) => !existsSync(f));
  if (missing) throw new JobError(`a shard wrote no summary: ${missing}`);
  const code = runMerge(cli, files);
  return stop.by ? stopExit(stop.by) : code;
}

/** A child that failed: one line, exit 2. */
export class JobError extends Error {}
