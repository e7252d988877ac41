// The CLI run in-process on input that must be refused: from an empty working directory, so
// that "nothing written" is "the directory is still empty"; stdout and stderr captured.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import { runCli } from '../../harness/cli/main.ts';

export const ROOT = join(import.meta.dirname, '../..');

export interface Sandbox {
  /** The working directory of every run: it must stay empty. */
  readonly work: string;
  /** Where a test puts the files it hands the CLI. */
  readonly inputs: string;
  readonly done: () => void;
}

export function sandbox(name: string): Sandbox {
  const top = mkdtempSync(join(tmpdir(), `verify-fuzz-${name}-`));
  const work = join(top, 'work'), inputs = join(top, 'inputs');
  mkdirSync(work);
  mkdirSync(inputs);
  const before = process.cwd();
  process.chdir(work);
  return { work, inputs, done: () => { process.chdir(before); rmSync(top, { recursive: true, force: true }); } };
}

export interface Outcome { readonly code: number; readonly err: readonly string[]; readonly out: readonly string[] }

/** One in-process run; anything printed with console.log counts as stdout. */
export async function cli(argv: readonly string[]): Promise<Outcome> {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    const code = await runCli(argv, { stopped: false, by: null, quitAtOnce: false }, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, err, out };
  } finally {
    log.mockRestore();
  }
}

const STACK = /\n\s+at |\.ts:\d+:\d+/;

/** Refused as the README promises: exit 2, one line on stderr and none on stdout, no stack trace, nothing written. */
export function expectRefused(r: Outcome, work: string, names?: string): void {
  expect(r.code, r.err.join('\n')).toBe(2);
  expect(r.err).toHaveLength(1);
  expect(r.err[0]).toMatch(/^verify: \S/);
  expect(r.err[0]).not.toContain('\n');
  expect(r.err[0]).not.toMatch(STACK);
  expect(r.out).toEqual([]);
  expect(readdirSync(work)).toEqual([]);
  if (names !== undefined) expect(r.err[0]).toContain(names);
}
