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
  const work = join(top, 'work'),
    inputs = join(top, 'inputs');
  mkdirSync(work);
  mkdirSync(inputs);
  const before = process.cwd();
  process.chdir(work);
  return {
    work,
    inputs,
    done: () => {
      process.chdir(before);
      rmSync(top, { recursive: true, force: true });
    },
  };
}

export interface Outcome {
  readonly code: number;
  readonly err: readonly string[];
  readonly out: readonly string[];
}

/** One in-process run; anything printed with console.log counts as stdout. */
export async function cli(argv: readonly string[]): Promise<Outcome> {
  const out: string[] = [],
    err: string[] = [];
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

// ---- mutating JSON ----

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path to a value in `v`, with the value. */
export function paths(v: Json, at: (string | number)[] = []): [(string | number)[], Json][] {
  const here: [(string | number)[], Json][] = [[at, v]];
  if (Array.isArray(v)) return here.concat(v.flatMap((x, i) => paths(x, [...at, i])));
  if (v && typeof v === 'object') return here.concat(Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k])));
  return here;
}

export function setAt(root: Json, at: readonly (string | number)[], value: Json): Json {
  if (at.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let o = copy;
  for (const k of at.slice(0, -1)) o = o[k] as Record<string | number, Json>;
  Object.defineProperty(o, at.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** A value no field of its kind accepts in place of `v`. */
export function wrongType(v: Json): Json[] {
  if (typeof v === 'number') return ['7', true, [], {}];
  // never null for a string, nor a number for null: some fields are nullable strings or numbers
  if (typeof v === 'string') return [7, false, [v], {}];
  if (typeof v === 'boolean') return [0, 'true', null];
  if (v === null) return [true, [], {}];
  return Array.isArray(v) ? [{}, 'list', 1] : [[], 'object', 1];
}

/** `o` with one more key (own and enumerable, even when it is `__proto__`). */
export function withKey(o: Json, k: string, x: Json): Json {
  const copy = { ...(o as Record<string, Json>) };
  Object.defineProperty(copy, k, { value: x, enumerable: true, writable: true, configurable: true });
  return copy;
}
