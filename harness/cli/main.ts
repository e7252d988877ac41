// The CLI's entry function: the arguments parsed, the mode run, and every bad input or
// failed write turned into one line on stderr and exit 2 (never a stack trace). `runCli`
// runs in-process (test/cli/ fuzzes it); `start` is what harness/cli.mjs and harness/cli.ts call.
import { CorpusError } from '../corpus.ts';
import { errorLine, InputError } from '../schema.ts';
import { BlobsError, loadBlobs } from '../blobs.ts';
import { HELP, HelpRequest, parse, UsageError, type Cli } from './args.ts';
import { printList, runAllKernels, runFaults } from './faults.ts';
import { JobError, runJobs } from './jobs.ts';
import { runMerge } from './merge.ts';
import { writeFailure } from './record.ts';
import { runReplay } from './replay.ts';
import { runVerify } from './run.ts';
import { armSignals, type Listen, listenProcess, stopExit, type Stop, type StopName } from './stop.ts';

export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const processIo: Io = { out: (l) => console.log(l), err: (l) => console.error(l) };

async function dispatch(argv: readonly string[], stop: Stop): Promise<number> {
  const cli = withBlobs(parse(argv));
  // Only the main run and --kernel all poll the stop; the other modes end at the first signal.
  const pollsStop = !cli.list && !cli.merge && !cli.faults && cli.replay === null;
  if (!pollsStop) {
    if (stop.by) return stopExit(stop.by);
    stop.quitAtOnce = true;
  }
  if (cli.list) {
    printList();
    return 0;
  }
  if (cli.merge) return runMerge(cli, cli.merge);
  if (cli.faults) return runFaults(cli);
  if (cli.allKernels) return runAllKernels(cli, stop);
  if (cli.replay !== null) return runReplay(cli, cli.replay);
  if (cli.jobs > 1) return runJobs(cli, argv, stop);
  return runVerify(cli, stop);
}

/** `--blobs DIR`: the blobs are read and registered before anything runs; the generators draw them. */
function withBlobs(cli: Cli): Cli {
  if (cli.blobs === null) return cli;
  const loaded = loadBlobs(cli.blobs);
  return { ...cli, options: { ...cli.options, realReleases: loaded.blobs.map((b) => b.release) }, blobFiles: loaded.blobs.length };
}

/** The one line a bad input or an unwritable directory gives, or null for a real failure. */
function problemLine(e: unknown): string | null {
  if (e instanceof UsageError) return `verify: ${e.message} (npm run verify -- --help)`;
  if (e instanceof InputError || e instanceof CorpusError || e instanceof BlobsError || e instanceof JobError) return `verify: ${e.message}`;
  const w = writeFailure(e);
  return w ? `verify: ${w}` : null;
}

/** Run the CLI on `argv`; returns the exit code. Anything but bad input or a write failure is rethrown. */
export async function runCli(argv: readonly string[], stop: Stop, io: Io = processIo): Promise<number> {
  try {
    return await dispatch(argv, stop);
  } catch (e) {
    if (e instanceof HelpRequest) {
      io.out(HELP);
      return 0;
    }
    const line = problemLine(e);
    if (line === null) throw e;
    io.err(errorLine(line));
    return 2;
  }
}

/** The process's entry: signals armed first (replaying those caught before), then the run. */
export async function start(argv: readonly string[], early: readonly StopName[] = [], listen: Listen = listenProcess): Promise<void> {
  const stop = armSignals(early, listen, (l) => process.stderr.write(`\n${l}\n`));
  // `npm run verify | head`: a closed pipe ends the output, not the run (the reports still get written).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  const code = await runCli(argv, stop);
  // Everything is written by now. fast-check may leave its time limit's timer behind when it
  // throws (a --path it cannot replay), which would hold the process for the whole limit.
  process.exit(code);
}
