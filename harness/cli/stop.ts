// SIGINT (Ctrl-C) and SIGTERM (what CI sends on a timeout). The first one stops the run
// cleanly: every phase polls `stopped` (harness/verify.ts) and the reports of what ran are
// written, then the exit code is 128 + the signal's number (130, 143). A second one quits at
// once. Modes that cannot stop cleanly (`quitAtOnce`) exit at the first.
import { constants } from 'node:os';
import type { StopSignal } from '../verify.ts';

export type StopName = 'SIGINT' | 'SIGTERM';

export interface Stop extends StopSignal {
  /** The first signal received, or null. */
  by: StopName | null;
  /** Set by a mode that does not poll `stopped`: the first signal exits at once. */
  quitAtOnce: boolean;
}

/** 128 + the signal's number, as a shell reports a process ended by it. */
export function stopExit(by: StopName): number {
  return 128 + constants.signals[by];
}

/** Where the handler goes: harness/cli.mjs redirects the listeners it installed first. */
export type Listen = (handler: (by: StopName) => void) => void;

/** Listen on the process itself (an entry that caught nothing before). */
export const listenProcess: Listen = (handler) => {
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
};

/**
 * Install the handler; signals that arrived before (caught by harness/cli.mjs while the
 * TypeScript loaded) are replayed in order first.
 */
export function armSignals(early: readonly StopName[], listen: Listen, err: (line: string) => void): Stop {
  const stop: Stop = { stopped: false, by: null, quitAtOnce: false };
  const handler = (by: StopName) => {
    if (stop.stopped || stop.quitAtOnce) process.exit(stopExit(stop.by ?? by));
    stop.stopped = true;
    stop.by = by;
    const again = by === 'SIGINT' ? 'Ctrl-C' : 'the signal';
    err(`verify: ${by}: stopping; finishing the current run, keeping any counterexample, writing the reports (${again} again quits at once)`);
  };
  for (const by of early) handler(by);
  listen(handler);
  return stop;
}
