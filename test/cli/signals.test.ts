// SIGINT and SIGTERM to a real `verify` process (harness/cli.mjs, as `npm run verify` runs
// it): at 0.1 s (before the TypeScript has loaded), at 1 s (mid-search) and while a seeded
// fault's counterexample is being shrunk, the reports of what ran are written and the exit
// code is 128 + the signal (130, 143), or 1 when a counterexample was found first. A second
// signal quits at once.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.ts';

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
  readonly err: string;
  readonly reports: string;
}

/**
 * Whether the process keeps signals yet: harness/cli.mjs names itself once its handlers are
 * in. Before node runs its first line of JavaScript nothing can catch them, and on a loaded
 * machine that takes more than 0.1 s, so a timed signal waits for this too.
 */
function armed(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('tdx-update-verify');
  } catch {
    return true; // no /proc, or it has ended: send it anyway
  }
}

/** Send `s` to `child` at `ms` after its start, or as soon after as it catches signals; then those of `more`. */
function sendAt(child: ChildProcess, ms: number, s: NodeJS.Signals, more: readonly NodeJS.Signals[] = []): void {
  const poll = () => (child.exitCode === null && !armed(child.pid!) ? setTimeout(poll, 5) : [s, ...more].forEach((x) => child.kill(x)));
  setTimeout(poll, ms);
}

/** `verify` with `args`; `when(out, send)` decides, on each chunk of stdout, when to send what. */
function verify(
  args: readonly string[],
  when: (out: string, send: (s: NodeJS.Signals) => void) => void,
  atMs?: [number, NodeJS.Signals, ...NodeJS.Signals[]][],
): Promise<Ended> {
  const dir = mkdtempSync(join(tmpdir(), 'verify-signal-'));
  const reports = join(dir, 'reports');
  const child = spawn(process.execPath, ['harness/cli.mjs', ...args, '--reports', reports, '--corpus', join(dir, 'corpus')], { cwd: ROOT });
  let out = '',
    err = '';
  const send = (s: NodeJS.Signals) => void child.kill(s);
  for (const [ms, s, ...more] of atMs ?? []) sendAt(child, ms, s, more);
  child.stdout.on('data', (d) => {
    out += d;
    when(out, send);
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, out, err, reports })));
}

const summary = (e: Ended) => JSON.parse(readFileSync(join(e.reports, 'summary.json'), 'utf8'));
const LONG = ['--property', 'corrupt-images,concurrency', '--budget', 'deep', '--progress', '0.2'];
const never = () => {};

describe('signals keep the results', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s at 0.1 s: a summary that says nothing ran, exit %i',
    async (sig, code) => {
      const e = await verify(LONG, never, [[100, sig]]);
      expect(e.signal).toBeNull();
      expect(e.code).toBe(code);
      expect(e.err).toContain(`verify: ${sig}: stopping`);
      const s = summary(e);
      expect(s).toMatchObject({ status: 'interrupted', exit: code, counterexamples: [] });
      expect(s.properties.map((p: { id: string }) => p.id)).toEqual(['corrupt-images', 'concurrency']);
      expect(existsSync(join(e.reports, 'junit.xml'))).toBe(true);
    },
    60_000,
  );

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s at 1 s, mid-search: the runs done so far in the reports, exit %i',
    async (sig, code) => {
      const e = await verify(LONG, never, [[1000, sig]]);
      expect(e.code).toBe(code);
      const s = summary(e);
      expect(s).toMatchObject({ status: 'interrupted', exit: code });
      expect(s.properties[0]).toMatchObject({ id: 'corrupt-images', status: 'interrupted', requested: 3000 });
      expect(s.properties[0].runs).toBeLessThan(3000);
      expect(e.out).toMatch(new RegExp(`stopped by ${sig} (after|before)`));
    },
    60_000,
  );

  it("SIGTERM within one scenario's schedules (--explore on 32 CPUs, minutes each): heard, the progress line said it was working, exit 143", async () => {
    // the first progress line comes before the first scenario's schedules end: send it then
    let sent = false;
    const args = ['--property', 'update-contract', '--scheduler', 'exhaustive', '--explore', '--cpus', '32', '--commands', '1', '--progress', '0.2'];
    const e = await verify(args, (out, send) => {
      if (!sent && /progress: 0\/\d+ runs/.test(out)) send('SIGTERM');
      sent ||= /progress: 0\/\d+ runs/.test(out);
    });
    expect(e.code).toBe(143);
    expect(summary(e)).toMatchObject({ status: 'interrupted', exit: 143 });
    expect(summary(e).properties[0]).toMatchObject({ id: 'update-contract', status: 'interrupted' });
  }, 60_000);

  it('SIGTERM while a counterexample is shrunk: it is kept and reported, exit 1', async () => {
    // the search ends at the first failure; "1 failure" on the progress line means shrinking has begun
    // once: every later chunk of output would send it again, and a second signal quits at once
    let sent = false;
    const e = await verify(['--fault', 'B21', '--seed', '1', '--progress', '0.02'], (out, send) => {
      if (!sent && /, 1 failure,/.test(out)) send('SIGTERM');
      sent ||= /, 1 failure,/.test(out);
    });
    expect(e.code).toBe(1);
    const s = summary(e);
    expect(s).toMatchObject({ status: 'fails', exit: 1 });
    expect(s.counterexamples).toHaveLength(1);
    expect(existsSync(s.counterexamples[0].html)).toBe(true);
  }, 60_000);

  it('SIGTERM to npm (what CI sends on a timeout) reaches verify: reports written, exit 143', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verify-signal-npm-'));
    const reports = join(dir, 'reports');
    const args = ['run', '--silent', 'verify', '--', ...LONG, '--reports', reports, '--corpus', join(dir, 'corpus')];
    const child = spawn('npm', args, { cwd: ROOT });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('tdx-update-verify: kernel') && !child.killed) child.kill('SIGTERM');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(143);
    expect(JSON.parse(readFileSync(join(reports, 'summary.json'), 'utf8'))).toMatchObject({ status: 'interrupted', exit: 143 });
  }, 60_000);

  it('a second signal quits at once: two before the run starts end it with nothing written', async () => {
    // caught while the TypeScript loads, replayed in order when the CLI starts: the second exits
    // with the first's code (two of the same kind sent at once may reach a process as one; two
    // kinds never do, but node's threads may take them in either order)
    const e = await verify(LONG, never, [[100, 'SIGINT', 'SIGTERM']]);
    const said = `stdout: ${e.out}\nstderr: ${e.err}`;
    expect(e.signal, said).toBeNull();
    const first = e.code === 143 ? 'SIGTERM' : 'SIGINT';
    expect(e.code, said).toBe(first === 'SIGTERM' ? 143 : 130);
    expect(e.err, said).toContain(`verify: ${first}: stopping`);
    expect(e.out, said).toBe('');
    expect(existsSync(join(e.reports, 'summary.json'))).toBe(false);
  }, 60_000);
});
